"""Cutting a video into shots, on small pictures taken from the decode the frames step already does
(no Django, no second decode).

`ShotSampler` is handed to `workers.media.frames.sample_video(shots=...)`: it gets the first frame
shown in each tenth of a second as a tiny RGB picture and keeps only its colour histogram
(4×4×4 bins). A boundary is where the histograms a little before and a little after a moment
differ (`WINDOW` on each side): a hard cut, a fade through black and a dissolve all change the
colour make-up between the two sides, while movement inside a shot (a drifting shape, a pan over
the same scene) mostly moves colours around the picture without changing how much of each there is.
Each stretch where that difference stays above `THRESHOLD` is one transition; its boundary is
placed where half of the frame-to-frame change inside the stretch has happened (the cut itself
for a hard cut, the middle of a dissolve or of the black of a fade).
"""

from __future__ import annotations

import numpy as np

SAMPLE_INTERVAL = 0.1  # seconds between the pictures looked at: boundaries land within ±0.05 s
PICTURE_SIDE = 32  # px: the sampler's picture (swscale makes it from the decoded frame)
BINS = 4  # per channel
WINDOW = 0.5  # seconds compared on each side of a moment
THRESHOLD = 0.35  # histogram distance (half the L1 distance, 0..1) that makes a transition
LAYOUT_SIDE = 8  # cells a side of the layout picture
JUMP_RATIO = 5.0  # a cut between pictures of alike colours: a layout jump this many times the usual step around it...
JUMP_MIN = 0.025  # ...and at least this big (colour change of the quarter of cells that changed most, 0..1), the pictures either side of it apart
JUMP_OVER_NEIGHBOURS = 2.0  # ...and this many times both steps beside it: a cut happens between two pictures
MIN_SHOT = 0.5  # seconds: no shot shorter than this (flashes, a glitch between two samples)


class ShotSampler:
    """Collects the colour histogram of a tiny picture every SAMPLE_INTERVAL during a decode."""

    interval = SAMPLE_INTERVAL
    side = PICTURE_SIDE
    # swscale's cheapest downscale: a third of the default's cost per picture; the cuts found in
    # bench/shots.py (generated and real clips) were the same with the default and with AREA.
    interpolation = "FAST_BILINEAR"

    def __init__(self):
        self.times: list[float] = []
        self.histograms: list[np.ndarray] = []
        self.layouts: list[np.ndarray] = []

    def add(self, time: float, rgb: np.ndarray) -> None:
        """A decoded picture (H×W×3 uint8, any size, orientation irrelevant)."""
        self.times.append(float(time))
        self.histograms.append(colour_histogram(rgb))
        self.layouts.append(layout(rgb))

    def cuts(self) -> list[float]:
        count = len(self.times)
        if count < 2:  # an image, or a video of one frame: nothing to cut
            return []
        return find_cuts(np.asarray(self.times, dtype=np.float64),
                         np.asarray(self.histograms, dtype=np.float32).reshape(count, -1),
                         np.asarray(self.layouts, dtype=np.float32).reshape(count, -1))


