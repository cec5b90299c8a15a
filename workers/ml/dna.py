"""Video DNA: PDQ fingerprints of sampled frames, and alignment of two fingerprints into copied
segments (no Django).

- **Sampling** (`DnaSampler`): during the one decode the frames step already does, each sample
  keeps only a THUMB×THUMB luma thumbnail (a fixed square grid: PDQ squashes every picture to
  64×64 anyway), so a 2-hour video holds ~50 MB, not GBs. Black borders are estimated over ALL
  samples at the end: a row or column is a bar only when it is dark in every sample, so a dark
  scene is not cropped and letterboxing is. The corners, where logos sit, are left out of every hash.
- **Hashes**: Meta's PDQ (PyPI `pdqhash`) of each cropped thumbnail, with its dihedral variant
  for the left-right flip from the same DCT (`compute_dihedral`), and of three VIEWS of it: the
  centre 95 % and 90 % (a copy cropped by 5-10 % and scaled back up matches one of them) and the
  top 75 % (a copy with a lower third or ticker over the bottom matches there). Frames below MIN_QUALITY (black,
  flat, shapes nearly as bright as their background: their bits are noise, see README) are left
  out: they are no evidence either way. Frames nearly identical to the last one kept are skipped,
  except that a still shot keeps one frame every HOLD_SECONDS (its length is evidence).
- **Alignment**: candidate pairs within MATCH_DISTANCE bits; each pair votes for (speed, offset)
  with offset = other time − speed × query time, in OFFSET_BIN bins; along the best-voted diagonals
  matches form runs, ended by more than MAX_MISSES unmatched kept frames over GAP_SECONDS; a run is
  a copied segment when it is long enough, has enough matched frames with distinct hashes and
  matches enough of the kept frames it spans. The plain query and its mirrored hashes are both
  tried (`Segment.flipped`), and so is each pair of VIEW_PAIRS (`Segment.view`). Alignment always runs in one canonical direction, so
  find_copies(a, b) and find_copies(b, a) give the same segments with the sides swapped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

HASH_BYTES = 32
THUMB = 48  # px, the stored luma thumbnail (square grid; README: 32 loses letterboxed copies)
BORDER_GRID = 128  # px, the grid on which dark rows and columns are judged
BORDER_LEVEL = 16  # luma 0..255: rows/columns darker than this in every sample are bars
BAR_EDGE_CELLS = 2  # grid cells trimmed past a bar: the thumbnail and its resampling blur the bar into them
PDQ_SIDE = 64
LOGO_CORNER = 8  # px of PDQ_SIDE: the corners (12.5 % a side) left out of every hash
INTERVAL = 1 / 3  # seconds between samples: 3 a second (README "Video DNA": 2, 3 and 4 a second measured)
MIN_QUALITY = 8  # PDQ quality of the 64 px picture: below it the bits are noise (README)
MATCH_DISTANCE = 31
CANDIDATE_DISTANCE = 45  # bits: a library frame this close to a query frame makes its asset a candidate
QUERY_SPACING = 0.5  # seconds: candidates are asked for with at most two query frames a second
MIN_VOTES = 2  # query frames that must find an asset before it is aligned (1 for a one-frame query)
NEAR_IDENTICAL = 8  # bits: a frame this close to the last kept one adds nothing...
HOLD_SECONDS = 1.0  # ...unless the last kept one is this old (a still shot keeps its length)
OFFSET_BIN = 0.25  # seconds
GAP_SECONDS = 3.0  # misses shorter than this don't end a run; image vs video: further apart, separate ranges
MAX_MISSES = 4  # kept frames in a row that don't match (over GAP_SECONDS) end a copied run
MAX_EXTEND = 5.0  # seconds a range grows over left-out frames on both sides up to the nearest kept frame
MIN_SEGMENT_SECONDS = 2.0
MIN_MATCHED_FRAMES = 3
MIN_DISTINCT_HASHES = 2  # matched frames of one segment at least NEAR_IDENTICAL apart from each other
MIN_COVERAGE = 0.5
SPEEDS = (1.0, 25 / 24, 24 / 25, 30 / 25, 25 / 30)  # frame-rate conversions played back at the new rate
FLIP_LEFT_RIGHT = 5  # index of the left-right mirror in pdqhash.compute_dihedral's eight hashes
# (left, top, right, bottom) of the border-trimmed picture, hashed besides the whole of it
VIEWS = {"centre95": (0.025, 0.025, 0.975, 0.975), "centre90": (0.05, 0.05, 0.95, 0.95), "top75": (0.0, 0.0, 1.0, 0.75)}
# (query view, other view) aligned besides plain/plain: each with its mirror image, so both ways round
VIEW_PAIRS = (("plain", "centre95"), ("centre95", "plain"), ("plain", "centre90"), ("centre90", "plain"),
              ("top75", "top75"))
_MAGIC_PLAIN = b"PDQ1"  # fingerprints stored before views (read as having none)
_MAGIC = b"PDQ2"
_HEADER = struct.Struct("<4sId")  # magic, frame count, duration
PAIR_BLOCK = 1_000_000  # frame pairs compared at once (~32 MB of XORs)


@dataclass(frozen=True)
class Fingerprint:
    times: np.ndarray  # (n,) float32 seconds, increasing (one entry at 0 for an image)
    hashes: np.ndarray  # (n, 32) uint8, PDQ bits packed, borders trimmed
    mirrored: np.ndarray  # (n, 32) uint8, PDQ of the same frames flipped left to right
    duration: float  # seconds; 0.0 for an image
    views: dict[str, np.ndarray] = field(default_factory=dict)  # VIEWS name -> (n, 32) uint8; empty: none

    @property
    def is_image(self) -> bool:
        return self.duration == 0.0

    def view(self, name: str) -> np.ndarray | None:
        return self.hashes if name == "plain" else self.views.get(name)

    def to_bytes(self) -> bytes:
        """Header + raw arrays: 164 bytes a kept frame (68 without views)."""
        magic = _MAGIC if self.views else _MAGIC_PLAIN
        arrays = [self.hashes, self.mirrored] + ([self.views[name] for name in VIEWS] if self.views else [])
        return b"".join([_HEADER.pack(magic, len(self.times), float(self.duration)), self.times.astype("<f4").tobytes(),
                         *(np.asarray(array, np.uint8).tobytes() for array in arrays)])

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        magic, count, duration = _HEADER.unpack_from(data)
        arrays = 2 + (len(VIEWS) if magic == _MAGIC else 0)
        if magic not in (_MAGIC, _MAGIC_PLAIN) or len(data) != _HEADER.size + count * (4 + arrays * HASH_BYTES):
            raise ValueError("These bytes are not a stored fingerprint (wrong header or length).")
        times = np.frombuffer(data, "<f4", count, _HEADER.size).astype(np.float32)
        offset = _HEADER.size + 4 * count
        hashes = []
        for _ in range(arrays):
            hashes.append(np.frombuffer(data, np.uint8, count * HASH_BYTES, offset).reshape(count, HASH_BYTES).copy())
            offset += count * HASH_BYTES
        return cls(times=times, hashes=hashes[0], mirrored=hashes[1], duration=duration,
                   views=dict(zip(VIEWS, hashes[2:])))


@dataclass(frozen=True)
class Segment:
    start: float  # seconds in the query
    end: float
    other_start: float  # seconds in the other
    other_end: float
    matched: int  # frames matched on the diagonal
    score: float  # 1 = identical hashes, 0 = at MATCH_DISTANCE on average
    flipped: bool  # the query's mirror image matched
    view: str = "plain"  # "plain", or "query view/other view" of VIEW_PAIRS that matched (a crop, an overlay)

    def swapped(self) -> Segment:
        return replace(self, start=self.other_start, end=self.other_end, other_start=self.start,
                       other_end=self.end, view="/".join(reversed(self.view.split("/"))))


class DnaSampler:
    """Collects small pictures during the one decode the frames step already does; fingerprint() at the end."""

    def __init__(self, *, interval: float | None = None):
        self.interval = interval or INTERVAL
        self.times: list[float] = []
        self.thumbs: list[np.ndarray] = []  # THUMB×THUMB uint8 luma
        self.bright_rows = np.zeros(BORDER_GRID, bool)
        self.bright_cols = np.zeros(BORDER_GRID, bool)

    def add(self, time: float, rgb: np.ndarray) -> None:
        """A decoded picture (H×W×3 uint8, display orientation, any size); only a small copy is kept."""
        luma = Image.fromarray(np.ascontiguousarray(rgb)).convert("L")
        if luma.size != (BORDER_GRID, BORDER_GRID):
            luma = luma.resize((BORDER_GRID, BORDER_GRID), Image.Resampling.BOX)
        grid = np.asarray(luma)
        self.bright_rows |= grid.max(axis=1) > BORDER_LEVEL
        self.bright_cols |= grid.max(axis=0) > BORDER_LEVEL
        self.times.append(float(time))
        self.thumbs.append(np.asarray(luma.resize((THUMB, THUMB), Image.Resampling.BOX)))

    def active_area(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the picture inside black bars, as fractions of the frame."""
        if not self.bright_rows.any() or not self.bright_cols.any():
            return 0.0, 0.0, 1.0, 1.0
        top, bottom = _span(self.bright_rows)
        left, right = _span(self.bright_cols)
        return left / BORDER_GRID, top / BORDER_GRID, right / BORDER_GRID, bottom / BORDER_GRID

    def trimmed_area(self) -> tuple[float, float, float, float]:
        """active_area() BAR_EDGE_CELLS further in on each side that has bars: the cells on the edge
        mix bar and picture, and a thin dark line changes a PDQ hash more than a lost sliver."""
        left, top, right, bottom = self.active_area()
        cell = BAR_EDGE_CELLS / BORDER_GRID
        return (left + cell if left > 0 else 0.0, top + cell if top > 0 else 0.0,
                right - cell if right < 1 else 1.0, bottom - cell if bottom < 1 else 1.0)

    def fingerprint(self, *, duration: float) -> Fingerprint:
        area = self.trimmed_area()
        times, hashes, mirrored, views = [], [], [], {name: [] for name in VIEWS}
        for time, thumb in zip(self.times, self.thumbs):
            picture = Image.fromarray(thumb)
            plain, flipped, quality = pdq_pair(_pdq_picture(picture, _box(area)))
            if quality < MIN_QUALITY:
                continue
            if hashes and (int(hamming(plain, hashes[-1])[0, 0]) <= NEAR_IDENTICAL
                           and time - times[-1] < HOLD_SECONDS):
                continue
            times.append(time)
            hashes.append(plain)
            mirrored.append(flipped)
            for name, view in VIEWS.items():
                views[name].append(pdq(_pdq_picture(picture, _box(area, view))))
        return Fingerprint(times=np.asarray(times, np.float32), hashes=_packed(hashes), mirrored=_packed(mirrored),
                           duration=float(duration), views={name: _packed(rows) for name, rows in views.items()})


