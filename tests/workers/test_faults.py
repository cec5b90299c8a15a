"""Faults during an ingest of several videos (README, "Faults"): a worker process killed, the whole worker
stopped and started again, Redis restarted, Postgres restarted. Each ends with every asset ready, the
frames and vectors exact (nothing twice), the originals kept. Real processes: standalone Celery workers,
embedded Postgres and Redis of a data dir of the test's own, `manage.py ingest`."""

import os
import signal

import pytest

from tests.workers.faults import Stack, poll, world_videos

pytestmark = pytest.mark.worker

SECONDS = 6  # per video: one frame a second, so 6 frames and 6 vectors each
FAST_RECOVERY = dict(MEDIAHUB_WORKER_HEARTBEAT="1", MEDIAHUB_STALLED_AFTER="2", MEDIAHUB_STALLED_SWEEP="2")


@pytest.fixture(scope="module")
def stack():
    stack = Stack()
    yield stack
    stack.close()


@pytest.fixture
def videos(tmp_path):
    counter = iter(range(1000))

    def make(count: int, seconds: float = SECONDS):
        return world_videos(tmp_path / f"batch-{next(counter)}", count, seconds=seconds,
                            first_seed=int.from_bytes(os.urandom(2), "big"))

    return make


def assert_all_ready_and_exact(stack: Stack, ids: list[int], *, timeout: float = 90) -> None:
    done = stack.wait_done(ids, timeout=timeout)
    assert {pk: status for pk, (status, _) in done.items()} == dict.fromkeys(ids, "ready"), (done, stack.logs())
    assert {pk: stack.counts(pk) for pk in ids} == dict.fromkeys(ids, (SECONDS, SECONDS))
    assert stack.originals_kept(ids)


def test_redis_restarted_mid_ingest_every_asset_ends_ready(stack, videos):
    worker = stack.worker("redis", **FAST_RECOVERY)
    try:
        ids = stack.ingest(videos(4))
        stack.wait_running(ids[0], {"frames", "embed", "tags"})
        stack.kill_and_restart(stack.redis)  # an embedded Redis keeps nothing: every message is lost
        assert_all_ready_and_exact(stack, ids)
        assert worker.process.poll() is None, worker.log()  # it reconnected rather than died
    finally:
        worker.stop()
