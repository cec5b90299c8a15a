"""Which moment each beat of a brief proposes: an assignment over all the beats, so two beats don't
show the same footage while good alternatives exist.

Every beat wants its best result. Where several want the same moment, the assignment (the Hungarian
method, scipy's linear_sum_assignment) gives them different good moments, choosing the set with the
highest total score; a beat with no good alternative keeps its best moment and is marked as sharing
it. A good alternative clears the relevance floor (every result of a beat that isn't weak does) and
scores within `margin` of the beat's best: the caller passes half the model's spread (the typical
gap between a matching and a non-matching second), so an alternative must be nearer the best match
than a non-match. On the demo model two scenes that both match a beat score within 0.01 of each
other and a near miss (the right colour, the wrong shape) 0.33 or more below, against a margin of
0.26; for a real CLIP model the margin is 0.04. Picked moments are fixed: other beats go around them when
they can. A beat with no good match (weak) keeps its closest result and takes no part.

Among a beat's good moments, footage nobody may publish now (under embargo, marked do not use) is
proposed only when no good usable one is left: the editor can still pick it, with its warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

# Two moments of one asset are the same footage when they overlap by this share of the shorter one.
SAME_FOOTAGE_OVERLAP = 0.5
_FORBIDDEN = -1e9
# A beat falling back to a moment another beat has costs more than any difference of scores:
# the assignment first avoids duplicates, then maximises the total score.
_DUPLICATE_COST = 1e3
# Unusable footage costs more than any difference of scores between good moments, less than a duplicate.
_UNUSABLE_COST = 10.0
_RANK_TIE_BREAK = 1e-6


@dataclass(frozen=True)
class Candidate:
    asset_id: int
    start: float
    end: float
    score: float
    usable: bool = True  # may be published now (no embargo running, not marked do not use)

    @property
    def utility(self) -> float:
        return self.score - (0.0 if self.usable else _UNUSABLE_COST)


@dataclass(frozen=True)
class BeatCandidates:
    results: Sequence[Candidate]  # best first
    weak: bool = False  # no result cleared the relevance floor
    pick: Candidate | None = None


@dataclass(frozen=True)
class Proposal:
    choice: int | None  # index into the beat's results of the proposed moment; None: the pick, or no results
    shared_with: tuple[int, ...] = ()  # other beats whose choice (or pick) is the same footage


def same_footage(a: Candidate, b: Candidate) -> bool:
    if a.asset_id != b.asset_id:
        return False
    overlap = min(a.end, b.end) - max(a.start, b.start)
    shorter = min(a.end - a.start, b.end - b.start)
    if shorter <= 0:  # an image, or an instant: the same when one lies within the other
        return overlap >= 0
    return overlap >= SAME_FOOTAGE_OVERLAP * shorter


def propose(beats: Sequence[BeatCandidates], *, margin: float) -> list[Proposal]:
    """For every beat, the index of the result the board proposes, and the beats it shares footage with."""
    choices: list[int | None] = [None if beat.pick or not beat.results else 0 for beat in beats]
    contested = [i for i, beat in enumerate(beats) if beat.pick is None and beat.results and not beat.weak]
    if contested:
        _assign(beats, contested, choices, margin=margin)
    chosen = [beat.pick if beat.pick else (beat.results[choices[i]] if choices[i] is not None else None)
              for i, beat in enumerate(beats)]
    return [Proposal(choice=choices[i], shared_with=tuple(
        j for j, other in enumerate(chosen) if j != i and mine is not None and other is not None and same_footage(mine, other)))
        for i, mine in enumerate(chosen)]


def _assign(beats: Sequence[BeatCandidates], contested: list[int], choices: list[int | None], *, margin: float) -> None:
    footage: list[Candidate] = []  # one representative per distinct piece of footage
    taken = [beat.pick for beat in beats if beat.pick] + [beat.results[0] for beat in beats
                                                        if not beat.pick and beat.results and beat.weak]
    columns: dict[tuple[int, int], int] = {}  # (beat, result) -> column of its footage
    for row in contested:
        best = beats[row].results[0].score
        for k, candidate in enumerate(beats[row].results):
            if candidate.score < best - margin or any(same_footage(candidate, t) for t in taken):
                continue  # held by a pick or a weak beat: this beat can only share it (its fallback)
            column = next((c for c, seen in enumerate(footage) if same_footage(candidate, seen)), None)
            if column is None:
                footage.append(candidate)
                column = len(footage) - 1
            columns[(row, k)] = column
    width = len(footage) + len(contested)  # each contested beat also has its own fallback column
    utility = np.full((len(contested), width), _FORBIDDEN)
    for r, row in enumerate(contested):
        for k, candidate in enumerate(beats[row].results):
            if (row, k) in columns:
                # Ties go to the result ranked higher for the beat.
                utility[r, columns[(row, k)]] = max(utility[r, columns[(row, k)]], candidate.utility - _RANK_TIE_BREAK * k)
        utility[r, len(footage) + r] = beats[row].results[0].utility - _DUPLICATE_COST
    rows, cols = linear_sum_assignment(utility, maximize=True)
    for r, column in zip(rows, cols):
        row = contested[r]
        if column >= len(footage):  # the fallback: its best, shared
            choices[row] = 0
            continue
        choices[row] = max((k for k, candidate in enumerate(beats[row].results) if columns.get((row, k)) == column),
                           key=lambda k: beats[row].results[k].utility)
