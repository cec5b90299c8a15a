"""Load, measured: people searching, opening assets, playing media and uploading at once, with Locust.

    .venv/bin/python bench/load.py        # ~4.5 minutes on a quiet 2-core machine (~1 more the first time: the library)

Builds a library first (synthetic per-second vectors of the demo model, ~100,000 seconds in 10-minute assets
with shots, titles, sources and rights, as bench/search_latency.py does for ViT-B-32; plus a few real
demo-world videos ingested through the API, which the viewers and players open), then starts the server the
`make run` way (`manage.py serve`: embedded Postgres and Redis, one Celery worker, gunicorn with
mediahub/gunicorn_config.py) on 127.0.0.1 and runs bench/locustfile.py headless, phase by phase, each bounded
in time and user count:

- the mix without an ingest: searchers, viewers (asset page, API, shots, thumbnail) and players (ranged GETs);
- the same mix with uploaders (each uploads a demo-world video, waits until it is ready, uploads the next);
- the knee: searchers in steps (8, 16, 32, 64, 96) with the uploaders' ingest running.

Statistics are taken after every user of a phase has started (Locust's --reset-stats). Every simulated person
has an account of their own, so the per-user throttles (MEDIAHUB_SEARCH_RATE, default 120/minute) apply as they
do to people and nobody reaches them. Prints Markdown tables: p50/p95 and errors per endpoint per phase, and
the knee. Uses its own data dir (var/bench-load), whatever the environment says.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.http_calls import http_get  # noqa: E402

DATA_DIR = REPO / "var" / "bench-load"
os.environ["MEDIAHUB_DATA_DIR"] = str(DATA_DIR)
for variable in ("DATABASE_URL", "REDIS_URL", "MEDIAHUB_CLIP_PRETRAINED"):
    os.environ.pop(variable, None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
os.environ["MEDIAHUB_CLIP_MODEL"] = "demo"

ASSET_SECONDS = 600
SCENE_SECONDS = 6
LATENT = 32
TOPICS = 2000
SOURCES = ["Reuters", "AP", "AFP", "Staff", "Stringer", "Pool"]
TITLE_WORDS = ["flood", "bridge", "crowd", "fire", "night", "river", "car", "minister", "storm", "harbour", "protest",
               "mayor", "podium", "police", "school", "train", "market", "airport"]
LIBRARY_VERSION = 2  # a library built by an older version of this script is built again
SEED_ASSETS = 3  # real videos ingested before the phases: what viewers and players open
UPLOAD_BASES = 6  # distinct demo-world videos; each upload is one of them made unique by a `free` box
UPLOADS_PER_UPLOADER = 12  # per phase: more than one uploader gets through in a phase


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=100_000, help="seconds of footage in the synthetic library")
    parser.add_argument("--steps", default="8,16,32,64,96", help="searchers in each step of the knee")
    parser.add_argument("--mix-searchers", type=int, default=64)
    parser.add_argument("--viewers", type=int, default=6)
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--uploaders", type=int, default=2)
    parser.add_argument("--phase-seconds", type=int, default=25, help="measured seconds per phase (after the ramp)")
    parser.add_argument("--ramp-seconds", type=int, default=5)
    parser.add_argument("--p95-limit-ms", type=float, default=1000.0)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--reload", action="store_true", help="build the synthetic library again")
    return parser.parse_args()


def _normalise(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def synthetic_vectors(count: int, dim: int, seed: int = 12) -> np.ndarray:
    """Per-second vectors shaped like footage: scenes of SCENE_SECONDS around topics in a low-dimensional subspace."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((dim, LATENT)))[0].astype(np.float32)
    topics = _normalise(rng.standard_normal((TOPICS, LATENT)).astype(np.float32))
    scenes = -(-count // SCENE_SECONDS)
    scene_latent = topics[rng.integers(0, TOPICS, scenes)] + 0.6 * rng.standard_normal((scenes, LATENT)) / np.sqrt(LATENT)
    latent = np.repeat(_normalise(scene_latent), SCENE_SECONDS, axis=0)[:count]
    latent = latent + 0.15 * rng.standard_normal((count, LATENT)).astype(np.float32) / np.sqrt(LATENT)
    noise = rng.standard_normal((count, dim)).astype(np.float32) / np.sqrt(dim)
    return _normalise(_normalise(latent) @ basis.T + 0.2 * noise)


def shot_description(rng) -> tuple[str, str]:
    """A generated description as the demo world's shots get them: one of its 8 x 6 x 7 scenes, in both languages."""
    from workers.ml.demo import world

    colour, background = rng.choice(list(world.COLOURS), 2, replace=False)
    shape = world.SHAPES[int(rng.integers(len(world.SHAPES)))]
    return (f"a {colour} {shape} on a {background} background",
            f"{world.COLOUR_ZH[background]}背景上的{world.COLOUR_ZH[colour]}{world.SHAPE_ZH[shape]}")


def calibration_keep(*, model, frames: int) -> None:
    """The demo model's hand-measured figures, stored as this library's calibration: measuring it would read each
    frame's JPEG, and the synthetic seconds have none (a finished upload would queue the measurement again)."""
    from django.utils import timezone

    from mediahub.search.models import ModelCalibration
    from mediahub.search.selectors import active_clip_spec
    from workers.ml.clip import load_clip

    figures = load_clip(active_clip_spec()).calibration
    ModelCalibration.objects.update_or_create(model=model, defaults={
        "match_floor": figures.match_floor, "spread": figures.spread, "feedback_radius": figures.feedback_radius,
        "tag_floor": figures.tag_floor, "shot_continuity": figures.shot_continuity, "frames": frames,
        "library_frames": frames, "measured_at": timezone.now(), "details": {"source": "bench/load.py: hand-measured"}})


def library_load(*, seconds: int, model) -> None:
    """Assets, frames, vectors and shots by COPY (what the pipeline would have stored), then the index."""
    from django.db import connection
    from pgvector.psycopg import register_vector

    from mediahub.search.services import vector_index_ensure

    vectors = synthetic_vectors(seconds, int(model.dim))
    rng = np.random.default_rng(3)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE assets_asset, assets_frame, search_frameembedding, search_search, search_feedback,"
                       " shots_shot CASCADE")
        cursor.execute(f"DROP INDEX IF EXISTS {model.index_name}")  # bulk-load first, build the graph once after
    connection.ensure_connection()
    raw = connection.connection
    register_vector(raw)
    assets = -(-seconds // ASSET_SECONDS)
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with raw.cursor() as cursor:
        with cursor.copy("COPY assets_asset (id, title, description, original, original_filename, size_bytes, sha256, kind,"
                         " mime_type, duration, width, height, codec, rotation, container, status, stage, progress, run_id,"
                         " source, rights_status, credit, keywords, location, notes, rights_note, created_at, updated_at)"
                         " FROM STDIN") as copy:
            for a in range(1, assets + 1):
                created = stamp + dt.timedelta(days=int(rng.integers(0, 330)))
                title = " ".join(rng.choice(TITLE_WORDS, 3))
                copy.write_row((a, f"{title} {a}", "", f"originals/synthetic-{a}.mp4", f"s{a}.mp4", 1, f"{a:064x}",
                                "video", "video/mp4", float(ASSET_SECONDS), 1280, 720, "h264", 0, "mp4", "ready", "done",
                                1.0, f"00000000-0000-0000-0000-{a:012x}", SOURCES[a % len(SOURCES)],
                                ["cleared", "", "restricted", "cleared"][a % 4], "", [], "", "", "", created, created))
        with cursor.copy("COPY assets_frame (id, asset_id, index, time, image, created_at, updated_at) FROM STDIN") as copy:
            for i in range(seconds):
                copy.write_row((i + 1, i // ASSET_SECONDS + 1, i % ASSET_SECONDS, float(i % ASSET_SECONDS), "", stamp, stamp))
        with cursor.copy("COPY search_frameembedding (id, frame_id, asset_id, model_id, time, embedding, created_at,"
                         " updated_at) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int8", "int8", "int8", "float8", "vector", "timestamptz", "timestamptz"])
            for i in range(seconds):
                copy.write_row((i + 1, i + 1, i // ASSET_SECONDS + 1, model.pk, float(i % ASSET_SECONDS), vectors[i],
                                stamp, stamp))
        with cursor.copy("COPY shots_shot (asset_id, index, start, \"end\", description_en, description_zh, edited_en,"
                         " edited_zh, created_at, updated_at) FROM STDIN") as copy:
            for a in range(1, assets + 1):
                for i in range(ASSET_SECONDS // SCENE_SECONDS):
                    en, zh = shot_description(rng)
                    copy.write_row((a, i, float(i * SCENE_SECONDS), float((i + 1) * SCENE_SECONDS), en, zh,
                                    "", "", stamp, stamp))
        for table in ("assets_asset", "assets_frame", "search_frameembedding"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    raw.commit()
    vector_index_ensure(model=model)
    with connection.cursor() as cursor:  # autocommit: VACUUM can't run in a transaction
        for table in ("assets_asset", "assets_frame", "search_frameembedding", "shots_shot"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def library_prepare(*, seconds: int, reload: bool):
    """The bench's embedded services, migrated, with the synthetic library loaded (unless it is already)."""
    import django

    from mediahub import launch

    launch.services_attach(launch.data_dir_from_environment())  # explicit: settings start nothing
    django.setup()
    from django.core.management import call_command

    from mediahub.assets.models import Asset
    from mediahub.search.selectors import active_clip_spec
    from mediahub.search.services import embedding_model_ensure

    call_command("migrate", verbosity=0)
    model = embedding_model_ensure(spec=active_clip_spec())
    marker, built = DATA_DIR / "library.txt", f"{LIBRARY_VERSION} {seconds}"
    synthetic = Asset.objects.filter(original__startswith="originals/synthetic-").count()
    if reload or synthetic != -(-seconds // ASSET_SECONDS) or not marker.exists() or marker.read_text() != built:
        started = time.perf_counter()
        library_load(seconds=seconds, model=model)
        marker.write_text(built)
        print(f"loaded {seconds:,} seconds of synthetic footage in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    calibration_keep(model=model, frames=seconds)
    return model


def accounts_prepare(*, people: int, editors: int) -> dict:
    """An account and a fresh API token per simulated person: viewers search, open and play; editors upload."""
    from django.contrib.auth import get_user_model

    from mediahub.core.roles import role_set
    from mediahub.core.services import api_token_create

    accounts = {"searchers": [], "editors": []}
    for kind, role, count in (("searchers", "viewer", people), ("editors", "editor", editors)):
        for i in range(count):
            user, _ = get_user_model().objects.get_or_create(username=f"bench-{role}-{i}")
            role_set(user=user, role=role)
            accounts[kind].append({"username": user.username, "token": api_token_create(user=user)})
    return accounts


def upload_bases() -> list[Path]:
    """Demo-world videos (640x360, ~20 s of scenes with cuts), made once and kept in the data dir."""
    from workers.ml.demo import world
    from workers.ml.demo.video import write_world_video

    folder = DATA_DIR / "upload-bases"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(UPLOAD_BASES):
        path = folder / f"world-{k}.mp4"
        if not path.exists():
            rng = np.random.default_rng(100 + k)
            scenes = [world.random_scene(rng, duration=float(rng.integers(3, 7))) for _ in range(5)]
            partial = path.with_suffix(".part.mp4")
            write_world_video(partial, scenes, width=640, height=360)
            partial.rename(path)
        paths.append(path)
    return paths


def unique_uploads(bases: list[Path], count: int, folder: Path) -> list[str]:
    """`count` files, each a base video with a top-level MP4 `free` box of its own appended: other bytes (so not
    a duplicate upload), the same pictures (players and decoders skip `free` boxes)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        payload = f"mediahub load bench {time.time_ns()} {i}".encode()
        path = folder / f"upload-{i}.mp4"
        shutil.copyfile(bases[i % len(bases)], path)
        with open(path, "ab") as handle:
            handle.write(struct.pack(">I", 8 + len(payload)) + b"free" + payload)
        paths.append(str(path))
    return paths


def http_post_file(url: str, path: str, *, token: str) -> bytes:
    """POST one file as multipart form data (`file`), as an upload form does."""
    boundary = f"mediahub-{time.time_ns()}"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{Path(path).name}\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode() + Path(path).read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Token {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_start(port: int, log: Path) -> subprocess.Popen:
    """`manage.py serve` (what `make run` runs) on the bench's data dir; returns once it answers healthy with a
    worker and the search model loaded."""
    env = dict(os.environ, PORT=str(port), MEDIAHUB_BIND="127.0.0.1")
    server = subprocess.Popen([sys.executable, "manage.py", "serve"], cwd=REPO, env=env, stdout=log.open("w"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"manage.py serve exited ({server.returncode}); see {log}")
        try:
            health = json.loads(http_get(f"http://127.0.0.1:{port}/api/health", timeout=5))
            if health["workers"] >= 1 and health.get("search_model") == "loaded":
                return server
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(1)
    server_stop(server)
    raise SystemExit(f"manage.py serve did not become healthy within 180 s; see {log}")


def server_stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGINT)  # what Ctrl-C does: serve stops its children and the services
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def ingest_idle_wait(timeout: float = 300) -> None:
    """Until no asset is queued or processing (serve resumes what an earlier run left unfinished)."""
    from mediahub.assets.models import Asset

    deadline = time.monotonic() + timeout
    while Asset.objects.filter(status__in=["queued", "processing"]).exists() and time.monotonic() < deadline:
        time.sleep(1)


def seed_assets(*, base: str, token: str, files: list[str]) -> list[int]:
    """Real assets for viewers and players: those of an earlier run, else these files uploaded and waited for."""
    from mediahub.assets.models import Asset

    ready = list(Asset.objects.filter(status="ready").exclude(original__startswith="originals/synthetic-")
                 .order_by("pk").values_list("pk", flat=True)[:SEED_ASSETS])
    if len(ready) >= SEED_ASSETS:
        return ready
    ids = [json.loads(http_post_file(f"{base}/api/assets", path, token=token))["id"]
           for path in files[:SEED_ASSETS - len(ready)]]
    deadline = time.monotonic() + 300
    while ids and time.monotonic() < deadline:
        states = set(Asset.objects.filter(pk__in=ids).values_list("status", flat=True))
        if states <= {"ready", "failed"}:
            break
        time.sleep(1)
    return ready + list(Asset.objects.filter(pk__in=ids, status="ready").values_list("pk", flat=True))


def cpu_seconds(server: subprocess.Popen) -> dict[str, float]:
    """CPU seconds used so far by the web server, the Celery worker and the embedded Postgres, each with
    every process under it (those that ended and were reaped included)."""
    import psutil

    from mediahub.embedded import EmbeddedPostgres

    roots = {"postgres": EmbeddedPostgres(DATA_DIR).pid()}
    for child in psutil.Process(server.pid).children():
        command = " ".join(child.cmdline())
        roots["web" if "gunicorn" in command else "worker" if "celery" in command else command] = child.pid
    used = {}
    for group, pid in roots.items():
        try:
            root = psutil.Process(pid)
            times = root.cpu_times()
            total = times.user + times.system + times.children_user + times.children_system
            for process in root.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += sum(process.cpu_times()[:2])
            used[group] = total
        except (psutil.NoSuchProcess, TypeError, ValueError):
            used[group] = 0.0
    return used


def phase_run(*, name: str, base: str, server: subprocess.Popen, config: dict, searchers: int, viewers: int,
              players: int, uploaders: int, seconds: int, ramp: int, workdir: Path) -> dict:
    """One Locust run, headless: its per-endpoint rows {name: (requests, failures, p50, p95)}, the CPU seconds
    the web server, worker and Postgres used over the whole run, its length and the load average."""
    users = searchers + viewers + players + uploaders
    config_path = workdir / f"{name}.json"
    config_path.write_text(json.dumps(config))
    env = dict(os.environ, LOAD_CONFIG=str(config_path), LOAD_SEARCHERS=str(searchers), LOAD_VIEWERS=str(viewers),
               LOAD_PLAYERS=str(players), LOAD_UPLOADERS=str(uploaders))
    prefix = workdir / name
    cpu_before, started = cpu_seconds(server), time.monotonic()
    subprocess.run([sys.executable, "-m", "locust", "-f", str(REPO / "bench" / "locustfile.py"), "--headless",
                    "--host", base, "-u", str(users), "-r", str(max(1.0, users / max(ramp, 1))),
                    "-t", f"{seconds + ramp}s", "--reset-stats", "--csv", str(prefix), "--only-summary",
                    "--loglevel", "WARNING", "--exit-code-on-error", "0", "--stop-timeout", "5"],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=(workdir / f"{name}.log").open("w"))
    cpu_after, wall = cpu_seconds(server), time.monotonic() - started
    rows = {}
    with open(f"{prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            label = row["Name"] if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
            rows[label] = (
                int(row["Request Count"]), int(row["Failure Count"]), _milliseconds(row["50%"]), _milliseconds(row["95%"]))
    cpu = {group: cpu_after[group] - cpu_before.get(group, 0.0) for group in cpu_after if group in cpu_before}
    return {"rows": rows, "load": os.getloadavg()[0], "cpu": cpu, "wall": wall}


def _milliseconds(cell: str) -> float:
    """A percentile of Locust's CSV: N/A for an endpoint with no request in the phase."""
    try:
        return float(cell)
    except ValueError:
        return math.nan


def cores_busy(result: dict, group: str) -> float:
    return result["cpu"].get(group, 0.0) / result["wall"]


def cpu_per_request_ms(result: dict) -> float:
    """The web server's and Postgres's CPU per request served (uploads and ingest polls included; Postgres also
    serves the worker): a figure that other jobs on the machine inflate far less than latency."""
    requests = result["rows"]["Aggregated"][0] - sum(row[0] for label, row in result["rows"].items()
                                                     if label.startswith("INGEST"))
    return 1000 * (result["cpu"].get("web", 0.0) + result["cpu"].get("postgres", 0.0)) / max(requests, 1)


def cpu_line(result: dict) -> str:
    cores = ", ".join(f"{group} {cores_busy(result, group):.2f}" for group in ("web", "postgres", "worker"))
    return f"cores busy: {cores}; web + Postgres CPU per request {cpu_per_request_ms(result):.0f} ms"


def table_print(title: str, result: dict) -> None:
    print(f"\n{title} (load average at the end {result['load']:.1f}; {cpu_line(result)})\n")
    print("| endpoint | requests | failed | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for label, (count, failed, p50, p95) in sorted(result["rows"].items(), key=lambda item: item[0] == "Aggregated"):
        print(f"| {label} | {count} | {failed} | {p50:,.0f} | {p95:,.0f} |")


SEARCH_API = "GET /api/search"


def search_row(result: dict) -> tuple[int, int, float, float]:
    return next(row for label, row in result["rows"].items() if label == SEARCH_API)


def main() -> None:
    args = parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each table as its phase ends, also into a file
    steps = [int(v) for v in args.steps.split(",")]
    started = time.monotonic()
    library_prepare(seconds=args.seconds, reload=args.reload)
    people = max(steps + [args.mix_searchers]) + args.viewers + args.players
    accounts = accounts_prepare(people=people, editors=max(args.uploaders, 1))
    workdir = DATA_DIR / "last-run"  # Locust's CSV files and logs of each phase, kept until the next run
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    bases = upload_bases()
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = server_start(port, DATA_DIR / "serve.log")
    try:
        assets = seed_assets(base=base, token=accounts["editors"][0]["token"],
                             files=unique_uploads(bases, SEED_ASSETS, workdir / "seed"))
        if not assets:
            raise SystemExit(f"no demo-world video became ready; see {DATA_DIR / 'serve.log'}")
        ingest_idle_wait()  # the first phase has no ingest
        common = dict(base=base, server=server, seconds=args.phase_seconds, ramp=args.ramp_seconds, workdir=workdir)
        results = {}

        def config(uploaders: int) -> dict:
            """A phase's settings; its upload files new ones (those of the phase before are deleted)."""
            shutil.rmtree(workdir / "uploads", ignore_errors=True)
            files = unique_uploads(bases, UPLOADS_PER_UPLOADER * uploaders, workdir / "uploads")
            return {"accounts": accounts, "assets": assets, "uploads": files, "sources": SOURCES}

        print(f"\n{args.seconds:,} seconds of footage (synthetic, demo model) + {len(assets)} demo-world videos; "
              f"{os.cpu_count()} CPUs; {args.phase_seconds} s measured per phase after a {args.ramp_seconds} s ramp")
        mix = dict(searchers=args.mix_searchers, viewers=args.viewers, players=args.players)
        results["mix"] = phase_run(name="mix", config=config(0), uploaders=0, **mix, **common)
        table_print(f"{args.mix_searchers} searchers, {args.viewers} viewers, {args.players} players, no ingest", results["mix"])
        results["mix-ingest"] = phase_run(name="mix-ingest", config=config(args.uploaders), uploaders=args.uploaders,
                                          **mix, **common)
        table_print(f"the same with {args.uploaders} uploaders (an ingest running throughout)", results["mix-ingest"])
        print(f"\nThe knee: searchers with {args.uploaders} uploaders' ingest running, search p95 ≤ {args.p95_limit_ms:,.0f} ms "
              "and no failed request\n")
        print(f"| searchers | searches | failed (all requests) | {SEARCH_API} p50 ms | p95 ms | ingests done "
              "| cores busy: web, Postgres, worker | web + Postgres CPU per request | load average |")
        print("|---|---|---|---|---|---|---|---|---|")
        knee = 0
        for searchers in steps:
            result = phase_run(name=f"knee-{searchers}", config=config(args.uploaders), searchers=searchers, viewers=0,
                               players=0, uploaders=args.uploaders, **common)
            count, _, p50, p95 = search_row(result)
            failed = result["rows"]["Aggregated"][1]
            ingests = next((row[0] for label, row in result["rows"].items() if label.startswith("INGEST")), 0)
            cores = ", ".join(f"{cores_busy(result, group):.2f}" for group in ("web", "postgres", "worker"))
            print(f"| {searchers} | {count} | {failed} | {p50:,.0f} | {p95:,.0f} | {ingests} | {cores} "
                  f"| {cpu_per_request_ms(result):.0f} ms | {result['load']:.1f} |")
            if p95 <= args.p95_limit_ms and failed == 0:
                knee = searchers
        print(f"\nThe knee: {knee} concurrent searchers hold search p95 ≤ {args.p95_limit_ms:,.0f} ms with an ingest running "
              f"(largest step that held). Whole run {time.monotonic() - started:.0f} s.")
    finally:
        server_stop(server)
        shutil.rmtree(workdir / "uploads", ignore_errors=True)


if __name__ == "__main__":
    main()
