"""Measure how a model's cosine similarities read, from an indexed library alone (unsupervised).

No labels are needed: the tag vocabulary's prompts are scored against the
library's frames, and a frame's best label in a group stands for "a text that
describes it" while the labels it scores lowest on stand for "texts that don't";
paraphrases are the prompts of one label, different queries are different
labels of a group; shots are told apart by colour-histogram changes of the
stored frame JPEGs (a two-cluster split, independent of the model).

- match_floor: midway between the 10th percentile of describing and the 90th
  percentile of non-describing similarities;
- spread: median describing minus median non-describing similarity;
- tag_floor: midway between the 5th and the 95th percentiles of the same two;
- feedback_radius: midway between the 5th percentile of paraphrase pairs and the
  95th percentile of different-label pairs;
- shot_continuity: midway between the 5th percentile of frame-to-frame similarity
  within shots and the 95th percentile across cuts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from workers.ml.clip import Calibration

HISTOGRAM_BINS = 4  # per RGB channel: 64 bins, enough to see a cut, blind to motion and noise
NOT_DESCRIBING = 0.75  # the lower three quarters of a frame's group stand for texts that don't describe it
MIN_CUTS = 3  # fewer cuts than this and shot_continuity keeps its default


@dataclass
class MeasuredCalibration:
    calibration: Calibration
    frames: int
    details: dict = field(default_factory=dict)  # the percentiles the figures came from


def colour_histogram(image) -> np.ndarray:
    """A normalised 64-bin RGB histogram of a PIL image (shrunk first: cuts are coarse)."""
    small = np.asarray(image.convert("RGB").resize((64, 48)), dtype=np.uint8) // (256 // HISTOGRAM_BINS)
    codes = (small[..., 0].astype(np.int32) * HISTOGRAM_BINS + small[..., 1]) * HISTOGRAM_BINS + small[..., 2]
    counts = np.bincount(codes.ravel(), minlength=HISTOGRAM_BINS ** 3).astype(np.float32)
    return counts / counts.sum()


def cut_flags(histogram_distances: np.ndarray) -> np.ndarray:
    """True where a distance belongs to the upper of two clusters (Otsu's split of the distances)."""
    if len(histogram_distances) < 2 or np.ptp(histogram_distances) < 1e-6:
        return np.zeros(len(histogram_distances), dtype=bool)
    ordered = np.sort(histogram_distances)
    best, threshold = -1.0, ordered[-1]
    for i in range(1, len(ordered)):
        low, high = ordered[:i], ordered[i:]
        between = len(low) * len(high) * (low.mean() - high.mean()) ** 2
        if between > best:
            best, threshold = between, (ordered[i - 1] + ordered[i]) / 2
    return histogram_distances > threshold


def calibrate(*, frame_vectors: np.ndarray, sequence_ids: Sequence[int], histograms: np.ndarray,
              label_vectors: np.ndarray, label_groups: Sequence[str], prompt_vectors: Sequence[np.ndarray],
              defaults: Calibration) -> MeasuredCalibration:
    """Figures for one model. Frames are in time order within each sequence (asset); `histograms`
    are their colour histograms; `prompt_vectors[i]` holds the prompt vectors of label i."""
    details: dict = {}
    describing, other = _describing_and_other(frame_vectors @ label_vectors.T, label_groups)
    details.update(_percentiles("describing", describing, (5, 10, 50)))
    details.update(_percentiles("not_describing", other, (50, 90, 95)))
    paraphrase, different = _text_pairs(label_vectors, label_groups, prompt_vectors)
    details.update(_percentiles("paraphrase", paraphrase, (5, 50)))
    details.update(_percentiles("different", different, (50, 95)))
    within, across = _continuity(frame_vectors, sequence_ids, histograms)
    details.update(cuts=int(len(across)), within_shot_pairs=int(len(within)))
    values = {
        "match_floor": (details["describing_p10"] + details["not_describing_p90"]) / 2,
        "spread": details["describing_p50"] - details["not_describing_p50"],
        "tag_floor": (details["describing_p5"] + details["not_describing_p95"]) / 2,
        "feedback_radius": (details["paraphrase_p5"] + details["different_p95"]) / 2,
    }
    if len(across) >= MIN_CUTS and len(within):
        details.update(_percentiles("within_shot", within, (5, 50)))
        details.update(_percentiles("across_cut", across, (50, 95)))
        values["shot_continuity"] = (details["within_shot_p5"] + details["across_cut_p95"]) / 2
    else:
        values["shot_continuity"] = defaults.shot_continuity
        details["shot_continuity"] = f"default: fewer than {MIN_CUTS} cuts seen"
    rounded = {name: round(float(value), 4) for name, value in values.items()}
    return MeasuredCalibration(calibration=Calibration(**rounded), frames=len(frame_vectors), details=details)


def _describing_and_other(similarities: np.ndarray, groups: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    describing, other = [], []
    group_array = np.asarray(groups)
    for group in dict.fromkeys(groups):
        columns = np.flatnonzero(group_array == group)
        if len(columns) < 2:
            continue
        ordered = np.sort(similarities[:, columns], axis=1)
        describing.append(ordered[:, -1])
        other.append(ordered[:, :max(1, int(len(columns) * NOT_DESCRIBING))].ravel())
    if not describing:
        raise ValueError("The vocabulary needs a group of at least two labels to calibrate against.")
    return np.concatenate(describing), np.concatenate(other)


def _text_pairs(label_vectors, groups, prompt_vectors) -> tuple[np.ndarray, np.ndarray]:
    paraphrase = []
    for vectors in prompt_vectors:
        if len(vectors) > 1:
            sims = vectors @ vectors.T
            paraphrase.extend(sims[np.triu_indices(len(vectors), k=1)])
    same_group = np.equal.outer(np.asarray(groups), np.asarray(groups))
    sims = label_vectors @ label_vectors.T
    upper = np.triu(np.ones_like(sims, dtype=bool), k=1)
    different = sims[same_group & upper]
    if not paraphrase or not len(different):
        raise ValueError("The vocabulary needs labels with several prompts and groups of several labels.")
    return np.asarray(paraphrase), different


def _continuity(vectors, sequence_ids, histograms) -> tuple[np.ndarray, np.ndarray]:
    sequence_ids = np.asarray(sequence_ids)
    consecutive = np.flatnonzero(sequence_ids[1:] == sequence_ids[:-1])
    if not len(consecutive):
        return np.zeros(0), np.zeros(0)
    similarity = np.sum(vectors[consecutive] * vectors[consecutive + 1], axis=1)
    distance = 0.5 * np.abs(histograms[consecutive] - histograms[consecutive + 1]).sum(axis=1)
    cuts = cut_flags(distance)
    return similarity[~cuts], similarity[cuts]


def _percentiles(name: str, values: np.ndarray, points: Sequence[int]) -> dict:
    return {f"{name}_p{p}": round(float(np.percentile(values, p)), 4) for p in points} | {f"{name}_n": int(len(values))}
