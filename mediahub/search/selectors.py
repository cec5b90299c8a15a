"""Reads of search data: the coarse-to-fine moment search, and feedback near a query."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import math
import re
import threading
import time
import weakref
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Collection, Sequence

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Func
from pgvector import HalfVector, Vector
from pgvector.psycopg import register_vector

from mediahub.assets.models import Asset, AssetTag, TagLabel
from mediahub.assets.selectors import RIGHTS_UNSET, VISIBLE_TO_VIEWERS_SQL
from mediahub.people.models import Face, FaceTrack
from mediahub.people.selectors import SearchPerson, search_assets_with_people, search_named_people
from mediahub.search.models import EmbeddingModel, Feedback, FrameEmbedding, ModelCalibration
from mediahub.search.ranking import (
    FeedbackEvent, Moment, Second, ShotMatch, ShotSpan, background_level, describe_shots, merge_seconds,
)
from mediahub.shots.models import Shot
from workers.ml.clip import Calibration, ClipSpec, ModelUnavailable, clip_state, load_clip

logger = logging.getLogger(__name__)

ANN_CANDIDATES = 300  # seconds taken from the HNSW pass
EF_SEARCH = 400  # HNSW search breadth (pgvector hnsw.ef_search): recall@10 0.95 at 1M seconds (README)
WINDOW_PADDING = 12.0  # seconds scored exactly around each candidate, to find a moment's edges
TEXT_MATCH_ASSETS = 20  # assets whose title/description match the query, scored even without a visual match
DESCRIBED_SHOTS = 50  # shots whose description matches the query, scored even without a visual match
# A description holding all the query's words, but apart or in another order ("mayor at the podium" for
# "mayor podium"), against 1.0 for the words in order: a one-sentence description has little room for
# words that happen to co-occur, but word order carries meaning ("a red circle on a blue background").
DESCRIPTION_WORDS_APART = 0.6


def active_clip_spec() -> ClipSpec:
    """The CLIP model the settings ask for (MEDIAHUB_CLIP_MODEL / _PRETRAINED / MEDIAHUB_DEVICE)."""
    return ClipSpec(name=settings.CLIP_MODEL, pretrained=settings.CLIP_PRETRAINED, device=settings.DEVICE,
                    cache_dir=str(settings.MODEL_CACHE_DIR))


def active_vocabulary(spec: ClipSpec | None = None) -> str:
    """The tag vocabulary of the active model: the test-pattern world for the demo model, the newsroom's otherwise."""
    spec = spec or active_clip_spec()
    return TagLabel.Vocabulary.DEMO if spec.is_demo else TagLabel.Vocabulary.NEWSROOM


def tag_labels_active(spec: ClipSpec | None = None):
    """The enabled labels of the active model's vocabulary (what tagging and search use)."""
    return TagLabel.objects.filter(enabled=True, vocabulary=active_vocabulary(spec))


def embedding_model_get(*, spec: ClipSpec) -> EmbeddingModel | None:
    return EmbeddingModel.objects.filter(key=spec.key).select_related("calibration").first()


@dataclass(frozen=True)
class SearchFilters:
    kind: str | None = None
    tag: TagLabel | None = None
    asset: int | None = None
    after: date | None = None
    before: date | None = None
    person: int | None = None
    people: tuple[int, ...] = ()  # the person ids whose tracks are the person's (theirs and those merged into them)
    source: str | None = None  # who supplied the footage, any case
    rights: str | None = None  # a rights status, or "unset"
    embargoed: bool | None = None  # under embargo at the time of the search, or free of one
    for_viewer: bool = False  # the rights policy applies (set from the user: search_with_active_model)

    def as_json(self) -> dict:
        values = {"kind": self.kind, "tag": self.tag.name if self.tag else None, "asset": self.asset,
                  "after": self.after.isoformat() if self.after else None,
                  "before": self.before.isoformat() if self.before else None, "person": self.person,
                  "source": self.source, "rights": self.rights, "embargoed": self.embargoed}
        return {key: value for key, value in values.items() if value is not None}


def _asset_conditions(filters: SearchFilters, params: dict) -> str:
    """SQL conditions on alias `a` (assets_asset) for the asset-level filters."""
    conditions = []
    if filters.kind:
        conditions.append("a.kind = %(kind)s")
        params["kind"] = filters.kind
    if filters.asset is not None:
        conditions.append("a.id = %(asset)s")
        params["asset"] = filters.asset
    if filters.after:
        conditions.append("a.created_at >= %(after)s")
        params["after"] = filters.after
    if filters.before:
        conditions.append("a.created_at < %(before)s::date + 1")
        params["before"] = filters.before
    if filters.person is not None:
        params["people"] = list(filters.people or [filters.person])
        conditions.append(f"EXISTS (SELECT 1 FROM {FaceTrack._meta.db_table} ft WHERE ft.asset_id = a.id"
                          " AND ft.person_id = ANY(%(people)s))")
    return " AND ".join(conditions + _metadata_conditions(filters, params))


def _metadata_conditions(filters: SearchFilters, params: dict) -> list[str]:
    """The newsroom metadata filters and the rights policy, as asset_selectors.assets_with_metadata and
    visible_to_viewers_q have them (upper(): Django's iexact, and the expression of the source's index)."""
    conditions = []
    if filters.source:
        conditions.append("upper(a.source) = upper(%(source)s)")
        params["source"] = filters.source
    if filters.rights:
        conditions.append("a.rights_status = %(rights)s")
        params["rights"] = "" if filters.rights == RIGHTS_UNSET else filters.rights
    if filters.embargoed is not None:
        conditions.append("a.embargo_until > now()" if filters.embargoed
                          else "(a.embargo_until IS NULL OR a.embargo_until <= now())")
    if filters.for_viewer:
        conditions.append(VISIBLE_TO_VIEWERS_SQL)
    return conditions


# A track covers the seconds from its start up to (not including) its end, which is where its
# last sampled second's interval ends, like a tag; a track of one instant (an image) covers its start.
# Written as one range so the (model, asset, time) index of the seconds can serve it.
_SECOND_ON_SCREEN = "fe.time >= {t}.start AND fe.time < GREATEST({t}.\"end\", {t}.start + 0.001)"


# A tag covers the seconds from its start up to (not including) its end; one of a single instant
# (an image) covers its start and on. Written as one range so the (model, asset, time) index reads
# only the tag's seconds (with an OR it read from the tag's start to the asset's end).
_SECOND_TAGGED = ("fe.time >= t.start AND fe.time < CASE WHEN t.start = t.\"end\" THEN 'Infinity'::float8"
                  " ELSE t.\"end\" END")


def _tag_second_condition(filters: SearchFilters, params: dict) -> str:
    if filters.tag is None:
        return ""
    params["tag_label"] = filters.tag.pk
    return (f" AND EXISTS (SELECT 1 FROM {AssetTag._meta.db_table} t WHERE t.asset_id = fe.asset_id"
            f" AND t.label_id = %(tag_label)s AND {_SECOND_TAGGED})")


