"""Writes of search data: embedding models, frame vectors and their indexes, searches and feedback."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Sequence

import numpy as np
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from mediahub.assets.models import Asset, Frame
from mediahub.assets.selectors import rights_policy_applies
from mediahub.core.progress import Progress, as_is
from mediahub.people.selectors import SearchPerson
from mediahub.search import ranking
from mediahub.search.models import EmbeddingModel, Feedback, FrameEmbedding, ModelCalibration, PromptVector, Search
from mediahub.search.ranking import Moment
from mediahub.search.selectors import (
    PersonInQuery, SearchFilters, SearchReads, active_clip_spec, feedback_near, moment_search_gather,
    moment_vectors_mean, moments_from_scores, background_sample_forget, person_appearances, person_named_in,
    query_background, search_model, tag_coverage, tags_named_in, text_query_vector,
)
from workers.ml.clip import Calibration, ClipSpec, load_clip

HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64


def embedding_model_ensure(*, spec: ClipSpec) -> EmbeddingModel:
    """The row for `spec`'s model and weights, with its vector index, created on first use."""
    model, _ = EmbeddingModel.objects.get_or_create(
        key=spec.key, defaults={"name": spec.name, "pretrained": spec.weights or "random", "dim": spec.embed_dim()})
    vector_index_ensure(model=model)
    return model


def vector_index_ensure(*, model: EmbeddingModel) -> None:
    """A partial HNSW index (cosine) over this model's vectors, cast to its dimension.

    One index per model because the column holds vectors of several sizes; a
    query must use the same cast and `model_id = <id>` predicate to use it.
    The graph holds half-precision copies (half the size and faster, with the
    same recall in bench/search_latency.py); the exact re-scoring of the
    candidates reads the full-precision column.
    """
    table = FrameEmbedding._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [model.index_name])
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [model.index_name])
        if cursor.fetchone():
            return
        # CREATE INDEX refuses to run while this transaction still owes deferred foreign-key checks.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {model.index_name} ON {table} "
            f"USING hnsw ((embedding::halfvec({int(model.dim)})) halfvec_cosine_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
            f"WHERE model_id = {int(model.pk)}"
        )


@transaction.atomic
def frame_embeddings_save(*, asset: Asset, model: EmbeddingModel, frames: Sequence[Frame], vectors: np.ndarray) -> None:
    """Upsert one vector per frame for `model` (a re-run replaces, never duplicates)."""
    rows = [FrameEmbedding(frame=frame, asset=asset, model=model, time=frame.time, embedding=vector)
            for frame, vector in zip(frames, vectors, strict=True)]
    FrameEmbedding.objects.bulk_create(rows, update_conflicts=True, unique_fields=["frame", "model"],
                                       update_fields=["embedding", "time", "asset", "updated_at"])
    background_sample_forget(model=model)


def frame_embeddings_prune(*, keep_key: str) -> int:
    """Delete the vectors of every model but `keep_key`."""
    deleted, _ = FrameEmbedding.objects.exclude(model__key=keep_key).delete()
    return deleted


# Searching. A search is a write: the query, its vector and the moments shown
# are stored so feedback can refer to them and tune later rankings.

# English in the API; the search page shows them in its language (gettext_noop marks them for it).
WEAK_NOTICE = gettext_noop("No footage matches well; the closest results are below.")
NOT_INDEXED_NOTICE = gettext_noop("No footage has been indexed with the model {model} yet; "
                                  "upload footage or run `manage.py reembed`.")


@dataclass
class SearchOutcome:
    search: Search
    moments: list[Moment]
    weak: bool  # nothing matched well: the results are the closest, not good answers
    refined: bool  # the query vector was moved by feedback earlier in the session
    lifted: bool  # feedback changed this ranking
    indexed: bool = True  # False: nothing was indexed with the active model yet (no results, stored all the same)
    calibration: str = "default"  # "measured" on this library, or the model's "default" figures
    person: PersonInQuery | None = None  # a person the query named, whose appearances the results are narrowed to
    assets: dict = dataclasses.field(default_factory=dict)  # the moments' assets as read (with who is on screen)


