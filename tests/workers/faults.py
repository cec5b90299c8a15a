"""A mediahub of its own for fault tests and benchmarks: embedded Postgres and Redis in a fresh data dir (held
by this process, so they can be killed and restarted under the workers), standalone Celery workers and
`manage.py ingest`, all real processes talking through DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import psycopg

from mediahub.embedded import DATABASE_NAME, EmbeddedPostgres, Services
from workers.ml.demo.video import write_world_video
from workers.ml.demo.world import Scene

REPO = Path(__file__).resolve().parent.parent.parent
SHAPES = ("circle", "square", "triangle", "star", "cross", "diamond")
COLOURS = ("red", "green", "blue", "yellow", "purple", "orange")
WORKER_START_TIMEOUT = 90
# Heartbeats every second; a run nothing carries is started again after 2 s idle (production: 10 s, 120 s).
FAST_RECOVERY = dict(MEDIAHUB_HEARTBEAT_SECONDS="1", MEDIAHUB_STALLED_AFTER="2", MEDIAHUB_STALLED_SWEEP="2")


def poll(check, *, timeout: float, what: str, interval: float = 0.2):
    """check()'s first truthy answer, within the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def world_videos(folder: Path, count: int, *, seconds: float, first_seed: int = 0) -> list[Path]:
    """`count` distinct videos (different bytes, so none is a duplicate upload) of one scene each, 10 fps, 160x120."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(first_seed, first_seed + count):
        path = folder / f"world-{i}.mp4"
        scene = Scene(shape=SHAPES[i % len(SHAPES)], colour=COLOURS[i % len(COLOURS)], background="black",
                      duration=seconds, seed=i)
        write_world_video(path, [scene], fps=10, width=160, height=120)
        paths.append(path)
    return paths


class Stack:
    """The data dir, its embedded services and the environment every process of this mediahub runs with."""

    def __init__(self, *, external_postgres: bool = False):
        self.data_dir = Path(tempfile.mkdtemp(prefix="mh-faults-"))
        self.services = Services(self.data_dir, postgres=not external_postgres, redis=True)
        self.services.attach()
        self.redis = self.services.redis
        if external_postgres:  # a server of its own on TCP, as a managed Postgres would be
            self.postgres = EmbeddedPostgres(self.data_dir / "external", tcp_port=free_port())
            self.postgres.start()
            password = quote(self.postgres.password_file.read_text().strip(), safe="")
            self.database_url = f"postgresql://postgres:{password}@127.0.0.1:{self.postgres.port}/{DATABASE_NAME}"
        else:
            self.postgres = self.services.postgres
            self.database_url = self.postgres.url
        self.workers: list[Worker] = []
        manage(self, "migrate", "--verbosity", "0")

    def env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(DATABASE_URL=self.database_url, REDIS_URL=self.redis.url, MEDIAHUB_DATA_DIR=str(self.data_dir),
                   MEDIAHUB_CLIP_MODEL="demo", MEDIAHUB_LOG_FORMAT="plain", PYTHONPATH=str(REPO), **extra)
        return env

    def sql(self, query: str, params: dict | None = None) -> list[tuple]:
        with psycopg.connect(self.database_url, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def ingest(self, paths: list[Path]) -> list[int]:
        lines = manage(self, "ingest", *map(str, paths)).splitlines()
        return [int(line.split("\t")[1]) for line in lines]

    def worker(self, name: str, **env) -> "Worker":
        worker = Worker(self, name, **env)
        self.workers.append(worker)
        return worker

    def assets(self, ids: list[int]) -> dict[int, tuple[str, str | None]]:
        return {pk: (status, error) for pk, status, error in
                self.sql("SELECT id, status, error FROM assets_asset WHERE id = ANY(%(ids)s)", {"ids": ids})}

    def wait_done(self, ids: list[int], *, timeout: float) -> dict[int, tuple[str, str | None]]:
        def done():
            assets = self.assets(ids)
            return assets if all(status in ("ready", "failed") for status, _ in assets.values()) else None

        try:
            return poll(done, timeout=timeout, what=f"assets {ids} to finish", interval=0.5)
        except AssertionError:
            raise AssertionError(f"{self.assets(ids)}\n{self.logs()}") from None

    def run_ids(self, ids: list[int]) -> dict[int, str]:
        return dict(self.sql("SELECT id, run_id::text FROM assets_asset WHERE id = ANY(%(ids)s)", {"ids": ids}))

    def counts(self, asset_id: int) -> tuple[int, int]:
        """(frames, frame vectors) stored for the asset."""
        return self.sql("SELECT (SELECT count(*) FROM assets_frame WHERE asset_id = %(id)s),"
                        " (SELECT count(*) FROM search_frameembedding WHERE asset_id = %(id)s)", {"id": asset_id})[0]

    def originals_kept(self, ids: list[int]) -> bool:
        names = self.sql("SELECT original FROM assets_asset WHERE id = ANY(%(ids)s)", {"ids": ids})
        return len(names) == len(ids) and all((self.data_dir / "media" / name).is_file() for (name,) in names)

    def stage_of(self, asset_id: int) -> tuple[str, str]:
        return self.sql("SELECT status, stage FROM assets_asset WHERE id = %(id)s", {"id": asset_id})[0]

    def wait_running(self, asset_id: int, stages: set[str], *, timeout: float = 60) -> None:
        try:
            poll(lambda: self.stage_of(asset_id)[0] == "processing" and self.stage_of(asset_id)[1] in stages,
                 timeout=timeout, what=f"asset {asset_id} to run one of {stages}", interval=0.05)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {self.stage_of(asset_id)}\n{self.logs()}") from None

    def kill_and_restart(self, server) -> None:
        """SIGKILL the embedded server, then start it again in the same data dir (as `make run` would)."""
        os.kill(server.pid(), signal.SIGKILL)
        poll(lambda: not server.is_running(), timeout=10, what="the killed server to be gone", interval=0.05)
        self.services.server_restart(server)

    def postgres_restart(self) -> None:
        """Restart the external Postgres as its operator would (a fast shutdown: sessions are cut), or kill and
        restart the embedded one."""
        if self.postgres is self.services.postgres:
            self.kill_and_restart(self.postgres)
        else:
            self.postgres.stop()
            self.postgres.start()

    def logs(self) -> str:
        return "\n".join(f"--- {worker.name}\n{worker.log()}" for worker in self.workers)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.services.detach()
        if self.postgres is not self.services.postgres:
            self.postgres.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def manage(stack: Stack, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=stack.env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


class Worker:
    """A standalone Celery worker on every queue, with its own log file in the data dir."""

    def __init__(self, stack: Stack, name: str, **env):
        self.stack, self.name = stack, name
        self.log_path = stack.data_dir / f"{name}.log"
        self.env = stack.env(**env)
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers.celery:app", "worker", "-Q", "media,ml,default",
                 "--concurrency", "1", "-n", f"{self.name}@faults", "--loglevel", "INFO"],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def ready() -> bool:
            assert self.process.poll() is None, f"the worker {self.name} exited:\n{self.log()}"
            return f"{self.name}@faults ready." in self.log_path.read_text(errors="replace")[start:]

        poll(ready, timeout=WORKER_START_TIMEOUT, what=f"the worker {self.name} to start")

    def pool_children(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    def terminate(self, *, timeout: float = 60) -> None:
        """A warm shutdown (SIGTERM, as systemd or `docker stop` do): the running task finishes first."""
        self.process.terminate()
        self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
