"""Upload → real Celery worker process → ready, including a worker crash in the middle."""

import os
import signal
import time

import pytest

from mediahub.assets.models import Asset, AssetTag, Frame
from mediahub.search.models import FrameEmbedding
from tests.conftest import WorkerProcess, wait_for_asset
from tests.media_files import constant_rate_times, write_frames

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("tag_vocabulary")]


def upload(api, path):
    with open(path, "rb") as handle:
        response = api.post("/api/assets", {"file": handle}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def test_an_uploaded_video_is_processed_by_the_worker(celery_worker, owner_api, two_scene_video):
    created = upload(owner_api, two_scene_video)
    asset = wait_for_asset(created["id"])
    assert asset.status == "ready", f"{asset.error}\n{celery_worker.log()}"
    assert Frame.objects.filter(asset=asset).count() == 6
    assert FrameEmbedding.objects.filter(asset=asset).count() == 6
    labels = set(AssetTag.objects.filter(asset=asset).values_list("label__name", flat=True))
    assert {"circle", "square", "red", "green"} <= labels
    body = owner_api.get(f"/api/assets/{asset.pk}").json()
    assert body["status"] == "ready" and body["progress"] == 1.0
    assert {t["label"] for t in body["tags"]} >= {"circle", "square"}
    assert owner_api.get(body["thumbnail"]).status_code == 200


def _wait_for_stage(asset_id: int, stages: set[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Asset.objects.filter(pk=asset_id, stage__in=stages, status="processing").exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"asset {asset_id} never reached {stages}")


def test_a_worker_process_killed_mid_task_is_redelivered_and_the_asset_still_gets_ready(
        celery_worker, owner_api, tmp_path):
    video = write_frames(tmp_path / "long.mp4", constant_rate_times(40, fps=25), width=640, height=480)
    created = upload(owner_api, video)
    _wait_for_stage(created["id"], {"frames"})
    for pid in celery_worker.pool_children():
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
    asset = wait_for_asset(created["id"], timeout=180)
    assert asset.status == "ready", f"{asset.error}\n{celery_worker.log()}"
    whole_log = celery_worker.log_path.read_text(errors="replace")
    assert "WorkerLostError" in whole_log or "SIGKILL" in whole_log
    assert Frame.objects.filter(asset=asset).count() == 40
    assert FrameEmbedding.objects.filter(asset=asset).count() == 40


def test_health_counts_live_workers_from_their_heartbeats_without_asking_them(celery_worker, anonymous_api,
                                                                               monkeypatch):
    from workers.celery import app

    def no_broadcasts(*args, **kwargs):
        raise AssertionError("health must not broadcast to the workers")

    extra = WorkerProcess("extra", celery_worker.log_path.with_name("extra.log"))
    monkeypatch.setattr(app.control, "ping", no_broadcasts)
    monkeypatch.setattr(app.control, "inspect", no_broadcasts)
    try:
        assert anonymous_api.get("/api/health").json()["workers"] == 2
    finally:
        extra.stop()
    assert anonymous_api.get("/api/health").json()["workers"] == 1  # a stopped worker withdraws at once