def _second_conditions(filters: SearchFilters, params: dict) -> str:
    """SQL conditions on alias `fe` (one second) for filters that pick seconds, not assets."""
    conditions = []
    asset_conditions = _asset_conditions(filters, params)
    if asset_conditions:
        conditions.append(f"fe.asset_id IN (SELECT a.id FROM {Asset._meta.db_table} a WHERE {asset_conditions})")
    tagged = _tag_second_condition(filters, params)
    if tagged:
        conditions.append(tagged.removeprefix(" AND "))
    if filters.person is not None:
        params["people"] = list(filters.people or [filters.person])
        conditions.append(
            f"EXISTS (SELECT 1 FROM {FaceTrack._meta.db_table} ft WHERE ft.asset_id = fe.asset_id"
            f" AND ft.person_id = ANY(%(people)s) AND {_SECOND_ON_SCREEN.format(t='ft')})")
    return "".join(f" AND {condition}" for condition in conditions)


_VECTOR_READY_CONNECTIONS: weakref.WeakSet = weakref.WeakSet()


def vector_binding_ensure() -> None:
    """Register pgvector's psycopg adapters (Vector, HalfVector) on this thread's database
    connection, once per connection, so query vectors are bound as typed values."""
    connection.ensure_connection()
    raw = connection.connection
    if raw not in _VECTOR_READY_CONNECTIONS:
        register_vector(raw)
        _VECTOR_READY_CONNECTIONS.add(raw)


def query_vector(vector: np.ndarray, *, half: bool = False) -> Vector | HalfVector:
    """A query vector as a bound parameter (half precision for the HNSW graph's halfvec copies).
    Call it before opening the cursor that uses it: a cursor copies its connection's adapters."""
    vector_binding_ensure()
    values = np.asarray(vector, dtype=np.float32)
    return HalfVector(values) if half else Vector(values)


# The coarse pass picks its plan by how many seconds the filter passes. Scoring them all exactly costs
# about EXACT_SECOND_COST per second (each vector read and compared); walking the HNSW graph until
# `limit` of them pass costs about INDEX_TUPLE_COST per second it visits (each visit compares the
# neighbours of a graph node), and it visits about limit * library / passing of them. The two meet
# at sqrt(limit * library * INDEX_TUPLE_COST / EXACT_SECOND_COST) passing seconds: about 30,000 of
# 100,000 and 95,000 of 1M. Measured on bench/search_latency.py's library of 1M seconds (README
# "Search speed at scale"), one plan against the other on the same filters: scoring 40,000 seconds
# exactly took 132 ms, walking the graph until 300 seconds of one source (an eighth of the library) passed,
# 2,172 visits, 227 ms.
EXACT_SECOND_COST = 1.0
INDEX_TUPLE_COST = 30.0
# The iterative scan may visit this many times the seconds it is expected to need before it gives up
# (hnsw.max_scan_tuples): enough for a filter that passes unevenly, bounded for one that passes almost none.
SCAN_MARGIN = 4
MIN_SCAN_TUPLES = 20_000  # pgvector's default


@dataclass(frozen=True)
class CoarsePlan:
    """How the coarse pass reads the seconds: `exact` scores every second the filter passes (few of them),
    else the HNSW index is walked with the filter applied, visiting at most `max_scan_tuples` seconds."""

    exact: bool
    max_scan_tuples: int = MIN_SCAN_TUPLES


def coarse_plan_threshold(*, library_seconds: float, limit: int) -> int:
    """The number of passing seconds above which walking the index is cheaper than scoring them all."""
    return max(limit, math.ceil(math.sqrt(limit * library_seconds * INDEX_TUPLE_COST / EXACT_SECOND_COST)))


def coarse_plan_for(*, passing: int | None, threshold: int, library_seconds: float, limit: int) -> CoarsePlan:
    """`passing`: about how many seconds the filter passes (None: no filter)."""
    if passing is not None and passing < threshold:
        return CoarsePlan(exact=True)
    return CoarsePlan(exact=False, max_scan_tuples=index_scan_tuples(filtered=passing is not None, threshold=threshold,
                                                                     library_seconds=library_seconds, limit=limit))


def index_scan_tuples(*, filtered: bool, threshold: int, library_seconds: float, limit: int) -> int:
    """hnsw.max_scan_tuples for the index plan: a filter that takes it passes at least `threshold` seconds,
    so `limit` of them are expected within limit * library / threshold seconds visited."""
    expected = limit * library_seconds / threshold if filtered else limit
    return max(MIN_SCAN_TUPLES, math.ceil(SCAN_MARGIN * expected))


def _filtered(filters: SearchFilters) -> bool:
    return bool(filters.as_json()) or filters.for_viewer


@dataclass(frozen=True)
class _Driver:
    """The rows that pick a filter's seconds (a person's tracks, a tag's ranges or the assets)."""

    table: str  # with its alias
    condition: str  # which of its rows, on the alias
    asset_column: str
    on_seconds: str  # which seconds of the row's asset (alias fe), "" for all of them
    others: str  # conditions on the seconds (alias fe) left to check, each starting with " AND"
    seconds: str  # about how many seconds a row covers


def _driver(filters: SearchFilters, params: dict) -> _Driver:
    """The person's tracks, else the tag's ranges, else the assets, with the rest of the filter."""
    interval = float(settings.FRAME_INTERVAL_SECONDS)
    if filters.person is None and filters.tag is None:
        return _Driver(table=f"{Asset._meta.db_table} a", condition=_asset_conditions(filters, params) or "true",
                       asset_column="a.id", on_seconds="", others="",
                       seconds=f"GREATEST(coalesce(a.duration, 0) / {interval}, 1)")
    if filters.person is not None:
        params["people"] = list(filters.people or [filters.person])
        rest = dataclasses.replace(filters, person=None, people=())
        driver = _Driver(table=f"{FaceTrack._meta.db_table} ft", condition="ft.person_id = ANY(%(people)s)",
                         asset_column="ft.asset_id", on_seconds=_SECOND_ON_SCREEN.format(t="ft"),
                         others=_tag_second_condition(rest, params),
                         seconds=f"GREATEST((ft.\"end\" - ft.start) / {interval}, 1)")
    else:
        params["tag_label"] = filters.tag.pk
        rest = dataclasses.replace(filters, tag=None)
        driver = _Driver(table=f"{AssetTag._meta.db_table} t", condition="t.label_id = %(tag_label)s",
                         asset_column="t.asset_id", on_seconds=_SECOND_TAGGED, others="",
                         seconds=f"GREATEST((t.\"end\" - t.start) / {interval}, 1)")
    asset_conditions = _asset_conditions(rest, params)
    if not asset_conditions:
        return driver
    return dataclasses.replace(driver, condition=f"{driver.condition} AND {driver.asset_column} IN"
                                                 f" (SELECT a.id FROM {Asset._meta.db_table} a WHERE {asset_conditions})")


