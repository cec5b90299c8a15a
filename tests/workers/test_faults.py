"""Faults during an ingest of several videos (README, "Faults"): a worker process killed, the whole worker
stopped (or killed) and started again, Redis restarted, an external Postgres restarted. Each ends with every
asset ready, the frames and vectors exact (nothing stored twice) and the originals kept. A file whose worker
is killed every time fails with a sentence after three kills, and a reprocess finishes it. Real processes: a
standalone Celery worker, a Postgres of the tests' own on TCP (as a managed one would be), the embedded Redis
of a data dir of their own, `manage.py ingest`. The embedded Postgres and Redis killed under `make run`:
tests/core/test_serve_faults.py."""

import os
import re
import signal
import time

import pytest

from tests.workers.faults import FAST_RECOVERY, Stack, manage, poll, world_videos

pytestmark = pytest.mark.worker

SECONDS = 4  # per video: one frame a second, so 4 frames and 4 vectors each
BUSY = {"probe", "frames", "embed", "tags", "descriptions", "copies"}


@pytest.fixture(scope="module")
def stack():
    stack = Stack(external_postgres=True)
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def worker(stack):
    return stack.worker("faults", **FAST_RECOVERY)


@pytest.fixture
def videos(tmp_path):
    def make(count: int = 3):  # seeds of their own: no video is a duplicate of another test's
        return world_videos(tmp_path, count, seconds=SECONDS, first_seed=int.from_bytes(os.urandom(2), "big"))

    return make


def ingest_and_wait_mid_way(stack: Stack, videos) -> list[int]:
    ids = stack.ingest(videos)
    stack.wait_running(ids[1], BUSY)
    return ids


def assert_all_ready_and_exact(stack: Stack, ids: list[int], fault_at: float, *, timeout: float = 90) -> None:
    done = stack.wait_done(ids, timeout=timeout)
    print(f"all {len(ids)} ready {time.monotonic() - fault_at:.1f} s after the fault")
    assert {pk: status for pk, (status, _) in done.items()} == dict.fromkeys(ids, "ready"), (done, stack.logs())
    assert {pk: stack.counts(pk) for pk in ids} == dict.fromkeys(ids, (SECONDS, SECONDS))
    assert stack.originals_kept(ids)


def test_without_a_fault_the_stalled_asset_sweep_starts_nothing_again(stack, worker, videos):
    ids = stack.ingest(videos())  # they wait in the queues, then run, for longer than the 2 s idle limit
    runs = stack.run_ids(ids)
    assert_all_ready_and_exact(stack, ids, time.monotonic())
    assert stack.run_ids(ids) == runs  # every run was carried on by a queued or held message: none restarted
    assert "stalled" in worker.log_path.read_text()  # the sweep did look (its task ran)


def test_a_worker_process_killed_mid_ingest(stack, worker, videos):
    ids = ingest_and_wait_mid_way(stack, videos())
    for pid in worker.pool_children():
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
    assert_all_ready_and_exact(stack, ids, time.monotonic())


def test_the_whole_worker_stopped_and_started_again_mid_ingest(stack, worker, videos):
    ids = ingest_and_wait_mid_way(stack, videos())
    worker.terminate()  # SIGTERM: a warm shutdown, as systemd or `docker stop` do
    stopped = time.monotonic()
    worker.start()
    assert_all_ready_and_exact(stack, ids, stopped)


def test_the_whole_worker_killed_and_started_again_mid_ingest(stack, worker, videos):
    ids = ingest_and_wait_mid_way(stack, videos())
    os.killpg(worker.process.pid, signal.SIGKILL)  # its unacknowledged message stays hidden for hours
    worker.process.wait()
    killed = time.monotonic()
    worker.start()
    assert_all_ready_and_exact(stack, ids, killed)


def test_redis_restarted_mid_ingest(stack, worker, videos):
    ids = ingest_and_wait_mid_way(stack, videos())
    stack.kill_and_restart(stack.redis)  # an embedded Redis keeps nothing: every message is lost
    assert_all_ready_and_exact(stack, ids, time.monotonic())
    assert worker.process.poll() is None, worker.log()  # it reconnected rather than died


def test_an_external_postgres_restarted_mid_ingest(stack, worker, videos):
    ids = ingest_and_wait_mid_way(stack, videos())
    stack.postgres_restart()
    assert_all_ready_and_exact(stack, ids, time.monotonic())
    assert worker.process.poll() is None, worker.log()


def test_a_file_whose_worker_is_killed_every_time_fails_with_a_sentence_and_a_reprocess_finishes_it(
        stack, worker, videos):
    """As with a file that crashes the decoder or runs the worker out of memory: after three killed steps the
    asset fails, saying so, instead of killing workers forever; the upload is kept."""
    worker.terminate()  # queued while no worker runs, so that no step is over before the test watches
    [asset_id] = stack.ingest(videos(1))
    worker.start()
    killed_at = set()  # the step beginnings (updated_at) whose worker was killed

    def kill_each_step_begun() -> str | None:
        status, step_open, began = stack.sql("SELECT status, step_open, updated_at FROM assets_asset WHERE id = %(id)s",
                                             {"id": asset_id})[0]
        if status in ("ready", "failed"):
            return status
        if step_open and began not in killed_at:
            killed_at.add(began)
            for pid in worker.pool_children():
                os.kill(pid, signal.SIGKILL)
        return None

    assert poll(kill_each_step_begun, timeout=120, what="the asset to fail", interval=0.02) == "failed"
    status, error = stack.assets([asset_id])[asset_id]
    killed = re.search(r"was killed (\d+) times", error or "")  # more than 3 when a kill lands between a
    assert killed and int(killed[1]) >= 3 and "use Reprocess" in error, (error, worker.log())  # claim and its check
    assert stack.originals_kept([asset_id])
    manage(stack, "shell", "-c", "from mediahub.assets.models import Asset; from mediahub.assets.services import "
                                 f"asset_reprocess; asset_reprocess(asset=Asset.objects.get(pk={asset_id}))")
    assert_all_ready_and_exact(stack, [asset_id], time.monotonic())  # what the user's Reprocess does
