"""Zero-shot tags: which vocabulary labels each sampled frame shows, merged into time ranges.

Labels of one group are alternatives (a shape is a circle *or* a square; a scene
is a press conference *or* a flood), so a label's probability is a softmax over
its group at the model's logit scale. A frame gets its group's best label when

- that label is clearly ahead of the group's runner-up: its probability is at
  least `min_odds` times the runner-up's (so a tie picks none). Unlike a fixed
  "probability > 0.5", this works the same for a group of 6 labels and one of
  50, where the probability mass spreads over many near-misses and the best
  label of a frame that truly shows it often holds only 20-40 %;
- and its cosine similarity clears the model's tag floor, which keeps a group
  of labels that fit nothing (news scenes in the test-pattern world) from
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
               interval: float, duration: float | None, min_odds: float = 2.0) -> list[TagRange]:
    """Ranges of consecutive frames showing each label; a range ends where its last frame's interval ends."""
    if len(times) == 0 or len(label_vectors) == 0:
        return []
    similarities, probabilities = label_probabilities(frame_vectors, label_vectors, groups, logit_scale)
    shown = _group_winners(probabilities, groups, min_odds) & (similarities >= min_similarity)
    ranges = []
    for label in range(label_vectors.shape[0]):
        for first, last in _runs(np.flatnonzero(shown[:, label])):
            end = times[last] + interval if duration else times[last]
            if duration:
                end = min(end, duration)
            score = float(probabilities[first:last + 1, label].mean())
            ranges.append(TagRange(label, round(float(times[first]), 3), round(float(max(end, times[first])), 3), round(score, 4)))
    return ranges


def _group_winners(probabilities: np.ndarray, groups: Sequence[str], min_odds: float) -> np.ndarray:
    """(frames, labels) True where the label is its group's best for the frame by at least `min_odds` to 1."""
    winners = np.zeros(probabilities.shape, dtype=bool)
    group_array = np.asarray(groups)
    for group in dict.fromkeys(groups):
        columns = np.flatnonzero(group_array == group)
        ordered = np.sort(probabilities[:, columns], axis=1)
        runner_up = ordered[:, -2] if len(columns) > 1 else np.zeros(len(probabilities))
        best = np.argmax(probabilities[:, columns], axis=1)
        clear = ordered[:, -1] >= min_odds * runner_up
        winners[np.flatnonzero(clear), columns[best[clear]]] = True
    return winners


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """[(first, last)] of runs of consecutive integers in a sorted array."""
    if rows.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) > 1)
    starts = np.concatenate([[rows[0]], rows[breaks + 1]])
    ends = np.concatenate([rows[breaks], [rows[-1]]])
    return list(zip(starts.tolist(), ends.tolist()))