def passing_seconds_query(*, model: EmbeddingModel, filters: SearchFilters, columns: str, params: dict) -> str:
    """FROM and WHERE of the model's seconds that pass the filter, reached through the rows that pick them
    (_driver), each reading its seconds from the (model, asset, time) index. LATERAL ... OFFSET 0 keeps
    the plan a loop over those rows: joined plainly, a filter passing many assets gets a hash join over
    every second of the library. `columns`: what the lateral read of the seconds (alias fe) selects."""
    driver = _driver(filters, params)
    on_seconds = f" AND {driver.on_seconds}" if driver.on_seconds else ""
    return (f"FROM {driver.table} CROSS JOIN LATERAL (SELECT {columns} FROM search_frameembedding fe"
            f" WHERE fe.model_id = {int(model.pk)} AND fe.asset_id = {driver.asset_column}{on_seconds} OFFSET 0) fe"
            f" WHERE {driver.condition}{driver.others}")


def passing_estimate_query(*, filters: SearchFilters, threshold: int) -> tuple[str, dict]:
    """About how many seconds the filter passes, from the rows that pick them (their lengths: no second
    is read), over at most `threshold` of those rows: each covers a second at least, so more rows than
    that already pass the threshold. Conditions on single seconds are left out (an overestimate)."""
    params = {"threshold": threshold}
    driver = _driver(filters, params)
    return (f"SELECT coalesce(sum(seconds), 0) FROM (SELECT {driver.seconds} AS seconds FROM {driver.table}"
            f" WHERE {driver.condition} LIMIT %(threshold)s) passing"), params


def ann_query(*, vector: np.ndarray, model: EmbeddingModel, filters: SearchFilters, limit: int,
              plan: CoarsePlan = CoarsePlan(exact=False)) -> tuple[str, dict]:
    """The SQL of the coarse pass; the index plan must match the model's partial HNSW index (services.vector_index_ensure)."""
    dim, model_id = int(model.dim), int(model.pk)  # literals: the partial index must match at plan time
    if plan.exact:
        # The few seconds a narrow filter passes, all scored exactly: the graph would be walked far for them.
        params = {"q": query_vector(vector), "limit": limit}
        source = passing_seconds_query(model=model, filters=filters, columns="fe.asset_id, fe.time, fe.embedding",
                                       params=params)
        return f"SELECT fe.asset_id, fe.time {source} ORDER BY fe.embedding::vector({dim}) <=> %(q)s::vector({dim}) LIMIT %(limit)s", params
    params = {"q": query_vector(vector, half=True), "limit": limit}
    sql = (
        f"SELECT fe.asset_id, fe.time FROM search_frameembedding fe "
        f"WHERE fe.model_id = {model_id}{_second_conditions(filters, params)} "
        f"ORDER BY fe.embedding::halfvec({dim}) <=> %(q)s::halfvec({dim}) LIMIT %(limit)s"
    )
    return sql, params


# The scan's breadth, local to the transaction (without one, autocommit, it would lapse before the query).
_SCAN_SETTINGS = ("set_config('hnsw.ef_search', %(ef_search)s, true),"
                  " set_config('hnsw.iterative_scan', 'relaxed_order', true),"
                  " set_config('hnsw.max_scan_tuples', %(max_scan_tuples)s, true)")


def coarse_plan(*, model: EmbeddingModel, filters: SearchFilters, limit: int = ANN_CANDIDATES,
                ef_search: int = EF_SEARCH, cursor=None) -> CoarsePlan:
    """The plan the coarse pass takes for this filter: one query that estimates the seconds the filter
    passes (passing_estimate_query; none without a filter). With `cursor` (in a transaction), the same
    round trip sets the index scan's breadth for the plan."""
    if filters.person is not None and filters.tag is not None:
        # The estimate can't tell how many of the person's seconds are tagged: were it few, the index's
        # scan would give up before finding them. The person's seconds are scored, each checked for the tag.
        return CoarsePlan(exact=True)
    library = _table_rows(FrameEmbedding._meta.db_table)
    threshold = coarse_plan_threshold(library_seconds=library, limit=limit)
    filtered = _filtered(filters)
    params = {"ef_search": str(max(ef_search, limit)), "max_scan_tuples": str(index_scan_tuples(
        filtered=filtered, threshold=threshold, library_seconds=library, limit=limit))}
    parts = [_SCAN_SETTINGS] if cursor is not None else []
    if filtered:
        estimate_sql, estimate_params = passing_estimate_query(filters=filters, threshold=threshold)
        parts.append(f"({estimate_sql})")
        params.update(estimate_params)
    passing = None
    if parts:
        with contextlib.nullcontext(cursor) if cursor is not None else connection.cursor() as reader:
            reader.execute(f"SELECT {', '.join(parts)}", params)
            row = reader.fetchone()
        passing = math.ceil(float(row[-1])) if filtered else None
    return coarse_plan_for(passing=passing, threshold=threshold, library_seconds=library, limit=limit)


def ann_candidates(*, vector: np.ndarray, model: EmbeddingModel, filters: SearchFilters,
                   limit: int = ANN_CANDIDATES, ef_search: int = EF_SEARCH,
                   plan: CoarsePlan | None = None) -> list[tuple[int, float]]:
    """Coarse pass: (asset_id, time) of the nearest seconds, by the plan the filter's size picks
    (coarse_plan; `plan` forces one). The index plan walks the model's HNSW index (half precision,
    like the index; the fine pass re-scores in full precision) with the filter applied inside the scan:
    pgvector's iterative scan keeps walking the graph until enough seconds pass it.
    """
    vector_binding_ensure()  # before the cursor: it copies its connection's adapters
    with transaction.atomic(), connection.cursor() as cursor:
        if plan is None:  # the filter's size is read in the round trip that sets the scan's breadth
            plan = coarse_plan(model=model, filters=filters, limit=limit, ef_search=ef_search, cursor=cursor)
        else:
            cursor.execute(f"SELECT {_SCAN_SETTINGS}", {"ef_search": str(max(ef_search, limit)),
                                                        "max_scan_tuples": str(plan.max_scan_tuples)})
        sql, params = ann_query(vector=vector, model=model, filters=filters, limit=limit, plan=plan)
        cursor.execute(sql, params)
        return cursor.fetchall()


def exact_window_scores(*, vector: np.ndarray, model: EmbeddingModel, candidates: list[tuple[int, float]],
                        filters: SearchFilters, extra_assets: list[int] = (),
                        extra_windows: list[tuple[int, float, float]] = ()) -> dict[int, list[Second]]:
    """Fine pass: exact cosine similarity of every second near a candidate (and of every
    second of `extra_assets`, and inside each (asset, start, end) of `extra_windows`), and how
    alike each second's frame is to the previous second's (to see cuts in assets without stored
    shots), computed in Postgres so no vector leaves the database."""
    return exact_scores_in(vector=vector, model=model, filters=filters,
                           windows=search_windows(candidates, extra_assets=extra_assets, extra_windows=extra_windows))


def search_windows(candidates: list[tuple[int, float]], *, extra_assets: list[int] = (),
                   extra_windows: list[tuple[int, float, float]] = ()) -> list[tuple[int, float, float]]:
    """(asset, start, end) of what the fine pass scores: the candidates' padded windows, whole
    assets (matched by title), and the ranges given (shots matched by description)."""
    return _windows(candidates) + [(asset_id, -1.0, 1e12) for asset_id in extra_assets] + list(extra_windows)


