"""The frames step's decode on its own: `sample_video` with the face, DNA and shot pictures, as the step asks.

    .venv/bin/python bench/sample_speed.py [FILE ...] [--repeats 5]

For each file (default: a generated 20 s 320×240 25 fps test-pattern video, like the tests' footage, and
the bench's 40 s 640×360 file from bench/ingest_speed.py when it has been made), the median of
`--repeats` runs of wall and CPU seconds (all threads), with one FFmpeg decoding thread, as a worker
process on two cores uses. Run it on two checkouts, alternating, to compare a change.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from workers.media.frames import sample_video  # noqa: E402
from workers.media.shots import ShotSampler  # noqa: E402
from workers.ml.demo.video import write_world_video  # noqa: E402
from workers.ml.demo.world import Scene  # noqa: E402
from workers.ml.dna import DnaSampler  # noqa: E402

BENCH_FILE = REPO / "var" / "bench-ingest" / "videos" / "world_640x360_40s_25_0.mp4"


def seconds(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one pass, as the frames step makes it (faces up to 360 px)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in sample_video(path, face_short_side=360, dna=DnaSampler(), shots=ShotSampler(), threads=1):
        pass
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = args.files
        if not files:
            small = Path(folder) / "test_pattern_320x240_20s.mp4"
            scenes = [Scene(shape="square", colour="red", background="blue", duration=4.0, seed=n) for n in range(5)]
            write_world_video(small, scenes, fps=25, width=320, height=240)
            files = [small] + ([BENCH_FILE] if BENCH_FILE.exists() else [])
        for path in files:
            runs = [seconds(path) for _ in range(args.repeats)]
            print(f"{path.name}: wall {statistics.median(r[0] for r in runs):.3f} s, "
                  f"CPU {statistics.median(r[1] for r in runs):.3f} s (median of {args.repeats})")


if __name__ == "__main__":
    main()
