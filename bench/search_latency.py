"""Search at scale: HNSW recall against exact search, and latency through the selector and the HTTP API.

Bulk-loads synthetic per-second vectors (512-d, like ViT-B-32) shaped like
footage: seconds of a scene sit close to the scene's vector, scenes cluster
around topics, and query vectors sit on the far side of a shared offset from
the image vectors (CLIP's "modality gap"), which is what makes text-to-image
nearest-neighbour search harder than image-to-image. Like real CLIP
embeddings, the vectors have a low intrinsic dimension (they lie near a
LATENT-dimensional subspace, plus isotropic noise); isotropic random 512-d
vectors would be the worst case for any index (all distances alike) and
nothing like footage.

    .venv/bin/python bench/search_latency.py --seconds 100000
    .venv/bin/python bench/search_latency.py --seconds 1000000 --ef 40,100,200,400 --full

Always uses its own data dir (var/bench-search) and embedded Postgres, whatever
the environment says, because it truncates what it loads; the API part
starts gunicorn on it with the ViT-B-32 architecture (random weights: the
text encoder costs the same as the trained one). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.http_calls import http_get  # noqa: E402
# Always a throwaway embedded database of its own: the script truncates the tables it loads.
# MEDIAHUB_BENCH_SEARCH_DIR keeps a built library elsewhere (a million seconds takes minutes to build).
os.environ["MEDIAHUB_DATA_DIR"] = os.environ.get("MEDIAHUB_BENCH_SEARCH_DIR") or str(REPO / "var" / "bench-search")
for variable in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(variable, None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
os.environ["MEDIAHUB_CLIP_MODEL"] = "ViT-B-32"
os.environ["MEDIAHUB_CLIP_PRETRAINED"] = "random"

DIM = 512
LATENT = 48
ASSET_SECONDS = 600  # ten-minute videos
SCENE_SECONDS = 6
TOPICS = 2000
QUERIES = 200


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=100_000, help="seconds of footage (vectors) to load")
    parser.add_argument("--ef", default="40,100,200,400", help="hnsw.ef_search values to measure")
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=64)
    parser.add_argument("--full", action="store_true", help="also measure a full-precision (vector) index")
    parser.add_argument("--reload", action="store_true", help="drop and reload the synthetic library")
    parser.add_argument("--filters-only", action="store_true",
                        help="only time the filtered searches (the index is built only if missing)")
    parser.add_argument("--only", help="with --filters-only: the filters whose label contains this text")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each filter's coarse pass")
    parser.add_argument("--recall-queries", type=int, default=50, help="queries per filter for recall@10")
    parser.add_argument("--queries", type=int, default=100, help="queries per filter for the selector's latency")
    parser.add_argument("--api-requests", type=int, default=200)
    return parser.parse_args()


class World:
    """The synthetic embedding space: a random LATENT-d subspace of R^DIM, topics in it, and the modality gap."""

    def __init__(self, seed: int = 11):
        rng = np.random.default_rng(seed)
        self.basis = np.linalg.qr(rng.standard_normal((DIM, LATENT)))[0].astype(np.float32)  # DIM x LATENT, orthonormal
        self.topics = _normalise(rng.standard_normal((TOPICS, LATENT)).astype(np.float32))
        self.gap = _normalise(rng.standard_normal(DIM).astype(np.float32))

    def embed(self, latent: np.ndarray, rng, isotropic: float) -> np.ndarray:
        noise = rng.standard_normal((len(latent), DIM)).astype(np.float32) / np.sqrt(DIM)
        return _normalise(_normalise(latent) @ self.basis.T + isotropic * noise)


def _jitter(rng, count: int, scale: float) -> np.ndarray:
    return scale * rng.standard_normal((count, LATENT)).astype(np.float32) / np.sqrt(LATENT)


def synthetic_vectors(world: World, rng, count: int) -> np.ndarray:
    """Image vectors for `count` seconds: scenes of SCENE_SECONDS around random topics."""
    scenes = -(-count // SCENE_SECONDS)
    scene_latent = _normalise(world.topics[rng.integers(0, TOPICS, scenes)] + _jitter(rng, scenes, 0.6))
    per_second = np.repeat(scene_latent, SCENE_SECONDS, axis=0)[:count] + _jitter(rng, count, 0.15)
    return _normalise(world.embed(per_second, rng, isotropic=0.2) - 0.3 * world.gap)


def _normalise(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def load_library(seconds: int, model, reload: bool) -> np.ndarray:
    """Load the vectors (if not loaded yet) and return them as a float32 matrix ordered by row id."""
    from django.db import connection
    from pgvector.psycopg import register_vector

    from mediahub.search.models import FrameEmbedding

    cache = Path(os.environ["MEDIAHUB_DATA_DIR"]) / f"vectors-{seconds}.npy"
    if not reload and cache.exists() and FrameEmbedding.objects.filter(model=model).count() == seconds:
        return np.load(cache)
    vectors = synthetic_vectors(World(), np.random.default_rng(12), seconds)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE assets_asset, assets_frame, search_frameembedding, search_search, search_feedback CASCADE")
        cursor.execute(f"DROP INDEX IF EXISTS {model.index_name}")  # bulk-load first, build the graph once after
    connection.ensure_connection()
    raw = connection.connection
    register_vector(raw)
    started = time.perf_counter()
    assets = -(-seconds // ASSET_SECONDS)
    with raw.cursor() as cursor:
        with cursor.copy("COPY assets_asset (id, title, description, original, original_filename, size_bytes, sha256, kind,"
                         " mime_type, duration, width, height, codec, rotation, container, status, stage, progress, run_id,"
                         " keywords, location, source, credit, rights_status, rights_note, notes,"
                         " created_at, updated_at) FROM STDIN") as copy:
            for a in range(1, assets + 1):  # newsroom metadata: library_metadata_load
                copy.write_row((a, f"synthetic footage {a}", "", f"originals/none-{a}.mp4", f"f{a}.mp4", 1, f"{a:064x}",
                                "video", "video/mp4", float(ASSET_SECONDS), 1280, 720, "h264", 0, "mp4", "ready", "done",
                                1.0, f"00000000-0000-0000-0000-{a:012x}", [], "", "", "", "", "", "",
                                "2026-01-01", "2026-01-01"))
        with cursor.copy("COPY assets_frame (id, asset_id, index, time, image, created_at, updated_at) FROM STDIN") as copy:
            for i in range(seconds):
                copy.write_row((i + 1, i // ASSET_SECONDS + 1, i % ASSET_SECONDS, float(i % ASSET_SECONDS), "", "2026-01-01", "2026-01-01"))
        with cursor.copy("COPY search_frameembedding (id, frame_id, asset_id, model_id, time, embedding, created_at, updated_at)"
                         " FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int8", "int8", "int8", "float8", "vector", "timestamptz", "timestamptz"])
            stamp = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
            for i in range(seconds):
                copy.write_row((i + 1, i + 1, i // ASSET_SECONDS + 1, model.pk, float(i % ASSET_SECONDS), vectors[i], stamp, stamp))
        cursor.execute("SELECT setval(pg_get_serial_sequence('assets_asset', 'id'), %s)", [assets])
    raw.commit()
    print(f"loaded {seconds} vectors in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    np.save(cache, vectors)
    return vectors


SHOT_WORDS = ["flood", "bridge", "crowd", "fire", "night", "river", "car", "minister", "storm", "harbour", "protest",
              "wide", "close", "of", "at", "the", "over"]


def load_shots(seconds: int) -> None:
    """One stored shot per synthetic scene (SCENE_SECONDS, as the frames step would find them), each with
    a generated description in English and Chinese and every twentieth with an editor's correction,
    so search reads shots and matches descriptions as it does on a real library."""
    from django.db import connection

    from mediahub.shots.models import Shot

    assets = -(-seconds // ASSET_SECONDS)
    per_asset = ASSET_SECONDS // SCENE_SECONDS
    if Shot.objects.count() == assets * per_asset:
        return
    rng = np.random.default_rng(21)
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        cursor.execute("TRUNCATE shots_shot")
        with cursor.copy("COPY shots_shot (asset_id, index, start, \"end\", description_en, description_zh, edited_en,"
                         " edited_zh, created_at, updated_at) FROM STDIN") as copy:
            for a in range(1, assets + 1):
                for i in range(per_asset):
                    words = " ".join(rng.choice(SHOT_WORDS, 5))
                    edited = " ".join(rng.choice(SHOT_WORDS, 4)) if i % 20 == 0 else ""
                    copy.write_row((a, i, float(i * SCENE_SECONDS), float((i + 1) * SCENE_SECONDS), words,
                                    "桥上的洪水" if i % 7 == 0 else "河边的人群", edited, "", "2026-01-01", "2026-01-01"))
    raw.commit()
    with connection.cursor() as cursor:  # autocommit: VACUUM can't run in a transaction
        # Also empties the GIN indexes' pending lists: rows copied in sit there, read linearly by every
        # description query until a vacuum (25 ms a query against 1 ms, bench/briefs.py).
        cursor.execute("VACUUM ANALYZE shots_shot")


def build_index(model, *, m: int, ef_construction: int, halfvec: bool) -> tuple[str, float, int]:
    from django.db import connection

    kind, ops = ("halfvec", "halfvec_cosine_ops") if halfvec else ("vector", "vector_cosine_ops")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {model.index_name}")
        cursor.execute(f"DROP INDEX IF EXISTS {model.index_name}_full")
        cursor.execute("SET maintenance_work_mem = '6GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 1")
        name = model.index_name if halfvec else model.index_name + "_full"  # the app's index is the halfvec one
        started = time.perf_counter()
        cursor.execute(f"CREATE INDEX {name} ON search_frameembedding USING hnsw ((embedding::{kind}({DIM})) {ops})"
                       f" WITH (m = {m}, ef_construction = {ef_construction}) WHERE model_id = {model.pk}")
        seconds = time.perf_counter() - started
        cursor.execute("SELECT pg_relation_size(%s)", [name])
        size = cursor.fetchone()[0]
        cursor.execute("VACUUM ANALYZE search_frameembedding")
    return name, seconds, size


def index_exists(model) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [model.index_name])
        return cursor.fetchone() is not None


def query_vectors(count: int) -> np.ndarray:
    """Text-like queries: near a topic (looser than any scene), across the modality gap."""
    world, rng = World(), np.random.default_rng(99)
    latent = world.topics[rng.integers(0, TOPICS, count)] + _jitter(rng, count, 0.5)
    return _normalise(world.embed(latent, rng, isotropic=0.3) + 0.6 * world.gap)


def ann_ids(vector: np.ndarray, model, *, ef: int, k: int, halfvec: bool) -> list[int]:
    from django.db import connection

    from mediahub.search.selectors import query_vector

    kind = "halfvec" if halfvec else "vector"
    bound = query_vector(vector, half=halfvec)  # before the cursor: a cursor copies its connection's adapters
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, false)", [str(ef)])
        cursor.execute(f"SELECT id FROM search_frameembedding WHERE model_id = {model.pk} "
                       f"ORDER BY embedding::{kind}({DIM}) <=> %s::{kind}({DIM}) LIMIT %s", [bound, k])
        return [row[0] for row in cursor.fetchall()]


def recall_table(vectors: np.ndarray, queries: np.ndarray, model, efs: list[int], halfvec: bool) -> list[tuple]:
    rows = []
    exact = [set((np.argsort(-(vectors @ q))[:10] + 1).tolist()) for q in queries]
    for ef in efs:
        recalls, timings = [], []
        for q, truth in zip(queries, exact):
            started = time.perf_counter()
            found = ann_ids(q, model, ef=ef, k=10, halfvec=halfvec)
            timings.append((time.perf_counter() - started) * 1000)
            recalls.append(len(truth & set(found)) / 10)
        rows.append((ef, statistics.mean(recalls), _pct(timings, 50), _pct(timings, 95)))
    return rows


def coarse_to_fine_recall(vectors: np.ndarray, queries: np.ndarray, model, efs: list[int]) -> list[tuple]:
    """Recall@10 of what search actually ranks: the exact top-10 seconds among the ANN
    candidates' ±WINDOW_PADDING windows, against the exact top-10 of the whole library."""
    from mediahub.search import selectors

    exact = [{(int(i) // ASSET_SECONDS + 1, float(i % ASSET_SECONDS)) for i in np.argsort(-(vectors @ q))[:10]}
             for q in queries]
    rows = []
    for ef in efs:
        recalls, timings = [], []
        for q, truth in zip(queries, exact):
            started = time.perf_counter()
            candidates = selectors.ann_candidates(vector=q, model=model, filters=selectors.SearchFilters(), ef_search=ef)
            scored = selectors.exact_window_scores(vector=q, model=model, candidates=candidates,
                                                   filters=selectors.SearchFilters())
            timings.append((time.perf_counter() - started) * 1000)
            seconds = sorted(((s.score, a, s.time) for a, found in scored.items() for s in found), reverse=True)[:10]
            recalls.append(len(truth & {(a, t) for _, a, t in seconds}) / 10)
        rows.append((ef, statistics.mean(recalls), _pct(timings, 50), _pct(timings, 95)))
    return rows


def _pct(values: list[float], p: int) -> float:
    return float(np.percentile(values, p))


def selector_latency(queries: np.ndarray, model, filters=None) -> tuple[float, float, float]:
    """p50/p95 ms of the whole search in-process, and the mean number of moments found."""
    from mediahub.search import services
    from mediahub.search.selectors import SearchFilters, active_clip_spec, search_model

    _, calibration = search_model(spec=active_clip_spec())
    timings, found = [], []
    for q in queries:
        started = time.perf_counter()
        outcome = services.search_run(user=None, vector=q, model=model, calibration=calibration, kind="text", query="",
                                      filters=filters or SearchFilters(), limit=20)
        timings.append((time.perf_counter() - started) * 1000)
        found.append(len(outcome.moments))
    return _pct(timings, 50), _pct(timings, 95), statistics.mean(found)


# The newsroom metadata of the synthetic library, drawn per asset (sources, rights, embargo, upload
# day), per scene (tags) and per track (people), so each filter passes a realistic share of the footage.
SOURCES = {"Reuters": 0.5, "AP": 0.2, "AFP": 0.1, "Staff": 0.1, **{f"Stringer {i}": 0.01 for i in range(1, 11)}}
RIGHTS = {"cleared": 0.5, "": 0.39, "restricted": 0.1, "do_not_use": 0.01}
EMBARGO = {"future": 0.01, "past": 0.04, "none": 0.95}
UPLOAD_DAYS = 540  # uploads spread evenly over a year and a half from FIRST_UPLOAD
FIRST_UPLOAD = dt.date(2025, 1, 1)
TAG_SHARES = (0.5, 0.1, 0.01, 0.001)  # share of the scenes each bench tag is on (runs of tagged scenes merge)
PERSON_SHARES = (0.1, 0.01, 0.001)  # share of the footage each bench person is on screen in
PERSON_TRACK_SECONDS = 10


class Metadata:
    """What the library's rows say, also as arrays: which seconds each filter passes (for recall)."""

    def __init__(self, seconds: int, seed: int = 31):
        rng = np.random.default_rng(seed)
        self.seconds = seconds
        self.assets = -(-seconds // ASSET_SECONDS)
        self.asset_of = np.arange(seconds) // ASSET_SECONDS  # per second, the asset's index (id - 1)
        self.time_of = (np.arange(seconds) % ASSET_SECONDS).astype(np.float64)
        self.upload_day = rng.integers(0, UPLOAD_DAYS, self.assets)
        self.source = rng.choice(list(SOURCES), self.assets, p=list(SOURCES.values()))
        self.rights = rng.choice(list(RIGHTS), self.assets, p=list(RIGHTS.values()))
        self.embargo = rng.choice(list(EMBARGO), self.assets, p=list(EMBARGO.values()))
        scenes = -(-seconds // SCENE_SECONDS)
        self.tagged = [rng.random(scenes) < share for share in TAG_SHARES]  # per tag, per scene
        self.tracks = []  # per person, [(asset index, start)]
        for share in PERSON_SHARES:
            count = max(1, round(share * seconds / PERSON_TRACK_SECONDS))
            self.tracks.append(list(zip(rng.integers(0, self.assets, count).tolist(),
                                        rng.integers(0, ASSET_SECONDS - PERSON_TRACK_SECONDS, count).tolist())))

    def seconds_of_assets(self, passing: np.ndarray) -> np.ndarray:
        return passing[self.asset_of]

    def seconds_tagged(self, tag: int) -> np.ndarray:
        return np.repeat(self.tagged[tag], SCENE_SECONDS)[:self.seconds]

    def seconds_with_person(self, person: int) -> np.ndarray:
        passing = np.zeros(self.seconds, dtype=bool)
        for asset, start in self.tracks[person]:
            first = asset * ASSET_SECONDS + start
            passing[first:first + PERSON_TRACK_SECONDS] = True
        return passing

    def uploaded(self, day: int) -> dt.datetime:
        return dt.datetime.combine(FIRST_UPLOAD + dt.timedelta(days=int(day)), dt.time(12), tzinfo=dt.timezone.utc)


def library_metadata_load(meta: Metadata) -> tuple[list, list]:
    """Write the metadata onto the loaded library (each time: cheap next to the vectors); the bench's
    tag labels and people."""
    from django.db import connection

    from mediahub.assets.models import AssetTag, RightsPolicy
    from mediahub.people.models import FaceTrack, Person
    from mediahub.search.selectors import tag_labels_active

    embargo_until = {"future": dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc),
                     "past": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc), "none": None}
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE assets_asset a SET created_at = m.created_at, source = m.source, rights_status = m.rights,"
            " embargo_until = m.embargo FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::text[],"
            " %s::timestamptz[]) AS m(id, created_at, source, rights, embargo) WHERE a.id = m.id",
            [list(range(1, meta.assets + 1)), [meta.uploaded(d) for d in meta.upload_day], meta.source.tolist(),
             meta.rights.tolist(), [embargo_until[e] for e in meta.embargo]])
    RightsPolicy.objects.update_or_create(pk=1, defaults={"viewers_see_embargoed": False, "viewers_see_do_not_use": False})
    labels = list(tag_labels_active().order_by("name")[:len(TAG_SHARES)])
    AssetTag.objects.filter(label__in=labels).delete()
    FaceTrack.objects.filter(person__name__startswith="bench person").delete()
    Person.objects.filter(name__startswith="bench person").delete()
    people = [Person.objects.create(name=f"bench person {i}") for i in range(len(PERSON_SHARES))]
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        with cursor.copy("COPY assets_assettag (asset_id, label_id, start, \"end\", score, created_at, updated_at)"
                         " FROM STDIN") as copy:
            for label, tagged in zip(labels, meta.tagged):
                for first, last in _runs(tagged):  # scenes first..last, within one asset
                    copy.write_row((first * SCENE_SECONDS // ASSET_SECONDS + 1, label.pk,
                                    float(first * SCENE_SECONDS % ASSET_SECONDS),
                                    float((last + 1) * SCENE_SECONDS - first * SCENE_SECONDS // ASSET_SECONDS * ASSET_SECONDS),
                                    0.8, "2026-01-01", "2026-01-01"))
        cursor.execute("SELECT coalesce(max(index), 0) + 1 FROM people_facetrack")
        index = cursor.fetchone()[0]
        with cursor.copy("COPY people_facetrack (asset_id, index, start, \"end\", box, boxes, person_id, assignment,"
                         " created_at, updated_at) FROM STDIN") as copy:
            for person, tracks in zip(people, meta.tracks):
                for asset, start in tracks:
                    copy.write_row((asset + 1, index, float(start), float(start + PERSON_TRACK_SECONDS), "[0, 0, 80, 80]",
                                    "[]", person.pk, "auto", "2026-01-01", "2026-01-01"))
                    index += 1
    raw.commit()
    with connection.cursor() as cursor:
        for table in ("assets_asset", "assets_assettag", "people_facetrack"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return labels, people


def _runs(tagged: np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive tagged scenes, none crossing from one asset into the next."""
    per_asset = ASSET_SECONDS // SCENE_SECONDS
    runs, first = [], None
    for scene, on in enumerate(tagged.tolist() + [False]):
        if first is not None and (not on or scene % per_asset == 0):
            runs.append((first, scene - 1))
            first = None
        if on and first is None:
            first = scene
    return runs


def filter_cases(meta: Metadata, labels: list, people: list) -> list[tuple[str, object, np.ndarray]]:
    """(label, filters, the seconds they pass) for every filter search takes, at shares from half to a few seconds."""
    from mediahub.search.selectors import SearchFilters

    def assets(passing):
        return meta.seconds_of_assets(np.asarray(passing))

    def day(days: int) -> dt.date:
        return FIRST_UPLOAD + dt.timedelta(days=days)

    cases = [("none", SearchFilters(), np.ones(meta.seconds, dtype=bool)),
             ("kind=video", SearchFilters(kind="video"), np.ones(meta.seconds, dtype=bool)),
             ("kind=image (no images)", SearchFilters(kind="image"), np.zeros(meta.seconds, dtype=bool)),
             ("after: the later half", SearchFilters(after=day(days=UPLOAD_DAYS // 2)),
              assets(meta.upload_day >= UPLOAD_DAYS // 2)),
             ("after: the last tenth", SearchFilters(after=day(days=UPLOAD_DAYS - UPLOAD_DAYS // 10)),
              assets(meta.upload_day >= UPLOAD_DAYS - UPLOAD_DAYS // 10)),
             ("after + before: one week", SearchFilters(after=day(days=100), before=day(days=106)),
              assets((meta.upload_day >= 100) & (meta.upload_day <= 106))),
             ("after + before: one day", SearchFilters(after=day(days=200), before=day(days=200)),
              assets(meta.upload_day == 200))]
    for source in ("Reuters", "Staff", "Stringer 3"):
        cases.append((f"source={source.lower()}", SearchFilters(source=source.lower()), assets(meta.source == source)))
    for rights in ("cleared", "restricted", "do_not_use"):
        cases.append((f"rights={rights}", SearchFilters(rights=rights), assets(meta.rights == rights)))
    cases += [("embargoed=true", SearchFilters(embargoed=True), assets(meta.embargo == "future")),
              ("embargoed=false", SearchFilters(embargoed=False), assets(meta.embargo != "future")),
              ("a viewer (policy hides embargoed, do not use)", SearchFilters(for_viewer=True),
               assets((meta.embargo != "future") & (meta.rights != "do_not_use")))]
    for i, label in enumerate(labels):
        cases.append((f"tag, on {TAG_SHARES[i]:.1%} of scenes", SearchFilters(tag=label), meta.seconds_tagged(i)))
    for i, person in enumerate(people):
        cases.append((f"person, {len(meta.tracks[i]):,} tracks of {PERSON_TRACK_SECONDS} s",
                      SearchFilters(person=person.pk, people=(person.pk,)), meta.seconds_with_person(i)))
    one = meta.assets // 2
    cases.append(("asset=<one>", SearchFilters(asset=one + 1), assets(np.arange(meta.assets) == one)))
    cases.append(("tag (a tenth) + source=staff", SearchFilters(tag=labels[1], source="staff"),
                  meta.seconds_tagged(1) & assets(meta.source == "Staff")))
    return cases


def filtered_recall(vectors: np.ndarray, queries: np.ndarray, model, filters, passing: np.ndarray,
                    scores: np.ndarray) -> float | None:
    """Coarse-to-fine recall@10 under the filter: the top 10 seconds search scores exactly, against the
    exact top 10 of the seconds the filter passes (None when it passes fewer than 10)."""
    from mediahub.search import selectors

    indices = np.flatnonzero(passing)
    if len(indices) < 10:
        return None
    recalls = []
    for q, column in zip(queries, scores.T):
        top = indices[np.argsort(-column[indices])[:10]]
        truth = {(int(i) // ASSET_SECONDS + 1, float(i % ASSET_SECONDS)) for i in top}
        candidates = selectors.ann_candidates(vector=q, model=model, filters=filters)
        scored = selectors.exact_window_scores(vector=q, model=model, candidates=candidates, filters=filters)
        found = sorted(((s.score, a, s.time) for a, seconds in scored.items() for s in seconds), reverse=True)[:10]
        recalls.append(len(truth & {(a, t) for _, a, t in found}) / 10)
    return statistics.mean(recalls)


def coarse_plan_name(model, filters) -> str:
    from mediahub.search import selectors

    if not hasattr(selectors, "coarse_plan"):  # the code before plans by selectivity
        return "index" if filters.person is None else "exact"
    return "exact" if selectors.coarse_plan(model=model, filters=filters).exact else "index"


def filtered_latency_table(vectors: np.ndarray, queries: np.ndarray, model, seconds: int, *, recall_queries: int,
                           only: str | None, explain: bool) -> None:
    """Every filter search takes, at realistic shares of the library: the plan it gets, the whole search's
    p50/p95 in the selector, moments found, and coarse-to-fine recall@10 against exact search under the filter."""
    meta = Metadata(seconds)
    labels, people = library_metadata_load(meta)
    scores = vectors @ queries[:recall_queries].T  # seconds x queries
    print("| filter | passes | plan | selector p50 ms | p95 ms | moments found (of 20) | coarse-to-fine recall@10 |")
    print("|---|---|---|---|---|---|---|")
    for label, filters, passing in filter_cases(meta, labels, people):
        if only and only not in label:
            continue
        p50, p95, found = selector_latency(queries, model, filters)
        recall = filtered_recall(vectors, queries[:recall_queries], model, filters, passing, scores)
        share = f"{passing.mean():.1%}" if passing.mean() >= 0.001 else f"{int(passing.sum()):,} s"
        print(f"| {label} | {share} | {coarse_plan_name(model, filters)} | {p50:.0f} | {p95:.0f} | {found:.1f} |"
              f" {'–' if recall is None else f'{recall:.3f}'} |", flush=True)
        if explain:
            print("\n    " + "\n    ".join(coarse_explain(queries[0], model, filters)) + "\n")
    print()


def coarse_explain(vector: np.ndarray, model, filters) -> list[str]:
    """EXPLAIN ANALYZE of the coarse pass's query for this filter, under the plan the search picks."""
    from django.db import connection, transaction

    from mediahub.search import selectors

    with transaction.atomic(), connection.cursor() as cursor:
        plan = selectors.coarse_plan(model=model, filters=filters, cursor=cursor)
        sql, params = selectors.ann_query(vector=vector, model=model, filters=filters,
                                          limit=selectors.ANN_CANDIDATES, plan=plan)
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


@contextlib.contextmanager
def api_server(*, port: int = 8791, env: dict | None = None):
    """gunicorn (one worker, one thread) on the bench database, yielding its base URL and the headers
    of a user's API token; stopped on exit. `env`: extra environment (e.g. lifted throttles)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from mediahub.core.services import api_token_create

    user, _ = get_user_model().objects.get_or_create(username="bench")
    token = api_token_create(user=user)
    server_env = dict(os.environ, DATABASE_URL=settings.DATABASE_URL, REDIS_URL=settings.REDIS_URL, **(env or {}))
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "mediahub.wsgi:application", "-b", f"127.0.0.1:{port}",
                               "-w", "1", "--threads", "1", "--no-control-socket"], cwd=REPO, env=server_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                http_get(base + "/api/health", timeout=5)
                break
            except OSError:  # not listening yet, or not healthy yet (HTTPError)
                time.sleep(0.5)
        yield base, {"Authorization": f"Token {token}"}
    finally:
        server.terminate()
        server.wait()


def api_latency(requests_count: int) -> tuple[float, float]:
    """p50/p95 of GET /api/search through gunicorn, with text queries never seen before (no cache hits)."""
    # One user sends every request: lift the per-user search throttle for the measurement.
    with api_server(env={"MEDIAHUB_SEARCH_RATE": "1000000/minute"}) as (base, headers):
        words = ["flood", "bridge", "crowd", "fire", "night", "river", "car", "minister", "storm", "harbour", "protest"]
        rng = np.random.default_rng(5)
        http_get(base + "/api/search", params={"q": "warm-up"}, headers=headers, timeout=120)  # loads the text model
        timings = []
        for i in range(requests_count):
            query = " ".join(rng.choice(words, 3)) + f" {i}"
            started = time.perf_counter()
            http_get(base + "/api/search", params={"q": query}, headers=headers, timeout=30)  # an error status raises
            timings.append((time.perf_counter() - started) * 1000)
        return _pct(timings, 50), _pct(timings, 95)


def library_open(seconds: int, reload: bool):
    """Start the bench database, migrate it and load the synthetic library (vectors and shots) unless
    it is loaded already; the model row and the vectors. The HNSW index is left to the caller."""
    import django

    from mediahub import launch

    launch.services_attach(launch.data_dir_from_environment())  # explicit: settings start nothing
    django.setup()
    from django.core.management import call_command

    from mediahub.search.selectors import active_clip_spec
    from mediahub.search.services import embedding_model_ensure

    call_command("migrate", verbosity=0)
    model = embedding_model_ensure(spec=active_clip_spec())
    vectors = load_library(seconds, model, reload)
    load_shots(seconds)
    return model, vectors


def main() -> None:
    args = parse_args()
    model, vectors = library_open(args.seconds, args.reload)
    from mediahub.search.selectors import ANN_CANDIDATES

    queries = query_vectors(QUERIES)
    efs = [int(v) for v in args.ef.split(",")]
    print(f"\n{args.seconds:,} seconds of footage, {DIM}-d, m={args.m}, ef_construction={args.ef_construction}\n")
    if args.filters_only:
        if not index_exists(model):
            build_index(model, m=args.m, ef_construction=args.ef_construction, halfvec=True)
        filtered_latency_table(vectors, queries[:args.queries], model, args.seconds, recall_queries=args.recall_queries,
                               only=args.only, explain=args.explain)
        return
    for halfvec in ([False, True] if args.full else [True]):
        name, build_seconds, size = build_index(model, m=args.m, ef_construction=args.ef_construction, halfvec=halfvec)
        print(f"index {'halfvec' if halfvec else 'vector'}: built in {build_seconds:.0f} s, {size / 2**20:.0f} MiB\n")
        print("| storage | ef_search | recall@10 | ANN p50 ms | ANN p95 ms |")
        print("|---|---|---|---|---|")
        for ef, recall, p50, p95 in recall_table(vectors, queries, model, efs, halfvec):
            print(f"| {'halfvec' if halfvec else 'vector'} | {ef} | {recall:.3f} | {p50:.1f} | {p95:.1f} |")
        print()
    print(f"| coarse-to-fine ({ANN_CANDIDATES} candidates + exact windows) ef_search | recall@10 | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for ef, recall, p50, p95 in coarse_to_fine_recall(vectors, queries[:100], model, sorted({max(e, ANN_CANDIDATES) for e in efs})):
        print(f"| {ef} | {recall:.3f} | {p50:.1f} | {p95:.1f} |")
    print()
    p50, p95, _ = selector_latency(queries[:100], model)
    print(f"selector (coarse + exact windows + moments + fusion + feedback + stored search): p50 {p50:.0f} ms, p95 {p95:.0f} ms\n")
    filtered_latency_table(vectors, queries[:args.queries], model, args.seconds, recall_queries=args.recall_queries,
                           only=None, explain=args.explain)
    p50, p95 = api_latency(args.api_requests)
    print(f"GET /api/search through gunicorn (text encoding included): p50 {p50:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
