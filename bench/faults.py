"""Recovery times under faults with the production defaults (README, "Faults").

The tests (tests/workers/test_faults.py) recover with a 1 s heartbeat and a 2 s idle limit to stay fast; this
runs the faults that rely on the stalled-asset sweep with the shipped defaults (heartbeat 10 s, sweep every
60 s, idle limit 120 s), on a throwaway data dir with its own embedded Postgres and Redis, one standalone
worker and a batch of short test-pattern videos, and prints how long after each fault the batch was ready.

    .venv/bin/python bench/faults.py                 # 3 videos of 4 s per fault
    .venv/bin/python bench/faults.py --videos 6 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")

from tests.workers.faults import Stack, world_videos  # noqa: E402


def redis_restarted(stack: Stack, worker) -> None:
    stack.kill_and_restart(stack.redis)


def worker_killed_and_started(stack: Stack, worker) -> None:
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    worker.start()


FAULTS = {"Redis restarted (embedded: comes back empty)": redis_restarted,
          "whole worker killed (SIGKILL) and started again": worker_killed_and_started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    stack = Stack()
    try:
        worker = stack.worker("bench")
        folder = Path(tempfile.mkdtemp(prefix="mh-faults-videos-"))
        seed = 0
        started = time.monotonic()
        ids = stack.ingest(world_videos(folder / "baseline", args.videos, seconds=args.seconds, first_seed=seed))
        stack.wait_done(ids, timeout=900)
        print(f"| no fault | {time.monotonic() - started:.0f} s for the batch |")
        for name, fault in FAULTS.items():
            seed += args.videos
            ids = stack.ingest(world_videos(folder / str(seed), args.videos, seconds=args.seconds, first_seed=seed))
            stack.wait_running(ids[1], {"probe", "frames", "embed", "tags", "descriptions", "faces", "copies"})
            fault(stack, worker)
            at = time.monotonic()
            done = stack.wait_done(ids, timeout=900)
            ready = sum(status == "ready" for status, _ in done.values())
            print(f"| {name} | {ready}/{len(ids)} ready {time.monotonic() - at:.0f} s after the fault |", flush=True)
    finally:
        stack.close()


if __name__ == "__main__":
    main()
