"""Upload path: peak memory of the web process and bytes it writes to disk for one big upload.

Starts a real gunicorn (one gthread worker, as `manage.py serve` runs it) on a
throwaway data dir, then POSTs one multipart upload of --size bytes to
/api/assets over a loopback socket, with a Content-Length, as a browser does.
The uploaded file is a real MP4 (a short generated clip) followed by a top-level
MP4 `free` box that pads it to the size, so the upload probes as a video and
becomes an asset. The body is generated while it is sent: nothing is written
to disk on the client side.

While the upload runs, the worker's resident memory is sampled every 20 ms;
/proc/<pid>/io `write_bytes` of the gunicorn master and worker before and after
give the bytes the web process caused to be written to storage.

    .venv/bin/python bench/upload_path.py               # 2 GiB
    .venv/bin/python bench/upload_path.py --size 512M
    MEDIAHUB_STORAGE_URL=s3+http://KEY:SECRET@127.0.0.1:PORT/BUCKET .venv/bin/python bench/upload_path.py --size 1G
                                                        # through a staging file to an S3 bucket

Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
SEND_CHUNK = 1 << 20


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, default=parse_size("2G"), help="bytes to upload (e.g. 2G, 512M)")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a temporary folder, removed after")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def small_clip() -> bytes:
    sys.path.insert(0, str(REPO))
    from workers.ml.demo.video import write_world_video
    from workers.ml.demo.world import Scene

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        write_world_video(path, [Scene(shape="circle", colour="red", background="blue", duration=2.0, seed=3)])
        # A unique clip per run, so the upload is never answered as a duplicate of an earlier one.
        return path.read_bytes() + free_box(16 + 16) + uuid.uuid4().bytes


def free_box(total: int) -> bytes:
    """The header of a top-level MP4 `free` box of `total` bytes (64-bit size); the content follows."""
    return struct.pack(">I4sQ", 1, b"free", total)


def body_parts(size: int, boundary: str) -> tuple[bytes, int, bytes]:
    """(head, padding bytes, tail) of a multipart body whose `file` part is exactly `size` bytes."""
    clip = small_clip()
    padding = size - len(clip) - 16
    if padding < 0:
        raise SystemExit(f"--size must be at least {len(clip) + 16} bytes")
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nupload bench\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode() + clip + free_box(16 + padding)
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, padding, tail


def manage(data_dir: Path, *args: str, env: dict) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


def write_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start listening")


def warm_up(port: int, token: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/api/assets", headers={"Authorization": f"Token {token}"})
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"GET /api/assets answered {response.status}")


def upload(port: int, token: str, size: int) -> tuple[int, dict, float]:
    boundary = uuid.uuid4().hex
    head, padding, tail = body_parts(size, boundary)
    zeros = bytes(SEND_CHUNK)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.monotonic()
    conn.putrequest("POST", "/api/assets")
    conn.putheader("Authorization", f"Token {token}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + padding + len(tail)))
    conn.endheaders()
    conn.send(head)
    left = padding
    while left:
        piece = zeros if left >= SEND_CHUNK else zeros[:left]
        conn.send(piece)
        left -= len(piece)
    conn.send(tail)
    response = conn.getresponse()
    body = json.loads(response.read() or b"{}")
    return response.status, body, time.monotonic() - started


def main() -> None:
    args = parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="mediahub-upload-bench-"))
    env = {**os.environ, "MEDIAHUB_DATA_DIR": str(data_dir), "MEDIAHUB_CLIP_MODEL": "demo",
           "DJANGO_SETTINGS_MODULE": "mediahub.settings"}
    sys.path.insert(0, str(REPO))
    from mediahub.embedded import Services

    services = Services(data_dir)  # the embedded Postgres and Redis, started here and stopped at the end
    services.attach()
    try:
        run(args, data_dir, env)
    finally:
        services.detach()
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)


def run(args, data_dir: Path, env: dict) -> None:
    manage(data_dir, "migrate", "--noinput", env=env)
    manage(data_dir, "createsuperuser", "--noinput", env={**env, "DJANGO_SUPERUSER_USERNAME": "bench",
                                                          "DJANGO_SUPERUSER_PASSWORD": "bench-password-1",
                                                          "DJANGO_SUPERUSER_EMAIL": "bench@example.org"})
    token = manage(data_dir, "create_api_token", "bench", env=env).splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mediahub.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--worker-class", "gthread", "--timeout", "600",
         "--no-control-socket"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port)
        master = psutil.Process(server.pid)
        worker = master.children()[0]
        warm_up(port, token)  # the app is loaded and has answered once before memory is measured
        pids = [server.pid, worker.pid]
        idle_rss = worker.memory_info().rss
        before = {pid: write_bytes(pid) for pid in pids}
        peak, sampling = [idle_rss], threading.Event()

        def sample():
            while not sampling.is_set():
                peak[0] = max(peak[0], worker.memory_info().rss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        status, body, seconds = upload(port, token, args.size)
        sampling.set()
        sampler.join()
        written = sum(write_bytes(pid) - before[pid] for pid in pids)
        originals = list((data_dir / "media" / "originals").glob("*"))
        staging = list((data_dir / "staging").glob("*")) if (data_dir / "staging").exists() else []
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if status != 201:
        raise SystemExit(f"upload answered {status}: {body}")
    gib = 1 << 30
    print(f"| upload | web process RSS idle → peak | written to disk by the web process | copies | time |")
    print("|---|---|---|---|---|")
    print(f"| {args.size / gib:.2f} GiB | {idle_rss / 2**20:.0f} → {peak[0] / 2**20:.0f} MiB | "
          f"{written / gib:.2f} GiB | {written / args.size:.2f} | {seconds:.1f} s ({args.size / seconds / 2**20:.0f} MiB/s) |")
    print(f"\nasset {body.get('id')}, sha256 {body.get('sha256', '')[:12]}…; files in originals/: {len(originals)}, "
          f"in staging/: {len(staging)}")


if __name__ == "__main__":
    main()