def colour_histogram(rgb: np.ndarray) -> np.ndarray:
    """The share of the picture's pixels in each of BINS³ colour cells."""
    cells = (rgb.reshape(-1, 3) // (256 // BINS)).astype(np.int32)
    index = (cells[:, 0] * BINS + cells[:, 1]) * BINS + cells[:, 2]
    counts = np.bincount(index, minlength=BINS ** 3).astype(np.float32)
    return counts / max(counts.sum(), 1.0)


def layout(rgb: np.ndarray) -> np.ndarray:
    """The picture as LAYOUT_SIDE² mean colours in 0..1: where things are, not only which colours."""
    height, width = rgb.shape[:2]
    cells = rgb[:height - height % LAYOUT_SIDE, :width - width % LAYOUT_SIDE].astype(np.float32)
    cells = cells.reshape(LAYOUT_SIDE, height // LAYOUT_SIDE, LAYOUT_SIDE, width // LAYOUT_SIDE, 3)
    return cells.mean(axis=(1, 3)).ravel() / 255.0


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 0.5 * np.abs(a - b).sum(axis=-1)


def find_cuts(times: np.ndarray, histograms: np.ndarray, layouts: np.ndarray | None = None, *,
              window: float = WINDOW, threshold: float = THRESHOLD, min_shot: float = MIN_SHOT) -> list[float]:
    """Boundary times (seconds, ascending) from pictures' times, colour histograms and layouts (a row each)."""
    count = len(times)
    if count < 3:
        return []
    step = float(np.median(np.diff(times))) or SAMPLE_INTERVAL
    found, stretches = _colour_transitions(times, histograms, reach=max(1, int(round(window / step))),
                                           threshold=threshold)
    if layouts is not None:  # inside a fade or dissolve the layout steps unevenly: that stretch has its boundary
        found += [time for time in _layout_jumps(times, layouts, reach=max(2, int(round(2 * window / step))))
                  if not any(start <= time <= end for start, end in stretches)]
    cuts: list[float] = []
    for time in sorted(found):  # a colour transition and a layout jump at one cut are one cut
        if min_shot <= time <= times[-1] - min_shot + step and (not cuts or time - cuts[-1] >= min_shot):
            cuts.append(round(time, 3))
    return cuts


def _between(times: np.ndarray, index: int) -> float:
    """The boundary before picture `index`: that picture's time, the first seen of the new shot, so a
    player seeking to a shot's start shows the shot and not the last frame of the one before."""
    return float(times[index])


def _colour_transitions(times, histograms, *, reach: int, threshold: float) -> tuple[list[float], list[tuple]]:
    """Cuts, fades and dissolves: stretches where the colour make-up `reach` pictures before and
    after differs by more than `threshold`, each placed where half its step-by-step change is done."""
    count = len(times)
    ends = np.arange(count)
    before, after = np.clip(ends - reach, 0, count - 1), np.clip(ends + reach, 0, count - 1)
    across = _distance(histograms[before], histograms[after])
    steps = np.concatenate([[0.0], _distance(histograms[1:], histograms[:-1])])
    found, stretches = [], []
    above = np.flatnonzero(across > threshold)
    for run in np.split(above, np.flatnonzero(np.diff(above) > 1) + 1) if len(above) else []:
        first, last = run[0], min(run[-1] + 1, count - 1)
        change = np.cumsum(steps[first:last + 1])
        found.append(_between(times, first + int(np.searchsorted(change, change[-1] / 2))))
        stretches.append((float(times[max(first - reach, 0)]), float(times[min(last + reach, count - 1)])))
    return found, stretches


def _layout_jumps(times, layouts, *, reach: int) -> list[float]:
    """Hard cuts between pictures of alike colours: one step where the layout jumps far more than
    the steps around it (a pan moves every step alike) and the picture doesn't come back (a flash does)."""
    count = len(times)
    steps = np.concatenate([[0.0], _layout_change(layouts[1:], layouts[:-1])])
    found = []
    for i in np.flatnonzero(steps > JUMP_MIN):
        if i < 2 or i > count - 2:
            continue
        around = np.concatenate([steps[max(1, i - reach):i - 1], steps[i + 2:i + reach + 1]])
        if len(around) == 0 or steps[i] < JUMP_RATIO * float(np.median(around)):
            continue
        if steps[i] < JUMP_OVER_NEIGHBOURS * max(steps[i - 1], steps[i + 1]):  # a burst of motion, not one jump
            continue
        if _layout_change(layouts[i + 1], layouts[i - 2]) < JUMP_MIN:
            continue
        found.append(_between(times, int(i)))
    return found


def _layout_change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How much the layout changed: the mean of the largest quarter of its cells' colour changes, so a
    cut that changes only part of the picture (the same background, the subject another colour)
    counts as much as one that changes it all; noise and slow motion stay small."""
    changes = np.sort(np.abs(np.asarray(a) - np.asarray(b)), axis=-1)
    return changes[..., -max(1, changes.shape[-1] // 4):].mean(axis=-1)


def shot_spans(cuts: list[float], duration: float) -> list[tuple[float, float]]:
    """The shots between the cuts, covering 0..duration with no gaps or overlaps."""
    edges = [0.0] + [c for c in cuts if 0.0 < c < duration] + [max(duration, 0.0)]
    return [(round(start, 3), round(end, 3)) for start, end in zip(edges, edges[1:])]


def frames_in_shots(times: list[float], spans: list[tuple[float, float]]) -> list[list[int]]:
    """For each shot, the positions in `times` (sorted sample times) of the frames sampled inside it;
    a shot shorter than the sampling interval, with none inside, gets the frame nearest its middle."""
    if not times:
        return [[] for _ in spans]
    edges = np.asarray(times, dtype=np.float64)
    groups = []
    for start, end in spans:
        inside = np.flatnonzero((edges >= start - 1e-6) & (edges < end - 1e-6)).tolist()
        groups.append(inside or [int(np.argmin(np.abs(edges - (start + end) / 2)))])
    return groups
