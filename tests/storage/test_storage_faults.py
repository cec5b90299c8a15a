"""The issue's object-store and scratch-disk faults: the store down mid-ingest or during an upload, and a
worker's scratch disk full. Nothing is lost, nothing half-made is kept, the asset ends ready."""

import errno
import os

import pytest
from django.conf import settings

from mediahub.assets.models import Asset, Frame
from tests.conftest import wait_for_asset
from tests.storage.conftest import log_after, log_size, upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("tag_vocabulary")]


def test_the_store_down_mid_ingest_holds_the_asset_until_it_is_back(s3_storage, s3_worker, owner_api,
                                                                     two_scene_video):
    mark = log_size(s3_worker)
    response = upload(owner_api, two_scene_video)
    assert response.status_code == 201, response.content
    s3_storage.stop()
    try:
        log_after(s3_worker, mark, "Retry in")  # the step could not reach the store and will try again
        assert Asset.objects.get(pk=response.json()["id"]).status in ("queued", "processing")
    finally:
        s3_storage.start()
    asset = wait_for_asset(response.json()["id"])
    assert asset.status == "ready", f"{asset.error}\n{s3_worker.log()}"
    assert Frame.objects.filter(asset=asset).count() == 6


def test_an_upload_while_the_store_is_down_is_refused_and_keeps_nothing(s3_storage, owner_api, two_scene_video):
    stored_before = s3_storage.keys("originals/")
    s3_storage.stop()
    try:
        response = upload(owner_api, two_scene_video)
    finally:
        s3_storage.start()
    assert response.status_code == 503, response.content
    assert "store" in response.json()["detail"]
    assert not Asset.objects.exists()
    assert not list((settings.DATA_DIR / "staging").glob("*"))
    assert s3_storage.keys("originals/") == stored_before


def fill(folder) -> None:
    with open(folder / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_full_scratch_disk_delays_the_step_until_there_is_room(s3_storage, s3_worker, owner_api, two_scene_video):
    scratch = s3_worker.scratch
    if scratch is None:
        pytest.skip("a scratch dir on a small tmpfs needs root (mount -t tmpfs)")
    fill(scratch)
    try:
        mark = log_size(s3_worker)
        response = upload(owner_api, two_scene_video)
        assert response.status_code == 201, response.content
        log_after(s3_worker, mark, f"The scratch dir {scratch} is full")
        assert Asset.objects.get(pk=response.json()["id"]).status in ("queued", "processing")
        assert os.listdir(scratch) == ["filler"]  # the cut-off download is gone
    finally:
        (scratch / "filler").unlink()
    asset = wait_for_asset(response.json()["id"])
    assert asset.status == "ready", f"{asset.error}\n{s3_worker.log()}"
    assert os.listdir(scratch) == []
