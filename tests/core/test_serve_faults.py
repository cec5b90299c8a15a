"""`make run` (`manage.py serve`) with its embedded Redis and PostgreSQL killed in the middle of an ingest of
several videos (PostgreSQL while serve is about to queue the unfinished assets again): serve starts each again
and keeps running, health answers ok at once, and the ingest completes with every asset ready and nothing
stored twice (README, "Faults")."""

import os
import signal
import time

import psycopg
import pytest
import requests

from mediahub.embedded import EmbeddedPostgres, EmbeddedRedis
from tests.core.test_serve import data_dir  # noqa: F401 - a fixture
from tests.core.test_serve import (asset_wait_done, editor_headers, frames_and_vectors, serve_start,
                                   serve_stop_and_check_nothing_outlives_it, upload, wait_for_log, wait_healthy)
from tests.workers.faults import FAST_RECOVERY, poll, world_videos

pytestmark = pytest.mark.worker

SECONDS = 4  # per video: one frame a second


def health(base: str) -> dict:
    try:
        return requests.get(f"{base}/api/health", timeout=5).json()
    except (requests.RequestException, ValueError):
        return {}


def processing(data_dir) -> bool:
    with psycopg.connect(EmbeddedPostgres(data_dir).url) as conn:
        return conn.execute("SELECT count(*) FROM assets_asset WHERE status = 'processing'").fetchone()[0] > 0


def health_ok_soon_after(base: str, log_path, server, name: str) -> None:
    wait_for_log(log_path, f"Restarted the embedded {name}.", server)
    back = time.monotonic()
    poll(lambda: health(base).get("status") == "ok", timeout=10, what="health to answer ok")
    print(f"health ok {time.monotonic() - back:.1f} s after the embedded {name} was back")


def test_serve_completes_an_ingest_while_its_embedded_redis_and_postgres_are_killed(data_dir, tmp_path,
                                                                                    monkeypatch):
    for name, value in FAST_RECOVERY.items():
        monkeypatch.setenv(name, value)
    log_path = tmp_path / "serve.log"
    server, base = serve_start(data_dir, log_path)
    try:
        wait_healthy(base, server)
        headers = editor_headers(data_dir)
        ids = [upload(base, headers, video) for video in world_videos(tmp_path / "videos", 3, seconds=SECONDS)]
        poll(lambda: processing(data_dir), timeout=60, what="an asset to be processed", interval=0.05)
        os.kill(EmbeddedRedis(data_dir).pid(), signal.SIGKILL)
        wait_for_log(log_path, "The embedded Redis was killed by SIGKILL; restarting it", server)
        os.kill(EmbeddedPostgres(data_dir).pid(), signal.SIGKILL)  # down while serve queues the assets again
        health_ok_soon_after(base, log_path, server, "Redis")
        health_ok_soon_after(base, log_path, server, "PostgreSQL")
        for asset_id in ids:
            asset = asset_wait_done(base, headers, asset_id)
            assert asset["status"] == "ready", (asset["error"], log_path.read_text()[-4000:])
            assert frames_and_vectors(data_dir, asset_id) == (SECONDS, SECONDS)  # one a second, none twice
        assert server.poll() is None
    finally:
        serve_stop_and_check_nothing_outlives_it(server, data_dir, log_path)
