"""Ingest speed: seconds of video processed per wall-clock second, by pipeline step.

Runs the real pipeline steps in this process (the same task code a Celery
worker runs, without the broker hop) on generated H.264 test-pattern videos,
against the embedded Postgres of a throwaway data dir.

    .venv/bin/python bench/ingest_speed.py                # demo model + ViT-B-32 (random weights)
    .venv/bin/python bench/ingest_speed.py --models demo --seconds 120 --sizes 1280x720

Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("MEDIAHUB_DATA_DIR", str(REPO / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")

MODELS = {"demo": ("demo", ""), "ViT-B-32 (random weights)": ("ViT-B-32", "random")}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each generated video")
    parser.add_argument("--sizes", default="640x360,1280x720", help="comma-separated WxH of the videos")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from: {', '.join(MODELS)}")
    return parser.parse_args()


def make_video(folder: Path, seconds: float, width: int, height: int, fps: float) -> Path:
    import numpy as np

    from workers.ml.demo.video import write_world_video
    from workers.ml.demo.world import random_scene

    rng = np.random.default_rng(7)
    scenes, total = [], 0.0
    while total < seconds:
        scene = random_scene(rng, duration=min(6.0, seconds - total))
        scenes.append(scene)
        total += scene.duration
    path = folder / f"bench_{width}x{height}.mp4"
    write_world_video(path, scenes, fps=fps, width=width, height=height)
    return path


def run_once(video: Path, model_name: str, pretrained: str) -> dict[str, float]:
    from django.conf import settings

    from mediahub.assets.models import Asset
    from mediahub.assets.services import asset_create
    from mediahub.search.selectors import active_clip_spec, tag_labels_active
    from workers import tasks
    from workers.ml.clip import load_clip

    settings.CLIP_MODEL, settings.CLIP_PRETRAINED = model_name, pretrained
    spec = active_clip_spec()
    # One-offs per worker process, not per asset: keep them out of the timing.
    load_clip(spec)
    tasks.vocabulary_vectors(spec, tuple(tuple(label.prompt_list()) for label in tag_labels_active(spec)))
    Asset.objects.filter(original_filename=video.name).delete()
    with open(video, "rb") as source:
        asset = asset_create(source=source, filename=video.name, owner=None).asset
    timings = {}
    for step in ("asset_probe", "asset_sample_frames", "asset_embed_frames", "asset_tag", "asset_finish"):
        started = time.perf_counter()
        getattr(tasks, step).apply(args=(asset.pk, str(asset.run_id)))
        timings[step] = time.perf_counter() - started
    asset.refresh_from_db()
    assert asset.status == "ready", asset.error
    timings["frames"] = asset.frames.count()
    timings["model"] = spec.key
    asset.delete()
    return timings


def main() -> None:
    args = parse_args()
    import django

    from mediahub import launch

    launch.services_attach(launch.data_dir_from_environment())  # explicit: settings start nothing
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import torch

    print(f"torch threads: {torch.get_num_threads()}, cpus: {os.cpu_count()}", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes.split(","):
            width, height = (int(v) for v in size.split("x"))
            video = make_video(Path(folder), args.seconds, width, height, args.fps)
            for label in args.models.split(","):
                name, pretrained = MODELS[label]
                timings = run_once(video, name, pretrained)
                total = sum(v for k, v in timings.items() if k.startswith("asset_"))
                rows.append((label, size, timings, total))
                print(f"{label} {size}: {args.seconds / total:.1f}x realtime", file=sys.stderr)
    print(f"\n{args.seconds:.0f} s H.264 videos at {args.fps:g} fps, one frame per second, this machine ({os.cpu_count()} CPU cores):\n")
    print("| model | video | probe s | frames s | embed s | tags s | total s | video s per wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for label, size, t, total in rows:
        print(f"| {label} | {size} | {t['asset_probe']:.2f} | {t['asset_sample_frames']:.2f} | "
              f"{t['asset_embed_frames']:.2f} | {t['asset_tag']:.2f} | {total:.2f} | **{args.seconds / total:.1f}** |")


if __name__ == "__main__":
    main()
