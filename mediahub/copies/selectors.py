"""Reads of video DNA: where else the library holds an asset's (or an uploaded clip's) footage.

Finding copies has two stages. Candidates: each query hash (and its mirror, for flipped copies)
asks the HNSW index over every frame hash in the library for its nearest neighbours within
CANDIDATE_DISTANCE bits (looser than a match, so a cropped or overlaid copy, whose whole-frame
hashes drift further, still becomes a candidate), and each other asset gets one vote per query
frame that found it. At ingest a second route adds the assets whose seconds the active CLIP
model sees as nearest (`clip_candidates`): a copy cropped by 10 % or under a large overlay can
drift past CANDIDATE_DISTANCE in every frame, but not out of CLIP's neighbourhood. Alignment:
the best-voted assets' compact fingerprints are loaded and `workers.ml.dna.find_copies` turns the
matching frames into aligned segments. The check endpoint and the pipeline's copies step use the
same reader.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet

from mediahub.assets.models import Asset
from mediahub.assets.selectors import assets_visible, rights_policy_applies
from mediahub.copies.models import Fingerprint, Match
from mediahub.search.selectors import active_clip_spec, embedding_model_get
from workers.media.probe import MediaError, probe
from workers.ml import dna

NEIGHBOURS = 8  # nearest frame hashes per query hash: a copy shows up among them
EF_SEARCH = 64  # HNSW search breadth (pgvector hnsw.ef_search)
MAX_CANDIDATES = 30  # assets aligned per query, most voted first
CLIP_SECONDS = 30  # seconds of an asset (evenly spread) that ask the CLIP index for look-alikes
CLIP_NEIGHBOURS = 5  # nearest seconds of other assets per asked second
CLIP_CANDIDATES = 10  # assets proposed by CLIP per asset, most voted first


@dataclass(frozen=True)
class FoundCopy:
    asset_id: int
    fingerprint_id: int
    title: str
    created_at: object
    kind: str
    score: float
    segments: list[dna.Segment]


def hash_bits(packed: np.ndarray) -> list[str]:
    """Packed 256-bit hashes ((n, 32) uint8) as the '0101…' strings a bit(256) column takes."""
    if not len(packed):
        return []
    text = (np.unpackbits(np.asarray(packed, np.uint8).reshape(len(packed), -1), axis=1) + ord("0")).astype(np.uint8)
    width = text.shape[1]
    joined = text.tobytes().decode("ascii")
    return [joined[i:i + width] for i in range(0, len(joined), width)]


def segment_rows(segments: list[dna.Segment], *, swap: bool = False) -> list[dict]:
    """Segments as stored and answered, in time order: start/end in the query (in the other with `swap`)."""
    rows = []
    for segment in segments:
        here, there = (segment.start, segment.end), (segment.other_start, segment.other_end)
        if swap:
            here, there = there, here
        rows.append({"start": round(float(here[0]), 2), "end": round(float(here[1]), 2),
                     "other_start": round(float(there[0]), 2), "other_end": round(float(there[1]), 2),
                     "flipped": bool(segment.flipped)})
    return sorted(rows, key=lambda row: (row["start"], row["other_start"]))


def candidate_fingerprints(*, hashes: np.ndarray, exclude_asset_id: int | None = None,
                           neighbours: int = NEIGHBOURS, max_distance: int = dna.CANDIDATE_DISTANCE,
                           limit: int = MAX_CANDIDATES) -> list[tuple[int, int]]:
    """(fingerprint id, votes) of the assets whose frames are nearest to `hashes`, most voted first.

    `hashes` are (n, 32) packed rows, plain and mirrored together; a query frame and its mirror
    count as one vote each, which is fine: only the order matters.
    """
    if not len(hashes):
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, true), "
                       "set_config('hnsw.iterative_scan', 'relaxed_order', true)", [str(max(EF_SEARCH, neighbours))])
        cursor.execute(
            """
            SELECT near.fingerprint_id, count(DISTINCT query.i) AS votes
            FROM unnest(%s::bit(256)[]) WITH ORDINALITY AS query(h, i)
            CROSS JOIN LATERAL (
                SELECT fh.fingerprint_id, fh.hash <~> query.h AS distance
                FROM copies_framehash fh JOIN copies_fingerprint fp ON fp.id = fh.fingerprint_id
                WHERE fp.asset_id <> %s
                ORDER BY fh.hash <~> query.h
                LIMIT %s
            ) AS near
            WHERE near.distance <= %s
            GROUP BY near.fingerprint_id
            ORDER BY votes DESC, near.fingerprint_id
            LIMIT %s
            """,
            [hash_bits(hashes), exclude_asset_id or 0, neighbours, max_distance, limit])
        return [(int(fingerprint_id), int(votes)) for fingerprint_id, votes in cursor.fetchall()]


def clip_candidates(*, asset: Asset, limit: int = CLIP_CANDIDATES) -> list[int]:
    """Fingerprint ids of the assets whose seconds the active CLIP model puts nearest to this asset's
    (CLIP_SECONDS of them, evenly spread), most voted first; each must be near at least MIN_VOTES of
    them. Empty when the asset has no vectors of the active model."""
    model = embedding_model_get(spec=active_clip_spec())
    if model is None:
        return []
    dim, model_id = int(model.dim), int(model.pk)  # literals: the model's partial HNSW index must match
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, true), "
                       "set_config('hnsw.iterative_scan', 'relaxed_order', true)", [str(EF_SEARCH)])
        cursor.execute(
            f"""
            WITH mine AS (
                SELECT embedding, row_number() OVER (ORDER BY time) AS n, count(*) OVER () AS total
                FROM search_frameembedding WHERE model_id = {model_id} AND asset_id = %(asset)s
            )
            SELECT fp.id, count(DISTINCT mine.n) AS votes
            FROM mine CROSS JOIN LATERAL (
                SELECT fe.asset_id FROM search_frameembedding fe
                WHERE fe.model_id = {model_id} AND fe.asset_id <> %(asset)s
                ORDER BY fe.embedding::halfvec({dim}) <=> mine.embedding::halfvec({dim})
                LIMIT %(neighbours)s
            ) AS near
            JOIN copies_fingerprint fp ON fp.asset_id = near.asset_id
            WHERE mine.n %% greatest(1, mine.total / %(seconds)s) = 0
            GROUP BY fp.id HAVING count(DISTINCT mine.n) >= %(votes)s
            ORDER BY votes DESC, fp.id LIMIT %(limit)s
            """,
            {"asset": asset.pk, "neighbours": CLIP_NEIGHBOURS, "seconds": CLIP_SECONDS, "votes": dna.MIN_VOTES,
             "limit": limit})
        return [int(fingerprint_id) for fingerprint_id, _ in cursor.fetchall()]


def copies_find(*, query: dna.Fingerprint, exclude_asset_id: int | None = None,
                also: list[int] = ()) -> list[FoundCopy]:
    """The assets holding footage of `query`, best first, with segments aligned to `query`'s times.
    `also`: fingerprint ids to align besides the index's candidates (clip_candidates)."""
    sample = dna.query_sample(query)
    if not len(sample):
        return []
    candidates = candidate_fingerprints(hashes=np.concatenate([query.hashes[sample], query.mirrored[sample]]),
                                        exclude_asset_id=exclude_asset_id)
    min_votes = 1 if len(sample) == 1 else dna.MIN_VOTES
    wanted = {fingerprint_id for fingerprint_id, votes in candidates if votes >= min_votes} | set(also)
    rows = (Fingerprint.objects.filter(pk__in=wanted).select_related("asset")
            .only("id", "data", "asset__id", "asset__title", "asset__kind", "asset__created_at"))
    found = []
    for row in rows:
        segments = dna.find_copies(query, dna.Fingerprint.from_bytes(bytes(row.data)))
        if segments:
            found.append(FoundCopy(asset_id=row.asset.pk, fingerprint_id=row.pk, title=row.asset.title,
                                   created_at=row.asset.created_at, kind=row.asset.kind, score=dna.copy_score(segments),
                                   segments=segments))
    return sorted(found, key=lambda copy: (-copy.score, copy.asset_id))