def search_run(*, user, vector: np.ndarray, model: EmbeddingModel, calibration: Calibration, kind: str,
               query: str, filters: SearchFilters, limit: int, session_key: str = "",
               words_known: bool = True, rank_query: str | None = None, reads: SearchReads | None = None,
               started: float | None = None) -> SearchOutcome:
    """Coarse-to-fine moment search, fused with text and tags, tuned by feedback; stored as a Search.

    `words_known` False (the model never learned most of the query's words) makes every answer weak.
    `rank_query` is the part of `query` that ranks (what is left once a person's name is taken out).
    `reads`: the vocabulary and assets read once for many searches (search_reads).
    `started`: time.perf_counter() when the search began (encoding included), for its stored duration."""
    started = time.perf_counter() if started is None else started
    rank_query = query if rank_query is None else rank_query
    refined_vector = query_refine(vector=vector, model=model, query=query, session_key=session_key) if query else None
    if refined_vector is not None:
        vector = refined_vector
    gathered = moment_search_gather(vector=vector, model=model, filters=filters, query=rank_query,
                                    assets_read=reads.assets if reads else None)
    moments = moments_from_scores(gathered, calibration=calibration)
    tag_coverage(moments=moments, labels=tags_named_in(rank_query, labels=reads.labels if reads else None)
                 if rank_query else [])
    ranking.fuse(moments, spread=calibration.spread)
    events = feedback_near(vector=vector, model=model, asset_ids={m.asset_id for m in moments},
                           radius=calibration.feedback_radius)
    ranking.apply_feedback(moments, events, radius=calibration.feedback_radius, floor=calibration.match_floor,
                           spread=calibration.spread)
    understood = words_known and ranking.stands_out(
        moments, background=query_background(vector=vector, model=model), spread=calibration.spread,
        floor=calibration.match_floor)
    ranked, weak = ranking.answers(ranking.rank(moments), floor=calibration.match_floor, understood=understood)
    outcome = _search_store(user=user, vector=vector, model=model, kind=kind, query=query, filters=filters,
                            session_key=session_key, ranked=ranked[:limit], weak=weak,
                            refined=refined_vector is not None, calibration=calibration, started=started)
    outcome.assets = gathered.assets
    return outcome


def _search_store(*, user, vector: np.ndarray, model: EmbeddingModel, kind: str, query: str, filters: SearchFilters,
                  session_key: str, ranked: list[Moment], weak: bool, refined: bool,
                  calibration: Calibration, started: float) -> SearchOutcome:
    search = Search.objects.create(
        user=user if user and user.is_authenticated else None, kind=kind, query=query, model=model,
        vector=vector, session_key=session_key[:64], filters=filters.as_json(),
        results=[{"asset_id": m.asset_id, "start": m.start, "end": m.end, "score": round(m.score, 4), "rank": rank}
                 for rank, m in enumerate(ranked, start=1)], duration_ms=_milliseconds_since(started))
    return SearchOutcome(search=search, moments=ranked, weak=weak, refined=refined,
                         lifted=any(m.feedback for m in ranked), calibration="measured" if calibration.measured else "default")


def _milliseconds_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def person_appearances_run(*, user, vector: np.ndarray, model: EmbeddingModel, calibration: Calibration, query: str,
                           filters: SearchFilters, limit: int, session_key: str = "", started: float) -> SearchOutcome:
    """A query that is only a person's name: their appearances, longest first, stored as a Search."""
    moments = person_appearances(filters=filters, limit=limit)
    ranking.fuse(moments, spread=0.0)  # no text or tag bonus: every part of the score is the appearance's
    return _search_store(user=user, vector=vector, model=model, kind=Search.Kind.TEXT, query=query, filters=filters,
                         session_key=session_key, ranked=moments, weak=False, refined=False, calibration=calibration,
                         started=started)


