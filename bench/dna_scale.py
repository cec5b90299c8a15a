"""Video DNA at scale: the copies tables filled with SYNTHETIC fingerprints, the HNSW build, the
bytes per second of video, and the check query (the selector POST /api/copies/check uses) for a
30 s clip taken from the library and for one that is not in it, at growing library sizes.

Synthetic footage: 30-minute assets cut into shots of 2-8 s; each shot has a random 256-bit PDQ
hash and its kept frames (--per-second, the sampler's rate after its quality and near-repeat
filters) drift from it by a few bits each. A random 256-bit hash is ~128 bits from any other, so
unrelated frames never match (as with PDQ on unrelated footage). The query taken from the library
is 30 s of an asset with 15 bits of every hash flipped (a re-encode moves PDQ by ~5-20 bits).

    .venv/bin/python bench/dna_scale.py --hours 10,100,1000
    .venv/bin/python bench/dna_scale.py --hours 1000 --queries 20   # reuses what is loaded

Always uses its own data dir (/work/scratch/dna-scale, or --data-dir) and embedded Postgres,
whatever the environment says: it truncates the copies tables and the assets it loads. A rerun
reuses the rows and the index already there; the library only grows (10 h, then 90 more, ...).
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", default="10,100,1000", help="library sizes to measure, growing")
    parser.add_argument("--per-second", type=float, default=3.0,
                        help="kept frames per second of video (the sampler takes 3 a second and keeps at most that)")
    parser.add_argument("--queries", type=int, default=10, help="check queries of each kind per size (0: only load and index)")
    parser.add_argument("--data-dir", default="/work/scratch/dna-scale")
    parser.add_argument("--reload", action="store_true", help="drop the synthetic library and load it again")
    return parser.parse_args()


ASSET_SECONDS = 1800
CLIP_SECONDS = 30
DRIFT_BITS = 6  # bits flipped from one kept frame to the next within a shot
REENCODE_BITS = 15  # bits a re-encode moves each hash of the query taken from the library
INDEX = "framehash_hash_hnsw"


def flip(hashes: np.ndarray, bits: int, rng) -> np.ndarray:
    """Each packed hash with about `bits` random bits flipped (each bit with probability bits/256)."""
    return hashes ^ np.packbits(rng.random((len(hashes), 256)) < bits / 256, axis=1)


def synthetic_asset(asset_number: int, per_second: float):
    """(times, hashes, mirrored) of one synthetic asset, the same for the same number: shots of
    2-8 s, each a random hash drifting by about DRIFT_BITS bits from one kept frame to the next.
    (The stored fingerprint's view hashes are random too: only their bytes matter here.)"""
    rng = np.random.default_rng(asset_number)
    times = np.arange(0, ASSET_SECONDS, 1 / per_second, dtype=np.float32)
    cuts = np.cumsum(rng.uniform(2, 8, size=ASSET_SECONDS // 2))
    shot = np.searchsorted(cuts, times, side="right")
    bases = rng.integers(0, 256, size=(shot.max() + 1, 32), dtype=np.uint8)
    drift = np.bitwise_xor.accumulate(np.packbits(rng.random((len(times), 256)) < DRIFT_BITS / 256, axis=1), axis=0)
    first = np.searchsorted(shot, shot, side="left")  # each frame's shot's first frame
    hashes = bases[shot] ^ drift ^ drift[first]
    mirrored = rng.integers(0, 256, size=hashes.shape, dtype=np.uint8)
    return times, hashes, mirrored


def loaded_assets() -> int:
    from mediahub.copies.models import Fingerprint

    return Fingerprint.objects.count()


def load(upto_assets: int, per_second: float, owner_id: int) -> float:
    """Add synthetic assets until there are `upto_assets`, by COPY with the HNSW index dropped; seconds taken."""
    from django.db import connection

    from mediahub.copies.selectors import hash_bits
    from workers.ml.dna import VIEWS, Fingerprint

    start = loaded_assets()
    if start >= upto_assets:
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")  # bulk-load first, build the graph once after
    connection.ensure_connection()
    raw = connection.connection
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    started = time.perf_counter()
    with raw.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM copies_framehash")
        next_hash = cursor.fetchone()[0] + 1
        for number in range(start + 1, upto_assets + 1):
            times, hashes, mirrored = synthetic_asset(number, per_second)
            fingerprint = Fingerprint(times=times, hashes=hashes, mirrored=mirrored, duration=float(ASSET_SECONDS),
                                      views={name: np.roll(mirrored, shift, axis=0)
                                             for shift, name in enumerate(VIEWS, start=1)})
            cursor.execute(
                "INSERT INTO assets_asset (id, title, description, original, original_filename, size_bytes, sha256,"
                " kind, mime_type, duration, width, height, codec, rotation, container, status, stage, progress,"
                " run_id, owner_id, created_at, updated_at) VALUES (%s, %s, '', %s, %s, 1, %s, 'video', 'video/mp4',"
                " %s, 1280, 720, 'h264', 0, 'mp4', 'ready', 'done', 1.0, %s, %s, %s, %s)",
                [number, f"synthetic footage {number}", f"originals/none-{number}.mp4", f"f{number}.mp4",
                 f"{number:064x}", float(ASSET_SECONDS), f"00000000-0000-0000-0000-{number:012x}", owner_id, stamp, stamp])
            cursor.execute(
                "INSERT INTO copies_fingerprint (id, asset_id, run_id, data, frame_count, duration, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [number, number, f"00000000-0000-0000-0000-{number:012x}", fingerprint.to_bytes(), len(times),
                 float(ASSET_SECONDS), stamp, stamp])
            with cursor.copy("COPY copies_framehash (id, fingerprint_id, time, hash) FROM STDIN") as copy:
                for time_, bits in zip(times.tolist(), hash_bits(hashes)):
                    copy.write_row((next_hash, number, time_, bits))
                    next_hash += 1
            if number % 100 == 0:
                raw.commit()
                print(f"  loaded {number} assets ({number * ASSET_SECONDS / 3600:.0f} h) "
                      f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for table in ("assets_asset", "copies_fingerprint"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [upto_assets])
        cursor.execute("SELECT setval(pg_get_serial_sequence('copies_framehash', 'id'), %s)", [next_hash])
    raw.commit()
    return time.perf_counter() - started


def build_index() -> float | None:
    """Build the app's HNSW index (as its migration defines it) if it is missing; seconds taken."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [INDEX])
        if cursor.fetchone():
            return None
        cursor.execute("SET maintenance_work_mem = '8GB'")  # the graph of 1,000 h is ~5 GB
        cursor.execute("SET max_parallel_maintenance_workers = 1")
        started = time.perf_counter()
        cursor.execute(f"CREATE INDEX {INDEX} ON copies_framehash USING hnsw (hash bit_hamming_ops)"
                       " WITH (m = 16, ef_construction = 64)")
        seconds = time.perf_counter() - started
        cursor.execute("VACUUM ANALYZE copies_framehash")
    return seconds


def sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s), pg_total_relation_size('copies_framehash'),"
                       " pg_total_relation_size('copies_fingerprint')", [INDEX])
        index, hashes_total, fingerprints = cursor.fetchone()
    return {"index": index, "table": hashes_total - index, "fingerprints": fingerprints}


def query_from_library(assets: int, per_second: float, rng):
    from workers.ml.dna import Fingerprint

    number = int(rng.integers(1, assets + 1))
    times, hashes, mirrored = synthetic_asset(number, per_second)
    start = float(rng.uniform(0, ASSET_SECONDS - CLIP_SECONDS))
    chosen = (times >= start) & (times < start + CLIP_SECONDS)
    clip = Fingerprint(times=times[chosen] - times[chosen][0], hashes=flip(hashes[chosen], REENCODE_BITS, rng),
                       mirrored=flip(mirrored[chosen], REENCODE_BITS, rng), duration=float(CLIP_SECONDS))
    return number, float(times[chosen][0]), clip


def query_not_in_library(per_second: float, rng):
    from workers.ml.dna import Fingerprint

    times, hashes, mirrored = synthetic_asset(10**9 + int(rng.integers(0, 10**6)), per_second)
    chosen = times < CLIP_SECONDS
    return Fingerprint(times=times[chosen], hashes=hashes[chosen], mirrored=mirrored[chosen],
                       duration=float(CLIP_SECONDS))


def measure_queries(assets: int, per_second: float, count: int) -> dict:
    from mediahub.copies.selectors import copies_find

    rng = np.random.default_rng(assets)
    found_times, missing_times, hits, false_assets = [], [], 0, 0
    copies_find(query=query_not_in_library(per_second, rng))  # warm the connection and the index pages
    for _ in range(count):
        number, start, clip = query_from_library(assets, per_second, rng)
        began = time.perf_counter()
        found = copies_find(query=clip)
        found_times.append(time.perf_counter() - began)
        hits += any(copy.asset_id == number and abs(copy.segments[0].other_start - start) < 1.0 for copy in found)
        false_assets += sum(copy.asset_id != number for copy in found)
        clip = query_not_in_library(per_second, rng)
        began = time.perf_counter()
        false_assets += len(copies_find(query=clip))
        missing_times.append(time.perf_counter() - began)
    return {"found_median": statistics.median(found_times), "found_max": max(found_times),
            "missing_median": statistics.median(missing_times), "missing_max": max(missing_times),
            "hits": hits, "count": count, "false_assets": false_assets}


def end_to_end(path: Path, count: int) -> str:
    """What POST /api/copies/check spends on a 30 s 1280×720 25 fps H.264 clip that is not in the
    library: fingerprinting it (decode included), then the same selector; medians of `count`."""
    from mediahub.copies.selectors import copies_find
    from workers.ml.demo.video import write_world_video
    from workers.ml.demo.world import random_scene
    from workers.ml.dna import fingerprint_file

    if not path.exists():
        rng = np.random.default_rng(30)
        write_world_video(path, [random_scene(rng, duration=5.0) for _ in range(6)], fps=25, width=1280, height=720)
    fingerprint_times, query_times = [], []
    for _ in range(count):
        began = time.perf_counter()
        fingerprint = fingerprint_file(path)
        fingerprint_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        copies_find(query=fingerprint)
        query_times.append(time.perf_counter() - began)
    fingerprinted, queried = statistics.median(fingerprint_times), statistics.median(query_times)
    return (f"End to end, a 30 s 1280×720 clip not in the library: fingerprint {fingerprinted:.2f} s + query "
            f"{queried:.2f} s = {fingerprinted + queried:.2f} s (medians of {count})")


def main() -> None:
    args = parse_args()
    os.environ["MEDIAHUB_DATA_DIR"] = args.data_dir
    for variable in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(variable, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    import django

    from mediahub import launch

    launch.services_attach(launch.data_dir_from_environment())
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if args.reload:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE assets_asset, copies_fingerprint, copies_framehash, copies_match CASCADE")
    owner, _ = get_user_model().objects.get_or_create(username="dna-bench")
    print(f"\nSynthetic fingerprints: {args.per_second:g} kept frames per second, 30-minute assets, "
          f"HNSW m=16, ef_construction=64, bit_hamming_ops; {args.queries} check queries of each kind.\n")
    print("| library | frame hashes | load | HNSW build | index | table | fingerprints | bytes per second of video "
          "| 30 s clip found: median / max | recall | 30 s clip not in library: median / max | false assets |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for hours in [int(value) for value in args.hours.split(",")]:
        assets = hours * 3600 // ASSET_SECONDS
        load_seconds = load(assets, args.per_second, owner.pk)
        build_seconds = build_index()
        size = sizes()
        if not args.queries:
            built = f"in {build_seconds:.0f} s" if build_seconds is not None else "(existing)"
            print(f"  {hours:,} h loaded and indexed {built}", file=sys.stderr)
            continue
        stats = measure_queries(assets, args.per_second, args.queries)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM copies_framehash")
            rows = cursor.fetchone()[0]
        video_seconds = assets * ASSET_SECONDS
        build = f"{build_seconds:.0f} s" if build_seconds is not None else "(existing)"
        print(f"| {hours:,} h | {rows:,} | {load_seconds:.0f} s | {build} | {size['index'] / 2**20:,.0f} MiB "
              f"| {size['table'] / 2**20:,.0f} MiB | {size['fingerprints'] / 2**20:,.0f} MiB "
              f"| {size['index'] / video_seconds:.0f} index + {size['table'] / video_seconds:.0f} table "
              f"+ {size['fingerprints'] / video_seconds:.0f} fingerprint "
              f"| {stats['found_median'] * 1000:.0f} / {stats['found_max'] * 1000:.0f} ms "
              f"| {stats['hits']}/{stats['count']} "
              f"| {stats['missing_median'] * 1000:.0f} / {stats['missing_max'] * 1000:.0f} ms "
              f"| {stats['false_assets']} |", flush=True)
    if args.queries:
        print("\n" + end_to_end(Path(args.data_dir) / "clip_720p_30s.mp4", args.queries))


if __name__ == "__main__":
    main()