def fingerprint_of(*, asset: Asset) -> Fingerprint | None:
    return Fingerprint.objects.filter(asset=asset).first()


def asset_copies(*, asset: Asset, user=None) -> QuerySet[Match]:
    """The other assets holding footage of this one that `user` may see, best first, with their titles."""
    return (_others_visible(Match.objects.filter(asset=asset), user=user).select_related("other")
            .only("asset_id", "score", "segments", "other__id", "other__title", "other__kind", "other__created_at")
            .order_by("-score", "other_id"))


def footage_sources(*, asset_ids: list[int], user=None) -> dict[int, list[tuple[int, str]]]:
    """For each asset, the OLDER assets it contains footage from that `user` may see ((id, title), oldest
    first): the "Contains footage from …" badges. One query for a page of the library."""
    sources: dict[int, list[tuple[int, str]]] = defaultdict(list)
    matches = _others_visible(Match.objects.filter(asset_id__in=asset_ids), user=user)
    rows = (matches.filter(other__created_at__lt=F("asset__created_at"))
            .order_by("asset_id", "other__created_at", "other_id").values_list("asset_id", "other_id", "other__title"))
    for asset_id, other_id, title in rows:
        sources[asset_id].append((other_id, title))
    return dict(sources)


def _others_visible(matches: QuerySet[Match], *, user) -> QuerySet[Match]:
    """Without the other assets the rights policy hides from `user` (a viewer)."""
    if user is not None and rights_policy_applies(user=user):
        matches = matches.filter(other__in=assets_visible(user=user))
    return matches