def text_search(*, user, query: str, filters: SearchFilters, limit: int, session_key: str = "",
                people: list[SearchPerson] | None = None, reads: SearchReads | None = None) -> SearchOutcome | None:
    """A text search. When the query names a known person (and no `person` filter was given), the
    results are narrowed to that person's appearances and the rest of the query ranks within them;
    a query that is only the name lists the appearances. `people`: the named people, if already read;
    `reads`: what many searches of one request share (search_reads), people included."""
    named = _person_to_narrow_to(query, filters=filters, people=reads.people if reads else people)
    if named is None:
        return search_with_active_model(user=user, vector_for=lambda spec: text_query_vector(spec=spec, text=query),
                                        kind=Search.Kind.TEXT, query=query, filters=filters, limit=limit,
                                        session_key=session_key, reads=reads)
    filters = dataclasses.replace(filters, person=named.person.id, people=named.person.track_people)
    # Only the rest is encoded: the name would pull the vector toward pictures of its letters.
    outcome = search_with_active_model(
        user=user, vector_for=lambda spec: text_query_vector(spec=spec, text=named.rest or query),
        kind=Search.Kind.TEXT, query=query, filters=filters, limit=limit, session_key=session_key,
        rank_query=named.rest, appearances_only=not named.rest, reads=reads)
    if outcome is not None:
        outcome.person = named
    return outcome


def _person_to_narrow_to(query: str, *, filters: SearchFilters, people: list[SearchPerson] | None) -> PersonInQuery | None:
    return person_named_in(query, people=people) if filters.person is None else None


def text_search_encoded_text(query: str, *, filters: SearchFilters, people: list[SearchPerson] | None = None) -> str:
    """What text_search encodes for `query`: the query, or what is left of it once a person's name is
    taken out (to encode many queries in one batch beforehand)."""
    named = _person_to_narrow_to(query, filters=filters, people=people)
    return (named.rest or query) if named else query


def search_with_active_model(*, user, vector_for: Callable[[ClipSpec], np.ndarray | None], kind: str, query: str,
                             filters: SearchFilters, limit: int, session_key: str = "", rank_query: str | None = None,
                             appearances_only: bool = False, reads: SearchReads | None = None) -> SearchOutcome | None:
    """Encode the query with the active model (`vector_for(spec)`) and run the search.

    None when `vector_for` has no vector to give; ModelUnavailable when the model can't be
    loaded. When nothing has been indexed with the model yet the search is stored with no
    results and the outcome says `indexed=False`.
    """
    started = time.perf_counter()
    spec = active_clip_spec()
    # Every search goes through here: the rights policy's condition is set from the user, not by callers.
    filters = dataclasses.replace(filters, for_viewer=user is not None and rights_policy_applies(user=user))
    model, calibration = (reads.model, reads.calibration) if reads else search_model(spec=spec)
    vector = vector_for(spec)
    if vector is None:
        return None
    if model is None:
        # Stored all the same, so every answer has a search_id that feedback and logs can refer to.
        search = Search.objects.create(
            user=user if user and user.is_authenticated else None, kind=kind, query=query,
            model=embedding_model_ensure(spec=spec), vector=vector, session_key=session_key[:64],
            filters=filters.as_json(), results=[], duration_ms=_milliseconds_since(started))
        return SearchOutcome(search=search, moments=[], weak=True, refined=False, lifted=False, indexed=False)
    if appearances_only:
        return person_appearances_run(user=user, vector=vector, model=model, calibration=calibration, query=query,
                                      filters=filters, limit=limit, session_key=session_key, started=started)
    rank_query = query if rank_query is None else rank_query
    return search_run(user=user, vector=vector, model=model, calibration=calibration, kind=kind, query=query,
                      filters=filters, limit=limit, session_key=session_key, rank_query=rank_query,
                      words_known=load_clip(spec).knows_words_of(rank_query) if rank_query else True, reads=reads,
                      started=started)


