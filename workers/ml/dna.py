"""Video DNA: PDQ fingerprints of sampled frames, and alignment of two fingerprints into copied
segments (no Django). Groundwork for issue 8; not yet wired into the pipeline.

- **Hashes**: Meta's PDQ (PyPI `pdqhash`; 256 bits, ~0.1 ms on a 64 px picture, ~7 ms at 512 px)
  of each sampled frame after trimming black borders, skipping low-quality frames (PDQ quality
  below MIN_QUALITY: black, flat, bars) and frames nearly identical to the last one kept.
- **Borders** are estimated over many frames: a row or column is border only when it is dark in
  every frame, so a dark scene is not cropped and letterboxing is.
- **Alignment**: candidate pairs within MATCH_DISTANCE bits (Meta's starting point: 31); each pair
  votes for (speed, offset) with offset = other time − speed × query time, in OFFSET_BIN bins; the
  best-voted diagonals are walked in query-time order, split where matches stop for more than
  GAP_SECONDS, and a run is a copied segment when it is long enough, has enough matched frames and
  covers enough of its span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

HASH_BYTES = 32
MIN_QUALITY = 50
MATCH_DISTANCE = 31
NEAR_IDENTICAL = 8  # bits: a frame this close to the last kept one adds nothing
BORDER_LEVEL = 24  # 0..255: darker rows and columns may be bars
OFFSET_BIN = 0.25  # seconds
GAP_SECONDS = 3.0
MIN_SEGMENT_SECONDS = 2.0
MIN_MATCHED_FRAMES = 3
MIN_COVERAGE = 0.5
SPEEDS = (1.0, 25 / 24, 24 / 25, 30 / 25, 25 / 30)  # frame-rate conversions played back at the new rate
_POPCOUNT = np.array([bin(value).count("1") for value in range(256)], dtype=np.uint8)


@dataclass(frozen=True)
class Fingerprint:
    times: np.ndarray  # (n,) float32 seconds, increasing
    hashes: np.ndarray  # (n, 32) uint8, PDQ bits packed


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    other_start: float
    other_end: float
    matched: int  # frames of this side matched on the diagonal
    score: float  # mean similarity of the matches (1 = identical hashes)


def active_area(frames: Iterable[np.ndarray], *, level: int = BORDER_LEVEL) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the picture inside black bars, judged over all `frames` (RGB)."""
    rows = cols = None
    for frame in frames:
        luma = frame.max(axis=2)
        bright_rows, bright_cols = luma.max(axis=1) > level, luma.max(axis=0) > level
        rows = bright_rows if rows is None else rows | bright_rows
        cols = bright_cols if cols is None else cols | bright_cols
    if rows is None or not rows.any() or not cols.any():
        return (0, 0, 0 if cols is None else len(cols), 0 if rows is None else len(rows))
    top, bottom = int(np.argmax(rows)), len(rows) - int(np.argmax(rows[::-1]))
    left, right = int(np.argmax(cols)), len(cols) - int(np.argmax(cols[::-1]))
    return left, top, right, bottom


def pdq(frame: np.ndarray) -> tuple[np.ndarray, int]:
    """The packed 256-bit PDQ hash of an RGB frame and its quality (0..100)."""
    import pdqhash

    bits, quality = pdqhash.compute(np.ascontiguousarray(frame))
    return np.packbits(bits.astype(np.uint8)), int(quality)


def fingerprint(frames: Iterable[tuple[float, np.ndarray]], *, area: tuple[int, int, int, int] | None = None) -> Fingerprint:
    """Hashes of (time, RGB frame) pairs inside `area`, without poor or repeated frames."""
    times, hashes = [], []
    for time, frame in frames:
        if area is not None:
            left, top, right, bottom = area
            frame = frame[top:bottom, left:right]
        if frame.size == 0:
            continue
        packed, quality = pdq(frame)
        if quality < MIN_QUALITY:
            continue
        if hashes and int(_POPCOUNT[packed ^ hashes[-1]].sum()) <= NEAR_IDENTICAL:
            continue
        times.append(time)
        hashes.append(packed)
    return Fingerprint(np.asarray(times, np.float32),
                       np.asarray(hashes, np.uint8).reshape(-1, HASH_BYTES))


def mirrored(frames: Iterable[tuple[float, np.ndarray]]) -> list[tuple[float, np.ndarray]]:
    """The frames flipped left to right: the query side of a check for flipped copies (PDQ is not
    flip-invariant; hashing the mirrored query costs one more fingerprint, the library stays as is)."""
    return [(time, np.ascontiguousarray(frame[:, ::-1])) for time, frame in frames]


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) bit distances between packed hashes."""
    return _POPCOUNT[a[:, None, :] ^ b[None, :, :]].sum(axis=2, dtype=np.int32)


def align(query: Fingerprint, other: Fingerprint, *, max_distance: int = MATCH_DISTANCE) -> list[Segment]:
    """The segments of `query` that are copies of segments of `other`, best first, not overlapping in query time."""
    if not len(query.times) or not len(other.times):
        return []
    distances = hamming(query.hashes, other.hashes)
    qi, oi = np.nonzero(distances <= max_distance)
    if not len(qi):
        return []
    similarity = 1.0 - distances[qi, oi] / 256.0
    segments: list[Segment] = []
    for speed in SPEEDS:
        offsets = other.times[oi] - speed * query.times[qi]
        bins = np.round(offsets / OFFSET_BIN).astype(np.int64)
        for peak in _peaks(bins, similarity):
            on = np.abs(bins - peak) <= 1
            segments += _runs(query, other, qi[on], oi[on], similarity[on])
    return _non_overlapping(sorted(segments, key=lambda s: (-s.matched * s.score, s.start)))


def _peaks(bins: np.ndarray, weights: np.ndarray, limit: int = 8) -> list[int]:
    values, inverse = np.unique(bins, return_inverse=True)
    votes = np.bincount(inverse, weights=weights)
    order = np.argsort(-votes, kind="stable")
    return [int(values[i]) for i in order[:limit] if votes[i] >= MIN_MATCHED_FRAMES * 0.8]


def _runs(query: Fingerprint, other: Fingerprint, qi, oi, similarity) -> list[Segment]:
    """Matches along one diagonal, split at gaps, kept when long, dense and covered enough."""
    best: dict[int, tuple[float, int]] = {}
    for q, o, s in zip(qi.tolist(), oi.tolist(), similarity.tolist()):
        if q not in best or s > best[q][0]:
            best[q] = (s, o)
    ordered = sorted(best)
    runs, current = [], [ordered[0]]
    for q in ordered[1:]:
        if query.times[q] - query.times[current[-1]] > GAP_SECONDS:
            runs.append(current)
            current = []
        current.append(q)
    runs.append(current)
    segments = []
    for run in runs:
        start, end = float(query.times[run[0]]), float(query.times[run[-1]])
        in_span = int(((query.times >= start) & (query.times <= end)).sum())
        if end - start < MIN_SEGMENT_SECONDS or len(run) < MIN_MATCHED_FRAMES or len(run) < MIN_COVERAGE * in_span:
            continue
        others = [float(other.times[best[q][1]]) for q in run]
        segments.append(Segment(start=start, end=end, other_start=min(others), other_end=max(others),
                                matched=len(run), score=float(np.mean([best[q][0] for q in run]))))
    return segments


def _non_overlapping(segments: list[Segment]) -> list[Segment]:
    kept: list[Segment] = []
    for segment in segments:
        if all(segment.end < k.start or segment.start > k.end for k in kept):
            kept.append(segment)
    return kept
