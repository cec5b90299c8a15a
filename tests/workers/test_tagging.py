"""Zero-shot tag decisions and their merging into time ranges (pure numpy)."""

import numpy as np
import pytest

from workers.ml.tagging import label_probabilities, tag_ranges


def unit(*values):
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


LABELS = np.stack([unit(1, 0, 0, 0), unit(0, 1, 0, 0), unit(0, 0, 1, 0), unit(0, 0, 0, 1)])
GROUPS = ["shape", "shape", "colour", "colour"]


def test_probabilities_sum_to_one_within_each_group():
    frames = np.stack([unit(1, 0.2, 0.9, 0.1), unit(0.1, 1, 0.1, 0.8)])
    _, probabilities = label_probabilities(frames, LABELS, GROUPS, logit_scale=50)
    assert probabilities[:, :2].sum(axis=1) == pytest.approx([1, 1])
    assert probabilities[:, 2:].sum(axis=1) == pytest.approx([1, 1])


def test_adjacent_frames_merge_into_ranges_that_end_with_the_last_frames_interval():
    frames = np.stack([unit(1, 0, 1, 0)] * 3 + [unit(0, 1, 1, 0)] * 2)
    ranges = tag_ranges(frames, [0, 1, 2, 3, 4], LABELS, GROUPS, logit_scale=50, min_similarity=0.3,
                        interval=1.0, duration=4.6)
    found = {(r.label, r.start, r.end) for r in ranges}
    assert found == {(0, 0.0, 3.0), (1, 3.0, 4.6), (2, 0.0, 4.6)}
    assert all(0.5 <= r.score <= 1 for r in ranges)


def test_a_group_that_fits_nothing_tags_nothing():
    frames = np.stack([unit(1, 1, 0.05, 0.04)] * 2)  # colours barely similar, nearly tied
    ranges = tag_ranges(frames, [0, 1], LABELS, GROUPS, logit_scale=50, min_similarity=0.3, interval=1.0, duration=2.0)
    assert {r.label for r in ranges} == set()  # shapes tie (no winner), colours below the floor


def test_an_image_gets_zero_length_ranges():
    ranges = tag_ranges(np.stack([unit(1, 0, 1, 0)]), [0.0], LABELS, GROUPS, logit_scale=50,
                        min_similarity=0.3, interval=1.0, duration=None)
    assert {(r.label, r.start, r.end) for r in ranges} == {(0, 0.0, 0.0), (2, 0.0, 0.0)}


def test_a_large_group_still_tags_a_clear_winner():
    """50 alternatives: the frame's label holds well under half the probability, yet it is tagged."""
    rng = np.random.default_rng(0)
    labels = rng.normal(size=(50, 64)).astype(np.float32)
    labels /= np.linalg.norm(labels, axis=1, keepdims=True)
    frame = labels[7] + 0.9 * rng.normal(size=64).astype(np.float32) / 8
    frames = np.stack([frame / np.linalg.norm(frame)] * 3)
    _, probabilities = label_probabilities(frames, labels, ["scene"] * 50, logit_scale=5)
    assert probabilities[0].max() < 0.5  # the old "probability > 0.5" rule would tag nothing
    ranges = tag_ranges(frames, [0, 1, 2], labels, ["scene"] * 50, logit_scale=5, min_similarity=0.3,
                        interval=1.0, duration=3.0)
    assert [(r.label, r.start, r.end) for r in ranges] == [(7, 0.0, 3.0)]