ROCCHIO_ALPHA, ROCCHIO_BETA, ROCCHIO_GAMMA = 1.0, 0.5, 0.25


def query_refine(*, vector: np.ndarray, model: EmbeddingModel, query: str, session_key: str) -> np.ndarray | None:
    """Rocchio: within a session, move a repeated query toward the seconds judged relevant
    for it and away from those judged irrelevant. None when there is nothing to learn from."""
    if not session_key:
        return None
    judged = Feedback.objects.filter(search__session_key=session_key, search__query=query, search__model=model,
                                     action__in=[Feedback.Action.RELEVANT, Feedback.Action.IRRELEVANT])
    centroids = {}
    for action in (Feedback.Action.RELEVANT, Feedback.Action.IRRELEVANT):
        ranges = [(f.asset_id, f.start, f.end) for f in judged if f.action == action]
        centroids[action] = moment_vectors_mean(model=model, ranges=ranges)
    if all(c is None for c in centroids.values()):
        return None
    refined = ROCCHIO_ALPHA * np.asarray(vector, dtype=np.float32)
    if centroids[Feedback.Action.RELEVANT] is not None:
        refined += ROCCHIO_BETA * centroids[Feedback.Action.RELEVANT]
    if centroids[Feedback.Action.IRRELEVANT] is not None:
        refined -= ROCCHIO_GAMMA * centroids[Feedback.Action.IRRELEVANT]
    return refined / np.linalg.norm(refined)


@transaction.atomic
def feedback_record(*, user, search: Search, asset_id: int, start: float, end: float, action: str) -> Feedback:
    """Store a click or judgement on a moment that `search` returned."""
    shown = any(r["asset_id"] == asset_id and abs(r["start"] - start) < 1e-3 and abs(r["end"] - end) < 1e-3
                for r in search.results)
    if not shown:
        raise FeedbackRejected("That moment was not among this search's results; send asset_id, start and end "
                               "exactly as the search returned them.")
    return Feedback.objects.create(search=search, asset_id=asset_id, start=start, end=end, action=action,
                                   user=user if user and user.is_authenticated else None)


class FeedbackRejected(Exception):
    pass


def searches_prune(*, older_than_days: int) -> int:
    """Delete stored searches older than the retention; those with feedback stay, since it tunes rankings,
    and so do the searches of a brief's beats (a pick there is feedback on them)."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = Search.objects.filter(created_at__lt=cutoff, feedback__isnull=True, brief_beats__isnull=True).delete()
    return deleted


def prompt_vectors(*, spec: ClipSpec, model: EmbeddingModel, texts: Sequence[str]) -> np.ndarray:
    """Text vectors of vocabulary prompts: stored ones from the database, the rest encoded and stored."""
    from workers.ml.clip import load_clip

    known = {text: np.asarray(vector, dtype=np.float32) for text, vector in
             PromptVector.objects.filter(model=model, text__in=set(texts)).values_list("text", "vector")}
    missing = list(dict.fromkeys(text for text in texts if text not in known))
    if missing:
        vectors = load_clip(spec).embed_texts(missing)
        PromptVector.objects.bulk_create([PromptVector(model=model, text=text, vector=vector)
                                          for text, vector in zip(missing, vectors)], ignore_conflicts=True)
        known.update(zip(missing, vectors))
    return np.stack([known[text] for text in texts]) if texts else np.zeros((0, model.dim), np.float32)


# Calibration: measured per model on this library (workers/ml/calibration.py).

CALIBRATION_MAX_FRAMES = 20_000  # frames measured on; more adds time, not precision
AUTO_CALIBRATION_FRAMES = 2_000  # a library this large is calibrated automatically...
AUTO_RECALIBRATION_GROWTH = 2.0  # ...and again once it has grown this many times since


class CalibrationFailed(Exception):
    """The library can't be calibrated yet; the message says why."""