def exact_scores_in(*, vector: np.ndarray, model: EmbeddingModel, filters: SearchFilters,
                    windows: list[tuple[int, float, float]],
                    continuity_assets: Collection[int] | None = None) -> dict[int, list[Second]]:
    """The exact scores of the seconds in the windows, and each second's continuity with the one
    before it for the assets in `continuity_assets` (None: every asset). Only an asset without stored
    shots needs continuity (ranking then sees cuts in it); left out, the rows are sorted without their
    2 KB vectors, which otherwise overflow Postgres's default 4 MB of sort memory and spill to disk
    (33 against 20 ms p50 at 100,000 seconds, bench/briefs.py)."""
    if not windows:
        return {}
    params = {"q": query_vector(vector), "ids": [w[0] for w in windows], "t0": [w[1] for w in windows],
              "t1": [w[2] for w in windows]}
    dim = int(model.dim)
    frame = f"fe.embedding::vector({dim})"
    if continuity_assets is not None:
        params["continuity_assets"] = list(continuity_assets)
        frame = f"CASE WHEN fe.asset_id = ANY(%(continuity_assets)s::bigint[]) THEN {frame} END"
    sql = (
        "SELECT asset_id, time, score, 1 - (v <=> lag(v) OVER (PARTITION BY asset_id ORDER BY time)) FROM ("
        f" SELECT DISTINCT ON (fe.asset_id, fe.time) fe.asset_id, fe.time, {frame} AS v,"
        f" 1 - (fe.embedding::vector({dim}) <=> %(q)s::vector({dim})) AS score"
        " FROM search_frameembedding fe"
        " JOIN unnest(%(ids)s::bigint[], %(t0)s::float8[], %(t1)s::float8[]) AS w(asset_id, t0, t1)"
        " ON fe.asset_id = w.asset_id AND fe.time BETWEEN w.t0 AND w.t1"
        f" WHERE fe.model_id = {int(model.pk)}{_second_conditions(filters, params)}"
        " ORDER BY fe.asset_id, fe.time) scored"
    )
    scores: dict[int, list[Second]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for asset_id, time, score, continuity in cursor.fetchall():
            scores[asset_id].append(Second(time=time, score=float(score),
                                           continuity=None if continuity is None else float(continuity)))
    return scores


def shots_in_windows(*, windows: list[tuple[int, float, float]]) -> dict[int, list[ShotSpan]]:
    """The stored shots overlapping the windows, by asset in time order, in one query: per window the
    shots starting inside it and the one it starts in, both read from the (asset, start) index, so
    the cost follows the windows, not the assets' lengths. Assets indexed before shots were stored
    have none (search falls back to judging cuts from the frames)."""
    if not windows:
        return {}
    table = Shot._meta.db_table
    params = {"ids": [w[0] for w in windows], "t0": [w[1] for w in windows], "t1": [w[2] for w in windows]}
    columns = "s.asset_id, s.index, s.start, s.\"end\""
    # Both arms inside a LATERAL per window, so each is an index range read whatever the table's size
    # (joined plainly, the planner hashes the whole table against the windows).
    sql = (
        f"SELECT DISTINCT s.* FROM unnest(%(ids)s::bigint[], %(t0)s::float8[], %(t1)s::float8[]) AS w(asset_id, t0, t1)"
        f" CROSS JOIN LATERAL ((SELECT {columns} FROM {table} s WHERE s.asset_id = w.asset_id AND s.start <= w.t0"
        "  ORDER BY s.start DESC LIMIT 1)"
        f" UNION ALL (SELECT {columns} FROM {table} s WHERE s.asset_id = w.asset_id"
        "  AND s.start > w.t0 AND s.start <= w.t1)) s"
        " ORDER BY 1, 3"
    )
    shots: dict[int, list[ShotSpan]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for asset_id, index, start, end in cursor.fetchall():
            shots[asset_id].append(ShotSpan(index=index, start=start, end=end))
    return shots


def _windows(candidates: list[tuple[int, float]]) -> list[tuple[int, float, float]]:
    """Per asset, the candidate times padded by WINDOW_PADDING and merged where they overlap."""
    by_asset: dict[int, list[float]] = defaultdict(list)
    for asset_id, time in candidates:
        by_asset[asset_id].append(time)
    windows = []
    for asset_id, times in by_asset.items():
        times.sort()
        start, end = times[0] - WINDOW_PADDING, times[0] + WINDOW_PADDING
        for time in times[1:]:
            if time - WINDOW_PADDING <= end:
                end = time + WINDOW_PADDING
            else:
                windows.append((asset_id, start, end))
                start, end = time - WINDOW_PADDING, time + WINDOW_PADDING
        windows.append((asset_id, start, end))
    return windows


# The generated columns of assets migration 0009_search_text (title, description, keywords and location),
# each with a GIN index: the query reads them rather than computing them for every row it matches.
KEYWORD_WORDS = 4  # the longest keyword looked for in a query, in words (scripts with spaces)
KEYWORD_CHARACTERS = 8  # ... and in characters (scripts without spaces: Chinese)


def text_match_query(*, query: str, filters: SearchFilters, limit: int = TEXT_MATCH_ASSETS) -> tuple[str, dict]:
    """The SQL of text matching over titles, descriptions, keywords and locations; every arm of its
    condition has an index (full text, trigrams, character pairs, the folded keywords)."""
    params = {"q": query, "like": f"%{_escape_like(query)}%", "limit": limit, "phrases": keyword_phrases(query),
              "bigrams": unspaced_bigrams(query)}
    asset_conditions = _asset_conditions(filters, params)
    where = f" AND {asset_conditions}" if asset_conditions else ""
    substring = "a.search_text ILIKE %(like)s"
    # The text holds every pair of the query's characters: what the index serves even for two characters.
    indexed_substring = f"(a.search_bigrams @> %(bigrams)s::text[] AND {substring})" if params["bigrams"] else substring
    keyword = "a.keywords_folded && %(phrases)s::text[]"
    # One arm per index, united: as one OR, the planner may prefer reading every row, and the fuzzy
    # title arm then costs a trigram comparison per asset (92 against 8 ms at 20,000 assets).
    arms = ("a.search_vector @@ plainto_tsquery('simple', %(q)s)", "a.title %% %(q)s", indexed_substring, keyword)
    table = Asset._meta.db_table
    sql = (
        "SELECT a.id, GREATEST("
        " ts_rank_cd(a.search_vector, plainto_tsquery('simple', %(q)s), 1) * 2,"
        " similarity(a.title, %(q)s),"
        f" CASE WHEN {substring} OR {keyword} THEN 1.0 ELSE 0 END) AS strength "
        f"FROM {table} a WHERE a.id IN ("
        + " UNION ".join(f"SELECT a.id FROM {table} a WHERE {arm}" for arm in arms)
        + f"){where} ORDER BY strength DESC LIMIT %(limit)s"
    )
    return sql, params


def unspaced_bigrams(text: str) -> list[str]:
    """The pairs of adjacent characters of scripts without spaces, as SQL's unspaced_bigrams (assets 0009)."""
    return sorted({text[i:i + 2] for i in range(len(text) - 1) if _UNSPACED_PAIR.fullmatch(text[i:i + 2])})


def keyword_phrases(query: str) -> list[str]:
    """What of the query could be a whole keyword, in lower case: runs of up to KEYWORD_WORDS words, and
    in Chinese (no spaces) every substring of 2 to KEYWORD_CHARACTERS characters, so "flood at the bridge"
    finds the keyword "bridge" and "桥上的洪水" the keyword "洪水"."""
    words = re.findall(r"\w+", query.lower())
    phrases = {" ".join(words[i:i + n]) for n in range(1, KEYWORD_WORDS + 1) for i in range(len(words) - n + 1)}
    for run in re.findall(rf"[{_UNSPACED}]+", query):
        phrases.update(run[i:i + n] for n in range(2, KEYWORD_CHARACTERS + 1) for i in range(len(run) - n + 1))
    return sorted(phrases)


def text_matches(*, query: str, filters: SearchFilters, limit: int = TEXT_MATCH_ASSETS) -> dict[int, float]:
    """Assets whose title, description, keywords or location match the query text, with a 0..1 strength:
    full-text search (any language's words, 'simple' configuration), fuzzy title similarity (pg_trgm),
    plain substring matching for scripts without spaces (Chinese), and a keyword named in the query
    (a full match)."""
    query = query.strip()
    if not query:
        return {}
    sql, params = text_match_query(query=query, filters=filters, limit=limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {asset_id: min(float(strength), 1.0) for asset_id, strength in cursor.fetchall()}


# The text a shot is found by: the editor's description where there is one, else the generated one,
# per language. The same expressions as the indexes of shots migration 0002_description_search:
# Postgres uses an expression index only for a query written with the identical expression.
SHOT_TEXT = ("(CASE WHEN s.edited_en <> '' THEN s.edited_en ELSE s.description_en END) || ' ' ||"
             " (CASE WHEN s.edited_zh <> '' THEN s.edited_zh ELSE s.description_zh END)")
SHOT_TEXT_VECTOR = f"to_tsvector('simple'::regconfig, {SHOT_TEXT})"
SHOT_EDITED_TEXT = "s.edited_en || ' ' || s.edited_zh"


def shot_description_query(*, query: str, filters: SearchFilters, limit: int = DESCRIBED_SHOTS) -> tuple[str, dict]:
    """The SQL of description matching, with the same arms as the title's (text_match_query): every
    word of the query (full text, any language with spaces), and the query as a substring (scripts
    without spaces: Chinese); both served by GIN indexes. The words in order (or the whole query as
    a substring) are a full match; all of them, but apart or in another order, count
    DESCRIPTION_WORDS_APART. `edited`: the words that matched are an editor's."""
    params = {"q": query, "like": f"%{_escape_like(query)}%", "limit": limit, "apart": DESCRIPTION_WORDS_APART}
    asset_conditions = _asset_conditions(filters, params)
    where = (f" AND s.asset_id IN (SELECT a.id FROM {Asset._meta.db_table} a WHERE {asset_conditions})"
             if asset_conditions else "")
    words, phrase = "plainto_tsquery('simple', %(q)s)", "phraseto_tsquery('simple', %(q)s)"
    sql = (
        "SELECT s.asset_id, s.index, s.start, s.\"end\","
        f" CASE WHEN {SHOT_TEXT_VECTOR} @@ {phrase} OR {SHOT_TEXT} ILIKE %(like)s THEN 1.0 ELSE %(apart)s END AS strength,"
        f" (to_tsvector('simple'::regconfig, {SHOT_EDITED_TEXT}) @@ {words}"
        f"  OR {SHOT_EDITED_TEXT} ILIKE %(like)s) AS edited "
        f"FROM {Shot._meta.db_table} s WHERE ({SHOT_TEXT_VECTOR} @@ {words} OR {SHOT_TEXT} ILIKE %(like)s){where}"
        " ORDER BY edited DESC, strength DESC, s.asset_id, s.index LIMIT %(limit)s"
    )
    return sql, params


def shot_description_matches(*, query: str, filters: SearchFilters, limit: int = DESCRIBED_SHOTS) -> list[ShotMatch]:
    """Shots whose description (the editor's where there is one, else the generated one; English or
    Chinese) matches the query text, editors' first."""
    query = query.strip()
    if not query:
        return []
    sql, params = shot_description_query(query=query, filters=filters, limit=limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [ShotMatch(asset_id=asset_id, index=index, start=start, end=end, strength=min(float(strength), 1.0),
                          edited=bool(edited))
                for asset_id, index, start, end, strength, edited in cursor.fetchall()]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def tags_named_in(query: str, *, labels: Sequence[TagLabel] | None = None) -> list[TagLabel]:
    """Vocabulary labels the query names, in English (as words) or Chinese (as a substring).
    Matched on the names alone, so a vocabulary of hundreds of labels costs one light query.
    `labels`: the active vocabulary (tag_labels_named), if already read."""
    lowered = query.lower()
    return [label for label in (tag_labels_named() if labels is None else labels)
            if re.search(rf"(?<![\w]){re.escape(label.name.lower())}(?![\w])", lowered)
            or (label.name_zh and label.name_zh in query)]


def tag_labels_named() -> list[TagLabel]:
    """The active vocabulary's labels with just their names (what tags_named_in matches)."""
    return list(tag_labels_active().only("pk", "name", "name_zh"))


# Scripts written without spaces between words: a name in them is found as a substring.
_UNSPACED = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
_SPACED_WORD_CHAR = rf"[^\W{_UNSPACED}]"  # a word character of a script with spaces (Latin, Cyrillic...)
_UNSPACED_CHAR = re.compile(rf"[{_UNSPACED}]")
_UNSPACED_PAIR = re.compile(rf"[{_UNSPACED}]{{2}}")
MIN_NAME_LENGTH = 2
_QUERY_EDGES = " \t,.;:!?'\"-—，。、；：！？·"


@dataclass(frozen=True)
class PersonInQuery:
    """A known person named in a text query, and the rest of the query that ranks their moments."""

    person: SearchPerson
    matched: str  # the query's words that named them, as typed
    rest: str  # "" when the query was only the name

    def explain(self) -> str:
        ranked = f"ranked by “{self.rest}”" if self.rest else "longest appearances first"
        return (f"Recognised {self.person.name} in the query (“{self.matched}”): results are narrowed to the "
                f"moments where {self.person.name} is on screen, {ranked}.")


def person_named_in(query: str, *, people: list[SearchPerson] | None = None) -> PersonInQuery | None:
    """The known person the query names, the longest name winning: case-insensitive whole words in
    scripts with spaces, a substring in Chinese or Japanese. Names shorter than MIN_NAME_LENGTH are ignored."""
    people = search_named_people() if people is None else people
    for person in sorted(people, key=lambda p: (-len(p.name), p.id)):
        if len(person.name) < MIN_NAME_LENGTH:
            continue
        match = _name_pattern(person.name).search(query)
        if match:
            rest = " ".join(f"{query[:match.start()]} {query[match.end():]}".split())
            rest = re.sub(r"\s+([,.;:!?，。、；：！？])", r"\1", rest).strip(_QUERY_EDGES)
            return PersonInQuery(person=person, matched=match.group(0),
                                 rest=rest if any(ch.isalnum() for ch in rest) else "")
    return None


def _name_pattern(name: str) -> re.Pattern:
    words = r"\s+".join(re.escape(word) for word in name.split())
    if _UNSPACED_CHAR.search(name):
        return re.compile(words, re.IGNORECASE)
    return re.compile(rf"(?<!{_SPACED_WORD_CHAR}){words}(?!{_SPACED_WORD_CHAR})", re.IGNORECASE)


def person_appearances(*, filters: SearchFilters, limit: int) -> list[Moment]:
    """The person's appearances (filters.person) as moments, longest first, then the best face
    (largest, then sharpest); overlapping tracks of one asset make one moment. The score is the
    appearance's length relative to the longest."""
    params: dict = {}
    conditions = _asset_conditions(filters, params)
    sql = (
        "SELECT ft.asset_id, ft.start, ft.\"end\", a.kind, a.duration, f.time, (f.box->>3)::float, f.sharpness"
        f" FROM {FaceTrack._meta.db_table} ft JOIN {Asset._meta.db_table} a ON a.id = ft.asset_id"
        f" LEFT JOIN {Face._meta.db_table} f ON f.id = ft.best_face_id"
        f" WHERE ft.person_id = ANY(%(people)s) AND {conditions}{_track_tag_condition(filters, params)}"
        " ORDER BY ft.asset_id, ft.start"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    interval = settings.FRAME_INTERVAL_SECONDS
    moments: list[tuple[Moment, tuple[float, float]]] = []
    for asset_id, start, end, kind, duration, face_time, face_height, sharpness in rows:
        if kind == Asset.Kind.VIDEO:
            end = max(end, start + interval)
            end = min(end, duration) if duration else end
        face = (face_height or 0.0, sharpness or 0.0)  # the best face's height, then its sharpness
        best_time = face_time if face_time is not None else start
        if moments and moments[-1][0].asset_id == asset_id and start <= moments[-1][0].end:  # overlaps the last
            moment, best_face = moments[-1]
            moment.end = max(moment.end, end)
            if face > best_face:
                moment.best_time = best_time
                moments[-1] = (moment, face)
            continue
        moments.append((Moment(asset_id=asset_id, start=start, end=end, visual=0.0, best_time=best_time), face))
    longest = max((max(m.end - m.start, interval) for m, _ in moments), default=interval)
    for moment, _ in moments:
        moment.visual = max(moment.end - moment.start, interval) / longest
    moments.sort(key=lambda pair: (-pair[0].visual, -pair[1][0], -pair[1][1], pair[0].asset_id, pair[0].start))
    return [moment for moment, _ in moments[:limit]]


def _track_tag_condition(filters: SearchFilters, params: dict) -> str:
    """With a tag filter, only the tracks (alias `ft`) that overlap the tag's ranges."""
    if filters.tag is None:
        return ""
    params["tag_label"] = filters.tag.pk
    return (f" AND EXISTS (SELECT 1 FROM {AssetTag._meta.db_table} t WHERE t.asset_id = ft.asset_id"
            " AND t.label_id = %(tag_label)s AND t.start <= ft.\"end\" AND ft.start <= t.\"end\")")


def tag_coverage(*, moments: list[Moment], labels: list[TagLabel]) -> None:
    """Set each moment's `tag` strength: over the tags the query names, the mean of each one's
    best score overlapping the moment (0 where it is absent), so "red circle" is only fully
    covered by a moment tagged both red and circle; taken shot by shot (the best shot's) where
    the asset's shots are stored."""
    if not labels or not moments:
        return
    tags = AssetTag.objects.filter(label__in=labels, asset_id__in={m.asset_id for m in moments})
    by_asset = defaultdict(list)
    for tag in tags:
        by_asset[tag.asset_id].append(tag)
    interval = settings.FRAME_INTERVAL_SECONDS
    for moment in moments:
        tags = by_asset[moment.asset_id]
        if not moment.shots:
            moment.tag = _coverage(tags, labels, lambda tag: moment.overlaps(tag.start, tag.end))
            continue
        # Shot by shot (the best shot's): two tags each on one side of a cut don't add up to a match.
        moment.tag = max(_coverage(tags, labels, functools.partial(_tag_sampled_in, start=start, end=end, interval=interval))
                         for start, end in moment.shots)


def _coverage(tags: list[AssetTag], labels: list[TagLabel], covers) -> float:
    best = {label.pk: 0.0 for label in labels}
    for tag in tags:
        if covers(tag):
            best[tag.label_id] = max(best[tag.label_id], tag.score)
    return sum(best.values()) / len(best)


def _tag_sampled_in(tag: AssetTag, *, start: float, end: float, interval: float) -> bool:
    """Whether one of the sampled seconds a tag was given for (from its start, every interval, up to
    its end) falls in the shot [start, end): a tag's range runs to the next sample, so it can reach
    a little past a cut that falls between two samples."""
    if tag.start == tag.end or start == end:  # an image or an instant
        return tag.start <= end and start <= tag.end
    first = tag.start + max(0.0, math.ceil((start - tag.start) / interval - 1e-6)) * interval
    return first < tag.end - 1e-6 and first < end - 1e-6


def feedback_near(*, vector: np.ndarray, model: EmbeddingModel, asset_ids: set[int], radius: float) -> list[FeedbackEvent]:
    """Feedback on these assets given to searches whose query vector lies within `radius` of this one."""
    if not asset_ids:
        return []
    dim = int(model.dim)
    sql = (
        "SELECT f.asset_id, f.start, f.\"end\", f.action, EXTRACT(EPOCH FROM now() - f.created_at) / 86400,"
        f" 1 - (s.vector::vector({dim}) <=> %(q)s::vector({dim})) AS similarity "
        f"FROM {Feedback._meta.db_table} f JOIN search_search s ON s.id = f.search_id "
        f"WHERE s.model_id = %(model)s AND f.asset_id = ANY(%(assets)s) "
        f"AND 1 - (s.vector::vector({dim}) <=> %(q)s::vector({dim})) > %(radius)s"
    )
    params = {"q": query_vector(vector), "model": model.pk, "assets": list(asset_ids), "radius": radius}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [FeedbackEvent(asset_id=a, start=s, end=e, action=act, age_days=float(age), query_similarity=float(sim))
                for a, s, e, act, age, sim in cursor.fetchall()]


@dataclass
class MomentSearch:
    """Everything the fine pass needs, gathered from the database."""

    scores: dict[int, list[Second]]
    text: dict[int, float]
    assets: dict[int, Asset] = field(default_factory=dict)
    shots: dict[int, list[ShotSpan]] = field(default_factory=dict)  # stored shots around the scored seconds
    described: dict[int, list[ShotMatch]] = field(default_factory=dict)  # shots whose description matches
    seconds_filtered: bool = False  # a filter (person, tag) picked the seconds: moments start where they do


def moment_search_gather(*, vector: np.ndarray, model: EmbeddingModel, filters: SearchFilters, query: str,
                         assets_read: dict[int, Asset] | None = None) -> MomentSearch:
    """`assets_read`: assets (with who is on screen) earlier searches of the same request read; the
    ones this search reads are added to it."""
    candidates = ann_candidates(vector=vector, model=model, filters=filters)
    text = text_matches(query=query, filters=filters) if query else {}
    described = shot_description_matches(query=query, filters=filters) if query else []
    candidate_assets = {asset_id for asset_id, _ in candidates}
    extra = [asset_id for asset_id in text if asset_id not in candidate_assets]
    windows = search_windows(candidates, extra_assets=extra, extra_windows=[(m.asset_id, m.start, m.end) for m in described])
    shots = shots_in_windows(windows=windows)
    scores = exact_scores_in(vector=vector, model=model, filters=filters, windows=windows,
                             continuity_assets={asset_id for asset_id, _, _ in windows} - shots.keys())
    if assets_read is None:
        assets = search_assets_with_people(asset_ids=scores)  # with who is on screen, for the result cards
    else:
        assets_read.update(search_assets_with_people(asset_ids=scores.keys() - assets_read.keys()))
        assets = {asset_id: assets_read[asset_id] for asset_id in scores if asset_id in assets_read}
    by_asset: dict[int, list[ShotMatch]] = defaultdict(list)
    for match in described:
        by_asset[match.asset_id].append(match)
    return MomentSearch(scores=scores, text=text, assets=assets, shots=shots, described=by_asset,
                        seconds_filtered=filters.person is not None or filters.tag is not None)


def moments_from_scores(gathered: MomentSearch, *, calibration: Calibration) -> list[Moment]:
    background = background_level(s.score for seconds in gathered.scores.values() for s in seconds)
    interval = settings.FRAME_INTERVAL_SECONDS
    moments = []
    for asset_id, seconds in gathered.scores.items():
        asset = gathered.assets.get(asset_id)
        if asset is None:
            continue
        duration = asset.duration if asset.kind == Asset.Kind.VIDEO else None
        found = merge_seconds(asset_id, seconds, interval=interval, background=background, min_peak=background,
                              duration=duration, shot_continuity=calibration.shot_continuity,
                              spread=calibration.spread, shots=gathered.shots.get(asset_id, ()),
                              match_floor=calibration.match_floor, snap_starts=not gathered.seconds_filtered)
        if gathered.described.get(asset_id):
            found = describe_shots(found, seconds, matches=gathered.described[asset_id], interval=interval,
                                   duration=duration, snap_starts=not gathered.seconds_filtered)
        for moment in found:
            moment.text = gathered.text.get(asset_id, 0.0)
            moments.append(moment)
    return moments


def moment_vectors_mean(*, model: EmbeddingModel, ranges: list[tuple[int, float, float]]) -> np.ndarray | None:
    """The normalised mean vector of the seconds inside (asset_id, start, end) ranges, or None."""
    vectors = []
    for asset_id, start, end in ranges:
        rows = FrameEmbedding.objects.filter(model=model, asset_id=asset_id, time__gte=start)
        rows = rows.filter(time__lt=end) if end > start else rows.filter(time=start)
        vectors.extend(np.asarray(v, dtype=np.float32) for v in rows.values_list("embedding", flat=True))
    if not vectors:
        return None
    mean = np.mean(vectors, axis=0)
    return mean / np.linalg.norm(mean)


@dataclass
class SearchReads:
    """What every search reads the same way, read once for a request that runs many (a brief's beats)."""

    model: EmbeddingModel | None
    calibration: Calibration
    people: list[SearchPerson]  # the named people a query may name
    labels: list[TagLabel]  # the tag vocabulary a query may name
    assets: dict[int, Asset] = field(default_factory=dict)  # the assets the searches have read so far


def search_reads(*, spec: ClipSpec) -> SearchReads:
    model, calibration = search_model(spec=spec)
    return SearchReads(model=model, calibration=calibration, people=search_named_people(), labels=tag_labels_named())


def search_model(*, spec: ClipSpec) -> tuple[EmbeddingModel | None, Calibration]:
    """The stored model row for `spec` (None if nothing was embedded with it yet) and its calibration."""
    model = embedding_model_get(spec=spec)
    return model, calibration_for(spec=spec, model=model)


def calibration_for(*, spec: ClipSpec, model: EmbeddingModel | None = None) -> Calibration:
    """The figures measured on this library for the model (`manage.py calibrate`), else the model's defaults."""
    model = model or embedding_model_get(spec=spec)
    try:
        measured = model.calibration if model is not None else None
    except ModelCalibration.DoesNotExist:
        measured = None
    if measured is None:
        return load_clip(spec).calibration
    return Calibration(match_floor=measured.match_floor, spread=measured.spread, feedback_radius=measured.feedback_radius,
                       tag_floor=measured.tag_floor, shot_continuity=measured.shot_continuity, measured=True)


def model_frame_count(*, model: EmbeddingModel) -> int:
    return FrameEmbedding.objects.filter(model=model).count()


@dataclass(frozen=True)
class CalibrationFrame:
    asset_id: int
    time: float
    image: str  # storage name of the frame's JPEG
    vector: np.ndarray


def calibration_frames(*, model: EmbeddingModel, max_frames: int, seed: int = 0) -> list[CalibrationFrame]:
    """Whole assets picked at random (reproducibly) until about `max_frames` frames, each in time order,
    so consecutive frames of one asset can be compared."""
    counts = list(FrameEmbedding.objects.filter(model=model).values_list("asset_id").annotate(n=Count("id")).order_by("asset_id"))
    order = np.random.default_rng(seed).permutation(len(counts))
    chosen, total = [], 0
    for i in order:
        if total >= max_frames:
            break
        chosen.append(counts[i][0])
        total += counts[i][1]
    rows = (FrameEmbedding.objects.filter(model=model, asset_id__in=chosen).order_by("asset_id", "time")
            .values_list("asset_id", "time", "frame__image", "embedding"))
    return [CalibrationFrame(asset_id=a, time=t, image=image, vector=np.asarray(v, dtype=np.float32))
            for a, t, image, v in rows]


# A sample of this many frames (or the whole library when smaller) tells a query's typical score.
BACKGROUND_SAMPLE_FRAMES = 2000
BACKGROUND_SAMPLE_TTL = 600.0  # seconds a process keeps its sample before drawing it again
_background_samples: dict[int, tuple[float, np.ndarray]] = {}


def query_background(*, vector: np.ndarray, model: EmbeddingModel) -> float | None:
    """The query's median similarity over a random (but fixed) sample of the model's frames: what
    a frame that doesn't match it scores. The sample is read once per process every few minutes
    (vectors are stored out of line, so reading them per search would cost more than the search)."""
    sample = _background_sample(model)
    if not len(sample):
        return None
    # einsum, not BLAS: OpenBLAS's threads spin after a product and slow the next query's text encoding.
    return float(np.median(np.einsum("ij,j->i", sample, np.asarray(vector, dtype=np.float32))))


def _background_sample(model: EmbeddingModel) -> np.ndarray:
    cached = _background_samples.get(model.pk)
    if cached is not None and time.monotonic() - cached[0] < BACKGROUND_SAMPLE_TTL:
        return cached[1]
    table = FrameEmbedding._meta.db_table
    percent = min(100.0, 100.0 * BACKGROUND_SAMPLE_FRAMES / _table_rows(table))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT fe.id FROM {table} fe TABLESAMPLE SYSTEM (%s) REPEATABLE (7) "
                       "WHERE fe.model_id = %s LIMIT %s", [percent, model.pk, 2 * BACKGROUND_SAMPLE_FRAMES])
        ids = [row[0] for row in cursor.fetchall()]
    vectors = FrameEmbedding.objects.filter(pk__in=ids).values_list("embedding", flat=True)
    sample = np.asarray(list(vectors), dtype=np.float32).reshape(-1, model.dim)
    _background_samples[model.pk] = (time.monotonic(), sample)
    return sample


def background_sample_forget(*, model: EmbeddingModel) -> None:
    """Draw the sample again at the next search (the library changed in this process)."""
    _background_samples.pop(model.pk, None)


_TABLE_ROWS_TTL = 300.0
_table_rows_seen: dict[str, tuple[float, float]] = {}


def _table_rows(table: str) -> float:
    """Postgres's estimate of the table's rows, re-read every few minutes (it only sizes the sample)."""
    seen = _table_rows_seen.get(table)
    if seen is None or time.monotonic() - seen[0] > _TABLE_ROWS_TTL:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
        seen = (time.monotonic(), max(float(row[0]) if row else 0.0, 1.0))
        _table_rows_seen[table] = seen
    return seen[1]


ENCODED_TEXTS_KEPT = 2048
# Queries are encoded on one torch thread. Their matrices are small (a brief's 20 beats are 20 x 15
# tokens), and on a machine whose cores are busy (ingest workers, other requests) a second intra-op
# thread mostly waits for its core. On the 2-core reference machine at load 2-3, p50 on one thread
# against two: a 20-beat brief 198 / 391 ms (ViT-B-32), 472 / 1,252 ms (the default model's XLM-R
# tower); one query 41 / 413 ms and 66 / 160 ms. Two threads won only at the median of one run at
# load 2 (a brief 163 against 243 ms; at p90 474 against 301 ms).
QUERY_ENCODING_THREADS = 1
_encoded_texts: OrderedDict[tuple[ClipSpec, str], np.ndarray] = OrderedDict()
_encoded_texts_lock = threading.Lock()


def text_query_vectors(*, spec: ClipSpec, texts: Sequence[str]) -> np.ndarray:
    """The texts' vectors, shape (len(texts), dim): recent ones from a per-process cache, the others
    encoded together in one batch (a brief's beats cost one pass of the text tower, not one each)."""
    texts = [" ".join(text.split()) for text in texts]
    with _encoded_texts_lock:
        known = {text: _encoded_texts[(spec, text)] for text in texts if (spec, text) in _encoded_texts}
    missing = list(dict.fromkeys(text for text in texts if text not in known))
    if missing:
        known.update(zip(missing, load_clip(spec).embed_texts(missing, threads=QUERY_ENCODING_THREADS)))
    with _encoded_texts_lock:
        for text in texts:
            _encoded_texts[(spec, text)] = known[text]
            _encoded_texts.move_to_end((spec, text))
        while len(_encoded_texts) > ENCODED_TEXTS_KEPT:
            _encoded_texts.popitem(last=False)
    return np.stack([known[text] for text in texts]).astype(np.float32, copy=False)


def text_model_warm() -> None:
    """Load the active model and run its text tower once, so that the first search doesn't wait for it
    (a web worker calls this in a thread of its own as it starts: mediahub/gunicorn_config.py). A model
    that can't be loaded is logged with the sentence a search would answer."""
    spec = active_clip_spec()
    started = time.monotonic()
    try:
        load_clip(spec).embed_texts(["a"], threads=QUERY_ENCODING_THREADS)
    except ModelUnavailable as exc:
        logger.warning("Search is unavailable: %s", exc)
        return
    logger.info("search model %s ready for queries in %.1fs", spec.key, time.monotonic() - started)


def text_model_state() -> str:
    """Whether this process has the active model for queries (workers.ml.clip.clip_state)."""
    return clip_state(active_clip_spec())


def text_query_vector(*, spec: ClipSpec, text: str) -> np.ndarray:
    """The query's text vector; recent queries are answered from a per-process cache."""
    return text_query_vectors(spec=spec, texts=[text])[0]


def image_query_vector(*, spec: ClipSpec, image) -> np.ndarray:
    return load_clip(spec).embed_images([image])[0]


def second_vector(*, spec: ClipSpec, asset_id: int, time: float) -> np.ndarray | None:
    """The stored vector of the asset's sampled second nearest to `time`, by the active model."""
    row = (FrameEmbedding.objects.filter(model__key=spec.key, asset_id=asset_id)
           .annotate(gap=Func(F("time") - time, function="ABS")).order_by("gap").values_list("embedding", flat=True).first())
    return None if row is None else np.asarray(row, dtype=np.float32)


@dataclass
class MomentCard:
    moment: Moment
    asset: Asset
    frame_index: int
    people: list[tuple[int, str]] = field(default_factory=list)  # (id, name) of named people on screen in it

    @property
    def usage_warning(self) -> str | None:
        """For the card's badge: embargo, do not use or restricted (the asset is read whole, no query)."""
        return self.asset.usage_warning()

    @property
    def why(self) -> str:
        """The score's parts, for a tooltip."""
        parts = [f"looks like the query {self.moment.visual:.3f}"]
        if self.moment.parts.get("text_bonus"):
            parts.append(f"title/description match +{self.moment.parts['text_bonus']:.3f}")
        if self.moment.parts.get("tag_bonus"):
            parts.append(f"tag match +{self.moment.parts['tag_bonus']:.3f}")
        if self.moment.parts.get("description_bonus"):
            parts.append(f"shot description match +{self.moment.parts['description_bonus']:.3f}")
        if self.moment.feedback:
            parts.append(f"feedback {self.moment.feedback:+.3f}")
        return "; ".join(parts) + f" = {self.moment.score:.3f}"


def moment_cards(moments: list[Moment], *, assets: dict[int, Asset] | None = None) -> list[MomentCard]:
    """The moments with their assets and the named people on screen in each. `assets` are those the
    search already read (search_assets_with_people); without them, one query reads them."""
    wanted = {m.asset_id for m in moments}
    if assets is None or not wanted <= assets.keys():
        assets = search_assets_with_people(asset_ids=wanted) if wanted else {}
    interval = settings.FRAME_INTERVAL_SECONDS
    return [MomentCard(moment=m, asset=assets[m.asset_id], frame_index=int((m.best_time + 1e-6) // interval),
                       people=_people_in(m, assets[m.asset_id].people_on_screen, interval=interval))
            for m in moments if m.asset_id in assets]


def _people_in(moment: Moment, tracks, *, interval: float) -> list[tuple[int, str]]:
    people = {}
    for track in tracks:
        if track.person_id is None or not track.person_name:  # unassigned, hidden or unnamed
            continue
        if moment.start == moment.end:  # an image, or an instant
            on_screen = track.start <= moment.start <= track.end
        else:  # a track of one instant (start = end) still covers its sampled second
            on_screen = moment.overlaps(track.start, max(track.end, track.start + interval))
        if on_screen:
            people.setdefault(track.person_id, track.person_name)
    return sorted(people.items(), key=lambda item: (item[1].lower(), item[0]))
