"""Zero-shot tags: which vocabulary labels each sampled frame shows, merged into time ranges.

Labels of one group are alternatives (a shape is a circle *or* a square), so a
label's probability is a softmax over its group at the model's logit scale. A
frame gets a label when that probability is over `min_probability` (so a tie
picks none) and the cosine similarity clears the model's floor, which keeps a
group of labels that fit nothing (news scenes in the test-pattern world) from
tagging noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class TagRange:
    label: int  # index into the label list
    start: float
    end: float
    score: float  # mean probability over the range


def label_probabilities(frame_vectors: np.ndarray, label_vectors: np.ndarray, groups: Sequence[str],
                        logit_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, probabilities), each (frames, labels); probabilities sum to 1 within a group."""
    similarities = frame_vectors @ label_vectors.T
    probabilities = np.zeros_like(similarities)
    group_array = np.asarray(groups)
    for group in dict.fromkeys(groups):
        columns = np.flatnonzero(group_array == group)
        logits = similarities[:, columns] * logit_scale
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        probabilities[:, columns] = weights / weights.sum(axis=1, keepdims=True)
    return similarities, probabilities


def tag_ranges(frame_vectors: np.ndarray, times: Sequence[float], label_vectors: np.ndarray,
               groups: Sequence[str], *, logit_scale: float, min_similarity: float,
               interval: float, duration: float | None, min_probability: float = 0.5) -> list[TagRange]:
    """Ranges of consecutive frames showing each label; a range ends where its last frame's interval ends."""
    if len(times) == 0 or len(label_vectors) == 0:
        return []
    similarities, probabilities = label_probabilities(frame_vectors, label_vectors, groups, logit_scale)
    shown = (probabilities > min_probability) & (similarities >= min_similarity)
    ranges = []
    for label in range(label_vectors.shape[0]):
        for first, last in _runs(np.flatnonzero(shown[:, label])):
            end = times[last] + interval if duration else times[last]
            if duration:
                end = min(end, duration)
            score = float(probabilities[first:last + 1, label].mean())
            ranges.append(TagRange(label, round(float(times[first]), 3), round(float(max(end, times[first])), 3), round(score, 4)))
    return ranges


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """[(first, last)] of runs of consecutive integers in a sorted array."""
    if rows.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) > 1)
    starts = np.concatenate([[rows[0]], rows[breaks + 1]])
    ends = np.concatenate([rows[breaks], [rows[-1]]])
    return list(zip(starts.tolist(), ends.tolist()))