def calibration_measure(*, spec: ClipSpec, max_frames: int = CALIBRATION_MAX_FRAMES,
                        progress: Progress = as_is) -> ModelCalibration:
    """Measure the active model's figures on the library and store them for its model row (`progress`:
    mediahub.core.progress, over the frames read)."""
    from django.core.files.storage import default_storage
    from django.utils import timezone
    from PIL import Image

    from mediahub.search.selectors import calibration_frames, embedding_model_get, model_frame_count, tag_labels_active
    from workers.ml import calibration
    from workers.ml.clip import load_clip

    model = embedding_model_get(spec=spec)
    if model is None:
        raise CalibrationFailed(f"Nothing is indexed with {spec.key} yet; ingest footage first.")
    frames = calibration_frames(model=model, max_frames=max_frames)
    labels = list(tag_labels_active(spec))
    if len(frames) < 2 or len(labels) < 2:
        raise CalibrationFailed(f"Calibration needs indexed frames and a tag vocabulary; there are {len(frames)} "
                                f"frames and {len(labels)} enabled labels for {spec.key}.")
    clip = load_clip(spec)
    prompts = [label.prompt_list() for label in labels]
    vectors = prompt_vectors(spec=spec, model=model, texts=[p for group in prompts for p in group])
    per_label = np.split(vectors, np.cumsum([len(group) for group in prompts])[:-1])
    label_vectors = np.stack([v.mean(axis=0) / np.linalg.norm(v.mean(axis=0)) for v in per_label])

    def histogram(name: str) -> np.ndarray:
        with default_storage.open(name, "rb") as handle, Image.open(handle) as image:
            image.draft("RGB", (160, 120))
            return calibration.colour_histogram(image)

    try:
        measured = calibration.calibrate(
            frame_vectors=np.stack([f.vector for f in frames]), sequence_ids=[f.asset_id for f in frames],
            histograms=np.stack([histogram(f.image) for f in progress(frames, total=len(frames), unit="frame",
                                                                      desc="read frames")]),
            label_vectors=label_vectors,
            label_groups=[label.group for label in labels], prompt_vectors=per_label, defaults=clip.calibration)
    except ValueError as exc:  # the vocabulary can't serve as a yardstick (admins may have pruned it)
        raise CalibrationFailed(f"{exc} Enable more labels in Django admin (Assets › Tag labels).") from exc
    figures = dataclasses.asdict(measured.calibration)
    figures.pop("measured")
    row, _ = ModelCalibration.objects.update_or_create(model=model, defaults={
        **figures, "frames": measured.frames, "library_frames": model_frame_count(model=model),
        "measured_at": timezone.now(), "details": measured.details | {"labels": len(labels)}})
    return row


def calibration_due(*, model: EmbeddingModel) -> bool:
    """Large enough to measure and never measured, or grown a lot since the last measurement."""
    from mediahub.search.selectors import model_frame_count

    frames = model_frame_count(model=model)
    if frames < AUTO_CALIBRATION_FRAMES:
        return False
    measured = ModelCalibration.objects.filter(model=model).first()
    return measured is None or frames >= AUTO_RECALIBRATION_GROWTH * measured.library_frames


def calibration_schedule_if_due(*, spec: ClipSpec) -> bool:
    """Enqueue a calibration of the active model (after commit) when the library calls for one."""
    from mediahub.search.selectors import embedding_model_get

    model = embedding_model_get(spec=spec)
    if model is None or not calibration_due(model=model):
        return False
    from workers.tasks import model_calibrate

    # The ml queue: it runs the model's text tower over the vocabulary.
    transaction.on_commit(lambda: model_calibrate.apply_async(args=[spec.key], queue="ml"))
    return True