def _box(area: tuple[float, float, float, float], view=(0.0, 0.0, 1.0, 1.0)) -> tuple[float, float, float, float]:
    """The thumbnail pixels of `view` (fractions of `area`, itself fractions of the frame)."""
    left, top, right, bottom = area
    width, height = right - left, bottom - top
    return ((left + view[0] * width) * THUMB, (top + view[1] * height) * THUMB,
            (left + view[2] * width) * THUMB, (top + view[3] * height) * THUMB)


def _pdq_picture(thumb: Image.Image, box) -> np.ndarray:
    picture = thumb.resize((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BILINEAR, box=box)
    return _without_corners(np.asarray(picture))


def _without_corners(picture: np.ndarray) -> np.ndarray:
    """The picture with its four corners (where broadcasters put their logos) filled with its median
    grey, on both sides of every comparison, so a burned-in bug does not change the hash."""
    filled, side = picture.copy(), LOGO_CORNER
    value = np.median(picture)
    filled[:side, :side] = filled[:side, -side:] = filled[-side:, :side] = filled[-side:, -side:] = value
    return filled


def _span(bright: np.ndarray) -> tuple[int, int]:
    return int(np.argmax(bright)), len(bright) - int(np.argmax(bright[::-1]))


def _packed(hashes: list[np.ndarray]) -> np.ndarray:
    return np.asarray(hashes, np.uint8).reshape(-1, HASH_BYTES)


def pdq_pair(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Packed PDQ of a luma picture and of its left-right mirror (one DCT), and the quality (0..100)."""
    import pdqhash

    grey = np.asarray(luma)
    variants, quality = pdqhash.compute_dihedral(np.ascontiguousarray(np.stack([grey] * 3, axis=-1)))
    return (np.packbits(variants[0].astype(np.uint8)), np.packbits(variants[FLIP_LEFT_RIGHT].astype(np.uint8)),
            int(quality))


def pdq(luma: np.ndarray) -> np.ndarray:
    """Packed PDQ of a luma picture."""
    import pdqhash

    bits, _ = pdqhash.compute(np.ascontiguousarray(np.stack([np.asarray(luma)] * 3, axis=-1)))
    return np.packbits(bits.astype(np.uint8))


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) bit distances between packed hashes (numpy's bitwise_count on 64-bit words)."""
    a, b = _words(a), _words(b)
    distances = np.zeros((len(a), len(b)), np.int32)
    for word in range(a.shape[1]):  # four 2-D passes: faster than a 3-D array and a reduction
        distances += np.bitwise_count(a[:, word, None] ^ b[None, :, word])
    return distances


def _words(hashes: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(hashes, np.uint8).reshape(-1, HASH_BYTES)).view(np.uint64)


def _close_pairs(a: np.ndarray, b: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows of a, rows of b, distances) of the pairs within max_distance, a block of `a` at a time,
    so two hour-long fingerprints never need their full distance matrix in memory."""
    block = max(1, PAIR_BLOCK // max(1, len(b)))
    rows, cols, distances = [], [], []
    for start in range(0, len(a), block):
        part = hamming(a[start:start + block], b)
        r, c = np.nonzero(part <= max_distance)
        rows.append(r + start)
        cols.append(c)
        distances.append(part[r, c])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(distances)


def find_copies(query: Fingerprint, other: Fingerprint) -> list[Segment]:
    """Where `query` and `other` show the same footage, plain or flipped, best first, not overlapping."""
    if not len(query.times) or not len(other.times):
        return []
    if _direction_key(query) > _direction_key(other):
        return [segment.swapped() for segment in find_copies(other, query)]
    if query.is_image or other.is_image:
        return _image_matches(query, other)
    segments = (_align(query, query.hashes, other, other.hashes, flipped=False)
                + _align(query, query.mirrored, other, other.hashes, flipped=True))
    for query_view, other_view in VIEW_PAIRS:
        mine, theirs = query.view(query_view), other.view(other_view)
        if mine is not None and theirs is not None:
            segments += _align(query, mine, other, theirs, flipped=False, view=f"{query_view}/{other_view}")
    # the most matched frames first, then the longest span; whole frames before a view on a tie
    return _non_overlapping(sorted(segments, key=lambda s: (-s.matched, s.start - s.end, s.view != "plain",
                                                            -s.score, s.start)))


def query_sample(fingerprint: Fingerprint, *, spacing: float = QUERY_SPACING) -> np.ndarray:
    """Indices of the query frames that ask the index for candidates: at least `spacing` seconds apart."""
    chosen, last = [], -np.inf
    for index, time in enumerate(fingerprint.times.tolist()):
        if time - last >= spacing:
            chosen.append(index)
            last = time
    return np.asarray(chosen, dtype=np.int64)


def candidate_votes(query: Fingerprint, other: Fingerprint) -> int:
    """The votes `other` gets as a candidate for `query` (exactly: the index approximates this)."""
    sample = query_sample(query)
    if not len(sample) or not len(other.times):
        return 0
    hashes = np.concatenate([query.hashes[sample], query.mirrored[sample]])
    near = hamming(hashes, other.hashes).min(axis=1) <= CANDIDATE_DISTANCE
    return int(np.count_nonzero(near[:len(sample)] | near[len(sample):]))


def copy_score(segments: list[Segment]) -> float:
    """0..1 for the API: how alike the best-matched footage is (0 when nothing matched)."""
    return round(max((segment.score for segment in segments), default=0.0), 3)


def _direction_key(fingerprint: Fingerprint) -> tuple:
    """Images first, then a fixed order of videos, so alignment runs the same way both ways round."""
    return (not fingerprint.is_image, len(fingerprint.times), fingerprint.duration, fingerprint.hashes.tobytes())


def _similarity(distances: np.ndarray) -> np.ndarray:
    return 1.0 - distances / (2.0 * MATCH_DISTANCE)


def _image_matches(image: Fingerprint, other: Fingerprint) -> list[Segment]:
    """An image against an image (one segment 0–0) or a video (the ranges of its matching frames)."""
    segments = []
    for hashes, flipped in ((image.hashes, False), (image.mirrored, True)):
        distances = hamming(hashes[:1], other.hashes)[0]
        hits = np.nonzero(distances <= MATCH_DISTANCE)[0]
        for run in _split_at_gaps(hits.tolist(), other.times):
            segments.append(Segment(start=0.0, end=0.0, other_start=float(other.times[run[0]]),
                                    other_end=float(other.times[run[-1]]), matched=len(run),
                                    score=float(_similarity(distances[run]).mean()), flipped=flipped))
    return _non_overlapping(sorted(segments, key=lambda s: (-s.matched * s.score, s.other_start)), side="other")


def _split_at_gaps(indices: list[int], times: np.ndarray) -> list[list[int]]:
    runs: list[list[int]] = []
    for index in indices:
        if runs and times[index] - times[runs[-1][-1]] <= GAP_SECONDS:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _align(query: Fingerprint, hashes: np.ndarray, other: Fingerprint, other_hashes: np.ndarray, *, flipped: bool,
           view: str = "plain") -> list[Segment]:
    times = query.times
    qi, oi, distances = _close_pairs(hashes, other_hashes, MATCH_DISTANCE)
    if not len(qi):
        return []
    similarity = _similarity(distances)
    segments: list[Segment] = []
    for speed in SPEEDS:
        offsets = other.times[oi] - speed * times[qi]
        bins = np.round(offsets / OFFSET_BIN).astype(np.int64)
        for peak in _peaks(bins, similarity):
            on = np.abs(bins - peak) <= 1
            segments += _runs(query, hashes, other, qi[on], oi[on], similarity[on], flipped=flipped, view=view)
    return segments


def _peaks(bins: np.ndarray, weights: np.ndarray, limit: int = 8) -> list[int]:
    values, inverse = np.unique(bins, return_inverse=True)
    votes = np.bincount(inverse, weights=weights)
    order = np.argsort(-votes, kind="stable")
    return [int(values[i]) for i in order[:limit] if votes[i] >= MIN_MATCHED_FRAMES * 0.5]


def _runs(query: Fingerprint, hashes, other: Fingerprint, qi, oi, similarity, *, flipped: bool,
          view: str) -> list[Segment]:
    """Matches along one diagonal, split at gaps, kept when long, dense, varied and covered enough.
    A sample stands for the INTERVAL after it, so a range ends one interval after its last match."""
    times = query.times
    best: dict[int, tuple[float, int]] = {}
    for q, o, s in zip(qi.tolist(), oi.tolist(), similarity.tolist()):
        if q not in best or s > best[q][0]:
            best[q] = (s, o)
    segments = []
    for run in _split_at_misses(sorted(best), times):
        start, end = float(times[run[0]]), float(times[run[-1]])
        in_span = run[-1] - run[0] + 1
        if (end - start < MIN_SEGMENT_SECONDS or len(run) < MIN_MATCHED_FRAMES or len(run) < MIN_COVERAGE * in_span
                or _distinct(hashes[run]) < MIN_DISTINCT_HASHES):
            continue
        others = [best[q][1] for q in run]
        first, last = min(others), max(others)
        before = min(_room_before(times, run[0]), _room_before(other.times, first))
        after = min(_room_after(query, run[-1]), _room_after(other, last))
        segments.append(Segment(start=round(start - before, 3), end=round(end + after, 3),
                                other_start=round(float(other.times[first]) - before, 3),
                                other_end=round(float(other.times[last]) + after, 3),
                                matched=len(run), score=float(np.mean([best[q][0] for q in run])), flipped=flipped,
                                view=view))
    return segments


def _split_at_misses(indices: list[int], times: np.ndarray) -> list[list[int]]:
    """Runs of matched kept frames; a run ends at more than MAX_MISSES unmatched kept frames that
    also last more than GAP_SECONDS (left-out frames are no evidence either way)."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and (index - runs[-1][-1] - 1 <= MAX_MISSES or times[index] - times[runs[-1][-1]] <= GAP_SECONDS):
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _room_before(times: np.ndarray, index: int) -> float:
    """Seconds before kept frame `index` with no kept frame in them (left out: black, flat, poor)."""
    previous = float(times[index - 1]) + INTERVAL if index > 0 else 0.0
    return min(MAX_EXTEND, max(0.0, float(times[index]) - previous))


def _room_after(fingerprint: Fingerprint, index: int) -> float:
    """Seconds after kept frame `index` up to the next kept one (a sample stands for INTERVAL after it)."""
    times = fingerprint.times
    following = float(times[index + 1]) if index + 1 < len(times) else max(fingerprint.duration, float(times[index]) + INTERVAL)
    return min(MAX_EXTEND, max(INTERVAL, following - float(times[index])))


def _distinct(hashes: np.ndarray, *, enough: int = MIN_DISTINCT_HASHES) -> int:
    """How many of `hashes` differ from all the ones before them by more than NEAR_IDENTICAL bits
    (counting stops at `enough`)."""
    kept: list[np.ndarray] = []
    for value in hashes:
        if not kept or hamming(value, np.asarray(kept)).min() > NEAR_IDENTICAL:
            kept.append(value)
            if len(kept) >= enough:
                break
    return len(kept)


def _non_overlapping(segments: list[Segment], *, side: str = "query") -> list[Segment]:
    def span(segment: Segment) -> tuple[float, float]:
        return (segment.start, segment.end) if side == "query" else (segment.other_start, segment.other_end)

    kept: list[Segment] = []
    for segment in segments:
        start, end = span(segment)
        if all(end < span(k)[0] or start > span(k)[1] for k in kept):
            kept.append(segment)
    return kept


def fingerprint_file(path: Path | str) -> Fingerprint:
    """The fingerprint of a video or an image file, in one decode. Raises MediaError for a file
    that is neither (the message is for a person)."""
    from workers.media.frames import sample_image, sample_video
    from workers.media.probe import probe

    info = probe(path)
    sampler = DnaSampler()
    if info.kind == "image":
        sample_image(path, dna=sampler)
        return sampler.fingerprint(duration=0.0)
    for _ in sample_video(path, interval=60.0, dna=sampler):
        pass
    last = sampler.times[-1] + sampler.interval if sampler.times else 0.0
    return sampler.fingerprint(duration=float(info.duration or last))
