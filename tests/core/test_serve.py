"""`make run`'s command on a fresh data dir: serves, processes a 60 s upload, stops cleanly on Ctrl-C,
and restarts what dies under it."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg
import pytest
import requests

from mediahub.core.management.commands.serve import QUICK_DEATH_SECONDS, QUICK_DEATHS_TO_GIVE_UP
from mediahub.embedded import EmbeddedPostgres, EmbeddedRedis
from tests.conftest import REPO
from workers.ml.demo.video import write_world_video
from workers.ml.demo.world import Scene

pytestmark = pytest.mark.worker


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def data_dir():
    path = Path(tempfile.mkdtemp(prefix="mh-serve-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def clean_env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(MEDIAHUB_DATA_DIR=str(data_dir), MEDIAHUB_CLIP_MODEL="demo", **extra)
    return env


def manage(data_dir: Path, *args: str, **env) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=clean_env(data_dir, **env),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def wait_healthy(base: str, server: subprocess.Popen, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "manage.py serve exited early"
        try:
            body = requests.get(f"{base}/api/health", timeout=2).json()
            if body["status"] == "ok" and body["workers"] >= 1:
                return body
        except (requests.RequestException, ValueError):  # not up yet, or still loading
            pass
        time.sleep(0.5)
    raise AssertionError("mediahub did not become healthy with a worker")


def processes_using(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        try:
            text = " ".join(process.info["cmdline"] or []) + str((process.info["environ"] or {}).get("MEDIAHUB_DATA_DIR", ""))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if str(data_dir) in text and process.pid != os.getpid():
            found.append(process)
    return found


def serve_start(data_dir: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "manage.py", "serve"], cwd=REPO,
                                  env=clean_env(data_dir, PORT=str(port)), stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    return server, f"http://127.0.0.1:{port}"


def serve_stop_and_check_nothing_outlives_it(server: subprocess.Popen, data_dir: Path, log_path: Path) -> None:
    os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    server.wait(timeout=60)
    deadline = time.monotonic() + 5  # the kernel may take a moment to reap what `serve` stopped
    while processes_using(data_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_using(data_dir) == [], log_path.read_text()[-3000:]
    assert not EmbeddedPostgres(data_dir).is_running() and not EmbeddedRedis(data_dir).is_running()


def editor_headers(data_dir: Path) -> dict:
    manage(data_dir, "createsuperuser", "--noinput", DJANGO_SUPERUSER_USERNAME="editor",
           DJANGO_SUPERUSER_PASSWORD="a long passphrase", DJANGO_SUPERUSER_EMAIL="e@example.org")
    return {"Authorization": f"Token {manage(data_dir, 'create_api_token', 'editor').strip()}"}


def upload(base: str, headers: dict, video: Path) -> int:
    with open(video, "rb") as handle:
        created = requests.post(f"{base}/api/assets", files={"file": handle}, headers=headers, timeout=60)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def upload_until_done(base: str, headers: dict, video: Path) -> dict:
    return asset_wait_done(base, headers, upload(base, headers, video))


def asset_wait_done(base: str, headers: dict, asset_id: int) -> dict:
    deadline = time.monotonic() + 300
    while (asset := requests.get(f"{base}/api/assets/{asset_id}", headers=headers,
                                 timeout=5).json())["status"] not in ("ready", "failed"):
        assert time.monotonic() < deadline, asset
        time.sleep(1)
    return asset


def frames_and_vectors(data_dir: Path, asset_id: int) -> tuple[int, int]:
    with psycopg.connect(EmbeddedPostgres(data_dir).url) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM assets_frame WHERE asset_id = %(id)s),"
            " (SELECT count(*) FROM search_frameembedding WHERE asset_id = %(id)s)", {"id": asset_id}).fetchone()


def test_serve_runs_everything_processes_a_60s_upload_and_stops_cleanly_on_ctrl_c(data_dir, tmp_path):
    server, base = serve_start(data_dir, tmp_path / "serve.log")
    try:
        wait_healthy(base, server)
        assert "/accounts/login/" in requests.get(base + "/", timeout=5).url  # pages need a login
        # Ingest yields the CPU to people's requests: every process of the worker (its pool included) runs at a
        # lower priority than every process of the web server.
        worker, web = (process_tree(child_of(server, word)) for word in ("celery", "gunicorn"))
        assert len(worker) > 1 and len(web) > 1  # the pool and the web workers are counted, not only their parents
        assert min(p.nice() for p in worker) > max(p.nice() for p in web)
        headers = editor_headers(data_dir)

        video = tmp_path / "sixty.mp4"
        scenes = [Scene(shape=s, colour=c, background="black", duration=10.0, seed=i)
                  for i, (s, c) in enumerate([("circle", "red"), ("square", "green"), ("triangle", "blue"),
                                              ("star", "yellow"), ("cross", "white"), ("diamond", "orange")])]
        write_world_video(video, scenes, fps=10, width=320, height=240)
        asset = upload_until_done(base, headers, video)
        assert asset["status"] == "ready", asset["error"]
        assert {"circle", "square", "triangle", "star", "cross", "diamond"} <= {t["label"] for t in asset["tags"]}
        assert frames_and_vectors(data_dir, asset["id"]) == (60, 60)
    finally:
        serve_stop_and_check_nothing_outlives_it(server, data_dir, tmp_path / "serve.log")


def child_of(server: subprocess.Popen, word: str) -> psutil.Process:
    """The process `serve` started whose command line names `word` (celery / gunicorn)."""
    return next(child for child in psutil.Process(server.pid).children() if word in " ".join(child.cmdline()))


def process_tree(process: psutil.Process) -> list[psutil.Process]:
    return [process, *process.children(recursive=True)]


def wait_for_log(log_path: Path, sentence: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sentence not in log_path.read_text():
        assert server.poll() is None, log_path.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{sentence!r} not in the log:\n{log_path.read_text()[-3000:]}"
        time.sleep(0.2)


def test_serve_restarts_a_killed_worker_web_server_embedded_redis_and_postgres_and_says_so(data_dir, tmp_path):
    log_path = tmp_path / "serve.log"
    server, base = serve_start(data_dir, log_path)
    try:
        wait_healthy(base, server)
        headers = editor_headers(data_dir)

        during = tmp_path / "during.mp4"  # in flight while the worker is killed
        write_world_video(during, [Scene(shape="circle", colour="red", background="black", duration=20.0, seed=2)],
                          fps=10, width=320, height=240)
        in_flight = upload(base, headers, during)

        worker = child_of(server, "celery")
        worker.kill()
        wait_for_log(log_path, "The celery worker was killed by SIGKILL; restarting it in 1 s.", server)
        wait_for_log(log_path, "Restarted the celery worker.", server)
        wait_for_log(log_path, "Resumed processing of 1 unfinished asset(s).", server)
        assert child_of(server, "celery").pid != worker.pid
        assert wait_healthy(base, server)["workers"] == 1
        asset = asset_wait_done(base, headers, in_flight)
        assert asset["status"] == "ready", asset["error"]
        assert frames_and_vectors(data_dir, in_flight) == (20, 20)  # one a second, none twice

        web = child_of(server, "gunicorn")
        web.kill()
        wait_for_log(log_path, "The web server was killed by SIGKILL; restarting it", server)
        wait_for_log(log_path, "Restarted the web server.", server)
        wait_healthy(base, server)
        assert child_of(server, "gunicorn").pid != web.pid

        for service, name in ((EmbeddedRedis(data_dir), "Redis"), (EmbeddedPostgres(data_dir), "PostgreSQL")):
            old_pid = service.pid()
            os.kill(old_pid, signal.SIGKILL)
            wait_for_log(log_path, f"The embedded {name} was killed by SIGKILL; restarting it", server)
            wait_for_log(log_path, f"Restarted the embedded {name}.", server)
            assert service.is_running() and service.pid() != old_pid
            assert wait_healthy(base, server)["broker"] == "ok"
        video = tmp_path / "after.mp4"
        write_world_video(video, [Scene(shape="star", colour="yellow", background="black", duration=3.0, seed=1)],
                          fps=10, width=160, height=120)
        asset = upload_until_done(base, headers, video)
        assert asset["status"] == "ready", asset["error"]
    finally:
        serve_stop_and_check_nothing_outlives_it(server, data_dir, log_path)


def serve_with_a_worker_that_dies_at_start(data_dir: Path, log_path: Path) -> subprocess.Popen:
    with open(log_path, "wb") as log:  # an option Celery refuses: the worker exits as soon as it starts
        return subprocess.Popen([sys.executable, "manage.py", "serve", "--concurrency", "-1"], cwd=REPO,
                                env=clean_env(data_dir, PORT=str(free_port())), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def test_serve_gives_up_on_a_worker_that_dies_at_every_start_and_stops_everything(data_dir, tmp_path):
    log_path = tmp_path / "serve.log"
    server = serve_with_a_worker_that_dies_at_start(data_dir, log_path)
    assert server.wait(timeout=120) == 1
    output = log_path.read_text()
    assert output.count("Restarted the celery worker.") == QUICK_DEATHS_TO_GIVE_UP - 1, output[-3000:]
    assert (f"The celery worker exited with code 2: it died {QUICK_DEATHS_TO_GIVE_UP} times in a row within "
            f"{QUICK_DEATH_SECONDS} s of starting") in output
    assert "see the log above for why" in output and "Stopped." in output
    assert processes_using(data_dir) == [], output[-3000:]
    assert not EmbeddedPostgres(data_dir).is_running() and not EmbeddedRedis(data_dir).is_running()


def test_ctrl_c_while_serve_waits_to_restart_a_child_stops_everything(data_dir, tmp_path):
    log_path = tmp_path / "serve.log"
    server = serve_with_a_worker_that_dies_at_start(data_dir, log_path)
    try:
        wait_for_log(log_path, "The celery worker exited with code 2; restarting it in 2 s.", server)
    finally:
        serve_stop_and_check_nothing_outlives_it(server, data_dir, log_path)
    assert server.returncode == 0
