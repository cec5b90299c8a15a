"""Two workers that share nothing but Postgres, Redis and the S3 server (separate data and scratch dirs)
ingest a batch together."""

import json

import pytest

from mediahub.assets.models import Asset, Frame
from mediahub.search.models import FrameEmbedding
from tests.conftest import wait_for_asset
from tests.storage.conftest import log_size, s3_worker_start, upload
from workers.ml.demo.world import Scene

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("tag_vocabulary")]

SHAPES = ("circle", "star", "cross", "diamond")


@pytest.fixture
def second_worker(s3_worker, s3_server, tmp_path_factory):
    worker = s3_worker_start("s3b", tmp_path_factory.mktemp("s3-worker-b"), s3_server)
    yield worker
    worker.stop()


def assets_in_log(worker, mark: int) -> set[int]:
    """The assets whose steps wrote log lines (JSON lines carrying asset_id) from byte `mark` on."""
    with open(worker.log_path, "rb") as log:
        log.seek(mark)
        lines = [json.loads(line) for line in log.read().decode(errors="replace").splitlines()
                 if line.startswith("{")]
    return {line["asset_id"] for line in lines if "asset_id" in line}


def test_two_share_nothing_workers_ingest_a_batch_together(s3_storage, s3_worker, second_worker, owner_api,
                                                           make_video):
    marks = {worker: log_size(worker) for worker in (s3_worker, second_worker)}
    videos = [make_video([Scene(shape=shape, colour="red", background="blue", duration=2.0, seed=index),
                          Scene(shape="square", colour="yellow", background="black", duration=2.0, seed=index)],
                         name=f"{shape}.mp4") for index, shape in enumerate(SHAPES)]
    ids = []
    for video in videos:
        response = upload(owner_api, video)
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    for asset_id in ids:
        asset = wait_for_asset(asset_id)
        assert asset.status == "ready", f"{asset.error}\n{s3_worker.log()}\n{second_worker.log()}"
    assert Asset.objects.count() == len(SHAPES)
    for asset_id in ids:
        assert Frame.objects.filter(asset_id=asset_id).count() == 4
        assert FrameEmbedding.objects.filter(asset_id=asset_id).count() == 4
    worked_on = {worker.name: assets_in_log(worker, mark) & set(ids) for worker, mark in marks.items()}
    assert all(worked_on.values()), f"a worker did nothing: {worked_on}"
