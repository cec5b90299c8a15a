"""Ingest speed next to decode speed, every pipeline step on.

For generated H.264 videos (the demo world's scenes: a shape drifting and turning on a background,
cuts every 2–10 s, mild noise; a face photo drifting across some scenes so the frames step detects faces,
tracks and describes), at each resolution:

  - **decode**: PyAV alone decoding every frame of the file, with the pipeline's decode settings
    (FFmpeg frame+slice threads, `thread_type="AUTO"`);
  - **ingest**: the full pipeline (probe, frames, CLIP, tags, shots, descriptions, faces, DNA/copies,
    finish) through a real Celery worker (`make run`'s: prefork, concurrency 2) and the Redis broker,
    from the moment the asset is queued until it is `ready`, for a batch of files queued together;
  - **per step**: the same steps run in this process (the task code, no broker), to see where time goes.

Decode and ingest are measured interleaved, several rounds, medians reported (the machine is shared).
The ratio is decode seconds / ingest seconds (1.0 = ingest as fast as decoding alone).

    .venv/bin/python bench/ingest_speed.py                       # demo model, 40 s, 360p/720p/1080p
    .venv/bin/python bench/ingest_speed.py --model ViT-B-32 --sizes 1280x720 --rounds 1
    .venv/bin/python bench/ingest_speed.py --no-steps --mixed              # also 360p+720p+1080p queued together

Runs against its own throwaway data dir (var/bench-ingest) with embedded Postgres and Redis.
BENCH_WORKER_LOGLEVEL=INFO makes the worker log every task with its duration (var/bench-ingest/bench-worker.log).
Prints a Markdown table per resolution for the README.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("MEDIAHUB_DATA_DIR", str(REPO / "var" / "bench-ingest"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
os.environ.setdefault("MEDIAHUB_LOG_FORMAT", "plain")

MODELS = {"demo": ("demo", ""), "ViT-B-32": ("ViT-B-32", "random")}  # random weights: real compute, no download
STEP_NAMES = {"asset_probe": "probe", "asset_sample_frames": "frames and faces", "asset_embed_frames": "CLIP",
              "asset_tag": "tags", "asset_describe_shots": "descriptions", "asset_copies": "copies",
              "asset_finish": "finish"}
FACE_SCENES = (1, 3, 4)  # scenes (0-based) with a face photo drifting across
# The clock reads the assets' own timestamps, so polling only decides when the bench looks: every 50 ms it
# took 7 % of a core (0.15-0.23 CPU s per 360p batch) from the worker it measures.
POLL_SECONDS = 0.5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=40.0, help="length of each generated video")
    parser.add_argument("--sizes", default="640x360,1280x720,1920x1080", help="comma-separated WxH")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--batch", type=int, default=3, help="files per resolution, queued together")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved decode/ingest rounds (medians)")
    parser.add_argument("--model", default="demo", choices=list(MODELS))
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (make run: 2)")
    parser.add_argument("--no-steps", action="store_true", help="skip the in-process per-step breakdown")
    parser.add_argument("--no-celery", action="store_true", help="only decode and the per-step breakdown")
    parser.add_argument("--mixed", action="store_true",
                        help="also one batch of one file of each size, queued together (an upload of mixed footage)")
    return parser.parse_args()


# The videos.

def world_scenes(seconds: float, seed: int):
    import numpy as np

    from workers.ml.demo.world import random_scene

    rng = np.random.default_rng(seed)
    scenes, total = [], 0.0
    while total < seconds - 1e-6:
        scene = random_scene(rng)
        if seconds - total - scene.duration < 2.0:  # the last scene takes what is left
            scene = random_scene(rng, duration=seconds - total)
        scenes.append(scene)
        total += scene.duration
    return scenes


def face_photo():
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.astronaut()).crop((130, 0, 380, 250))  # her head and shoulders


def make_video(path: Path, *, seconds: float, width: int, height: int, fps: float, seed: int) -> Path:
    """The world's scenes back to back, H.264 (libx264 `veryfast`, crf 23, yuv420p, MP4), a face photo
    (a third of the frame height) drifting across the scenes of FACE_SCENES."""
    import bisect

    import av
    import numpy as np
    from PIL import Image

    from workers.ml.demo.world import render_frame

    scenes = world_scenes(seconds, seed)
    starts = np.cumsum([0.0] + [scene.duration for scene in scenes[:-1]]).tolist()
    side = height // 3
    photo = face_photo().resize((side, side), Image.Resampling.BICUBIC)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for i in range(round(seconds * fps)):
            t = i / fps
            k = bisect.bisect_right(starts, t) - 1
            rgb = render_frame(scenes[k], t - starts[k], width=width, height=height)
            if k in FACE_SCENES:
                canvas = Image.fromarray(rgb)
                drift = (t - starts[k]) / scenes[k].duration
                canvas.paste(photo, (round(width * (0.05 + 0.1 * drift)), round(height * 0.1)))
                rgb = np.asarray(canvas)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def video_made(path: Path, **params) -> Path:
    if not path.exists():
        make_video(path.with_suffix(".part.mp4"), **params).rename(path)
    return path


# (a) Decode alone.

def decode_seconds(paths: list[Path]) -> float:
    """PyAV decoding every frame of every file, one after another, with the pipeline's thread settings."""
    import av

    started = time.perf_counter()
    for path in paths:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for _ in container.decode(stream):
                pass
    return time.perf_counter() - started


