"""Media through a real nginx in front of the app: X-Accel-Redirect turned into bytes, ranges included."""

import os
import shutil
import socket
import subprocess
import time

import pytest
import requests
from django.conf import settings

from mediahub.core.services import api_token_create
from tests.assets.test_media_serving import CONTENT, nginx_sendfile, stored_asset  # noqa: F401 (fixtures)

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nginx_in_front(live_server, tmp_path):
    if NGINX is None:  # a missing front server must fail the suite, not quietly skip its test
        pytest.fail("nginx is not installed: `apt-get install -y nginx-light` (make test does this when it may)")
    port = _free_port()
    (tmp_path / "logs").mkdir()
    config = tmp_path / "nginx.conf"
    # The README's snippet, with paths of this test run.
    config.write_text(f"""
user root;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/logs/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        location /protected-media/ {{
            internal;
            alias {settings.MEDIA_ROOT}/;
        }}
        location / {{
            proxy_pass {live_server.url};
            proxy_set_header Host 127.0.0.1;
            proxy_request_buffering off;
        }}
    }}
}}
""")
    server = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(config), "-g", "daemon off;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"nginx did not start: {server.stderr.read().decode()}")
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=20)


def test_nginx_sends_the_bytes_the_app_hands_over(nginx_in_front, stored_asset, nginx_sendfile, owner):  # noqa: F811
    headers = {"Authorization": f"Token {api_token_create(user=owner)}"}
    url = f"{nginx_in_front}/assets/{stored_asset.pk}/media"
    part = requests.get(url, headers={**headers, "Range": "bytes=1000-1999"}, timeout=10)
    assert part.status_code == 206 and part.content == CONTENT[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(CONTENT)}"
    assert part.headers["Content-Type"] == "video/mp4" and "X-Accel-Redirect" not in part.headers
    whole = requests.get(url, headers=headers, timeout=10)
    assert whole.status_code == 200 and whole.content == CONTENT
    assert requests.get(url, timeout=10, allow_redirects=False).status_code == 302  # still needs a login
    hidden = requests.get(f"{nginx_in_front}/protected-media/{stored_asset.original.name}", headers=headers, timeout=10)
    assert hidden.status_code == 404  # the internal location is not reachable from outside