class CheckRefused(Exception):
    """The uploaded clip can't be checked; the message says why, for a person."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status


def copies_check(*, upload, user=None) -> list[FoundCopy]:
    """Where the library holds the footage of an uploaded clip (a Django UploadedFile), among the assets
    `user` may see (the rights policy hides some from viewers). Nothing is stored: the file is staged in
    a temporary file under the data directory and deleted."""
    if not upload.size:
        raise CheckRefused("The file is empty (0 bytes); choose a video or image to check.")
    if upload.size > settings.COPY_CHECK_MAX_BYTES:
        raise CheckRefused(f"The file is {upload.size / 1024**2:.0f} MB; a check takes at most "
                           f"{settings.COPY_CHECK_MAX_BYTES / 1024**2:.0f} MB. Cut the part you want to check.",
                           status=413)
    scratch = settings.DATA_DIR / "staging"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=scratch, prefix="check-", suffix=Path(upload.name or "").suffix[:10]) as staged:
        for chunk in upload.chunks():
            staged.write(chunk)
        staged.flush()
        try:
            info = probe(staged.name)
            if info.duration and info.duration > settings.COPY_CHECK_MAX_SECONDS:
                raise CheckRefused(f"The clip is {info.duration / 60:.1f} minutes long; a check takes at most "
                                   f"{settings.COPY_CHECK_MAX_SECONDS / 60:g} minutes. Cut the part you want to check.",
                                   status=413)
            fingerprint = dna.fingerprint_file(staged.name)
        except MediaError as exc:
            raise CheckRefused(f"{exc} Check a video or an image.") from exc
    found = copies_find(query=fingerprint)
    if user is None or not rights_policy_applies(user=user):
        return found
    visible = set(assets_visible(user=user).filter(pk__in=[copy.asset_id for copy in found]).values_list("pk", flat=True))
    return [copy for copy in found if copy.asset_id in visible]


def check_max_bytes() -> int:
    return settings.COPY_CHECK_MAX_BYTES