# (b) The pipeline through a Celery worker.

class Worker:
    def __init__(self, concurrency: int, log: Path):
        from django.conf import settings

        from workers.celery import app

        self.app, self.name = app, f"bench-ingest-{os.getpid()}@localhost"
        env = dict(os.environ, DATABASE_URL=settings.DATABASE_URL, REDIS_URL=settings.REDIS_URL,
                   MEDIAHUB_DATA_DIR=str(settings.DATA_DIR), PYTHONPATH=str(REPO))
        level = os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery:app", "worker", "-Q", "media,ml,default",
             "--concurrency", str(concurrency), "--pool", "prefork", "-n", self.name, "--loglevel", level],
            cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while not app.control.ping(destination=[self.name], timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start: see {log}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def assets_clear() -> None:
    from mediahub.assets.models import Asset
    from mediahub.assets.services import asset_delete

    for asset in Asset.objects.all():
        asset_delete(asset=asset)


def ingest_seconds(paths: list[Path]) -> float:
    """Queue the files (stored first, as an upload does) and wait until every one is ready."""
    from mediahub.assets.models import Asset
    from mediahub.assets.services import asset_create

    assets_clear()
    ids = []
    for path in paths:  # storing the originals (the upload) is not ingest: the clock starts at the first queueing
        with open(path, "rb") as source:
            ids.append(asset_create(source=source, filename=path.name, owner=None).asset.pk)
    queued = min(Asset.objects.filter(pk__in=ids).values_list("created_at", flat=True))
    deadline = time.monotonic() + 60 * 30
    while True:
        rows = list(Asset.objects.filter(pk__in=ids).values_list("status", "processed_at", "error"))
        if len(rows) < len(ids):
            raise RuntimeError("assets deleted under the bench: is another run using the same data dir?")
        if all(status in ("ready", "failed") for status, _, _ in rows):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready after 30 minutes: {rows}")
        time.sleep(POLL_SECONDS)
    failed = [error for status, _, error in rows if status == "failed"]
    if failed:
        raise RuntimeError(f"ingest failed: {failed}")
    return (max(processed for _, processed, _ in rows) - queued).total_seconds()


# The per-step breakdown, in this process.

def step_seconds(path: Path) -> dict[str, float]:
    from mediahub.assets.models import Asset
    from mediahub.assets.services import asset_create
    from workers import tasks
    from workers.pipeline import STEPS

    assets_clear()
    with open(path, "rb") as source:
        asset = asset_create(source=source, filename=path.name, owner=None).asset
    timings = {}
    for step in STEPS:
        started, cpu = time.perf_counter(), cpu_seconds()
        getattr(tasks, step).apply(args=(asset.pk, str(asset.run_id)))
        timings[STEP_NAMES[step]] = (time.perf_counter() - started, cpu_seconds() - cpu)
    asset = Asset.objects.get(pk=asset.pk)
    assert asset.status == "ready", asset.error
    return timings


def cpu_seconds() -> float:
    """This process's CPU time, all threads (FFmpeg's, dlib's and torch's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def decode_cpu_seconds(path: Path) -> tuple[float, float]:
    cpu = cpu_seconds()
    wall = decode_seconds([path])
    return wall, cpu_seconds() - cpu


def warm_up(concurrency: int) -> None:
    """What a worker's pool process does once: count its share of the cores (torch, decoding and faces
    threads), load the models."""
    from workers import celery

    celery._pool_size_remember(sender=argparse.Namespace(concurrency=concurrency))
    celery._torch_threads_set()
    from workers.ml.clip import load_clip
    from workers.ml.faces import load_face_models
    from mediahub.search.selectors import active_clip_spec

    load_clip(active_clip_spec())
    load_face_models()


def main() -> None:
    args = parse_args()
    name, pretrained = MODELS[args.model]
    os.environ["MEDIAHUB_CLIP_MODEL"], os.environ["MEDIAHUB_CLIP_PRETRAINED"] = name, pretrained
    import django

    from mediahub import launch

    launch.services_attach(launch.data_dir_from_environment())
    django.setup()
    from django.core.management import call_command

    from workers.pipeline import pipeline_purge

    call_command("migrate", verbosity=0)
    pipeline_purge()
    assets_clear()
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    results = {}
    folder = Path(os.environ["MEDIAHUB_DATA_DIR"]) / "videos"  # kept between runs: making them takes minutes
    folder.mkdir(exist_ok=True)
    videos = {(w, h): [video_made(folder / f"world_{w}x{h}_{args.seconds:g}s_{args.fps:g}_{n}.mp4",
                                  seconds=args.seconds, width=w, height=h, fps=args.fps, seed=100 + n)
                       for n in range(args.batch)]
              for w, h in sizes}
    print(f"videos made: {', '.join(f'{w}x{h}' for w, h in sizes)}", file=sys.stderr)
    if not args.no_steps:
        warm_up(args.concurrency)
        step_seconds(videos[sizes[0]][0])  # the first asset of a process pays for lazy set-ups: not counted
        for size, paths in videos.items():
            decodes, runs = [], []
            for _ in range(max(1, args.rounds // 2)):
                for path in paths:
                    decodes.append(decode_cpu_seconds(path))
                    runs.append(step_seconds(path))
            results.setdefault(size, {})["steps"] = {
                step: tuple(statistics.median(run[step][k] for run in runs) for k in (0, 1)) for step in runs[0]}
            results[size]["step_decode"] = tuple(statistics.median(d[k] for d in decodes) for k in (0, 1))
            print(f"{size}: decode {results[size]['step_decode']}, steps {results[size]['steps']}", file=sys.stderr)
    if not args.no_celery:
        pipeline_purge()
        worker = Worker(args.concurrency, Path(os.environ["MEDIAHUB_DATA_DIR"]) / "bench-worker.log")
        try:
            ingest_seconds(videos[sizes[0]])  # the worker's processes load their models: not counted
            batches = dict(videos)
            if args.mixed:
                batches["mixed"] = [paths[0] for paths in videos.values()]
            for size, paths in batches.items():
                decodes, ingests = [], []
                for _ in range(args.rounds):
                    decodes.append(decode_seconds(paths))
                    ingests.append(ingest_seconds(paths))
                    print(f"{size}: decode {decodes[-1]:.2f} s, ingest {ingests[-1]:.2f} s", file=sys.stderr)
                results.setdefault(size, {}).update(
                    decode=statistics.median(decodes), ingest=statistics.median(ingests),
                    ratio=statistics.median(d / i for d, i in zip(decodes, ingests)))
        finally:
            worker.stop()
    assets_clear()
    report(args, results)


def report(args, results) -> None:
    print(f"\n{args.batch} × {args.seconds:g} s H.264 at {args.fps:g} fps per resolution, model {args.model}, "
          f"worker concurrency {args.concurrency}, {os.cpu_count()} CPU cores; medians of {args.rounds} rounds:\n")
    for size, row in results.items():
        mixed = size == "mixed"
        print("**one file of each size, queued together**\n" if mixed else f"**{size[0]}×{size[1]}**\n")
        if "ingest" in row:
            print("| batch through Celery | decode s | ingest s | ratio (decode / ingest) |")
            print("|---|---|---|---|")
            files = len(results) - 1 if mixed else args.batch
            print(f"| {files} files | {row['decode']:.2f} | {row['ingest']:.2f} | **{row['ratio']:.2f}** |\n")
        if "steps" in row:
            steps = row["steps"]
            print("| one file, in-process, wall s (CPU s) | decode | " + " | ".join(steps) + " | all steps | ratio |")
            print("|---" * (len(steps) + 4) + "|")
            for k, unit in ((0, "wall s"), (1, "CPU s")):
                total = sum(v[k] for v in steps.values())
                print(f"| {unit} | {row['step_decode'][k]:.2f} | " + " | ".join(f"{v[k]:.2f}" for v in steps.values())
                      + f" | {total:.2f} | {row['step_decode'][k] / total:.2f} |")
            print()


if __name__ == "__main__":
    main()
