"""4K at 50p: wall time and peak memory of the frame-sampling decode (workers.media.frames.sample_video).

Generates UHD 50p test-pattern clips with PyAV (the regression corpus's writer, tests/media_files.py),
then decodes each in a fresh child process and reports its wall time and peak RSS (VmHWM) next
to the RSS of the same process before decoding. Cases:

  h264      H.264 High (B-frames) in MP4: a browser plays it, no proxy; non-reference frames skipped
  h264-all  the same file with every frame decoded (what skipping saves)
  hevc      HEVC 8-bit in MP4: the browser proxy (720p H.264) is encoded in the same decode pass

    .venv/bin/python bench/decode_4k.py --seconds 4

Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def make_clips(folder: Path, seconds: float) -> dict[str, Path]:
    from tests.media_files import FIRST, RED_CIRCLE, Footage, write_footage

    scenes = (replace(FIRST, duration=seconds / 2), replace(RED_CIRCLE, duration=seconds / 2))
    uhd = dict(fps=50, width=3840, height=2160, render_scale=12, scenes=scenes)
    h264 = write_footage(folder, Footage("uhd50_h264.mp4", "libx264", **uhd,
                                         options=(("preset", "superfast"), ("bf", "3"), ("g", "50"))))
    hevc = write_footage(folder, Footage("uhd50_hevc.mp4", "libx265", **uhd,
                                         options=(("preset", "ultrafast"), ("x265-params", "log-level=error:bframes=3"))))
    return {"h264": h264, "h264-all": h264, "hevc": hevc}


def measure(case: str, path: Path) -> dict:
    """In this (fresh) process: decode `path` the way the frames step does and report time and memory."""
    from workers.media import frames

    if case == "h264-all":
        frames.SKIP_NONREF_FROM_FPS = float("inf")
    baseline = _peak_rss_mb()
    report = frames.SamplingReport()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        count = sum(1 for _ in frames.sample_video(path, report=report, proxy_path=Path(scratch) / "proxy.mp4"))
        seconds = time.perf_counter() - started
    return {"case": case, "seconds": seconds, "samples": count, "video_seconds": report.decoded_until,
            "proxy": report.proxy, "baseline_mb": baseline, "peak_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float:
    """VmHWM: this process's peak resident memory (ru_maxrss would carry the parent's over from fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each generated clip")
    parser.add_argument("--measure", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return
    with tempfile.TemporaryDirectory() as folder:
        clips = make_clips(Path(folder), args.seconds)
        print("| clip | proxy | decode wall time | × real time | peak RSS (before decoding) |")
        print("|---|---|---|---|---|")
        for case, path in clips.items():
            result = json.loads(subprocess.run([sys.executable, __file__, "--measure", case, str(path)],
                                               check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            print(f"| {case}: {args.seconds:g} s of 3840×2160 50p | {'720p H.264' if result['proxy'] else 'none'} "
                  f"| {result['seconds']:.1f} s | {result['video_seconds'] / result['seconds']:.2f} "
                  f"| {result['peak_mb']:.0f} MB ({result['baseline_mb']:.0f} MB) |")


if __name__ == "__main__":
    main()
