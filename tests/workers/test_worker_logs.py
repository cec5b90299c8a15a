"""A pipeline's log lines, from a real worker, are JSON carrying the asset, the run and the upload's request."""

import json
import time

import pytest

from tests.conftest import wait_for_asset
from workers.pipeline import UPLOAD_STEPS

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("tag_vocabulary")]


def test_every_step_logs_json_lines_with_the_asset_run_and_upload_request_ids(celery_worker, owner_api,
                                                                              two_scene_video):
    with open(two_scene_video, "rb") as handle:
        created = owner_api.post("/api/assets", {"file": handle}, format="multipart",
                                 headers={"X-Request-ID": "upload-4f1d2c"})
    assert created.status_code == 201 and created["X-Request-ID"] == "upload-4f1d2c"
    asset = wait_for_asset(created.json()["id"])
    assert asset.status == "ready", f"{asset.error}\n{celery_worker.log()}"

    lines = log_lines_until(celery_worker, lambda line: line.get("asset_id") == asset.pk
                            and line["message"].startswith("Task workers.tasks.asset_finish[")
                            and "succeeded" in line["message"])
    assert any(line["message"].endswith("ready.") and "asset_id" not in line for line in lines)  # a worker's own
    mine = [line for line in lines if line.get("asset_id") == asset.pk]
    assert {(line["run_id"], line["request_id"]) for line in mine} == {(str(asset.run_id), "upload-4f1d2c")}
    succeeded = {line["message"].split("[")[0].removeprefix("Task workers.tasks.")
                 for line in mine if "succeeded" in line["message"]}
    assert succeeded == set(UPLOAD_STEPS)


def log_lines_until(worker, found, timeout: float = 20) -> list[dict]:
    """The worker's JSON log lines, once one of them is `found` (the asset is ready before its last step
    has logged that it succeeded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in worker.log_path.read_text().splitlines() if line.startswith("{")]
        if any(found(line) for line in lines):
            return lines
        time.sleep(0.2)
    raise AssertionError(f"no such line in the worker's log within {timeout}s:\n{worker.log()}")
