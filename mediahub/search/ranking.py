"""Turning per-second scores into ranked moments: merging, fusion, relevance floor and feedback.

Pure functions over plain numbers (no database), so every rule here can be
read and tested on its own. Scores are cosine similarities of the active
model; bonuses and feedback are expressed in units of the model's
`score_spread` (the typical gap between a matching and a non-matching second),
so the same weights work for the demo model and for real CLIP models.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

# How far below its peak a neighbouring second may score and still belong to
# the same moment, as a fraction of (peak - the query's background level),
# within one shot.
MOMENT_RELATIVE_CUT = 0.5
# Across a cut a moment goes on only into a shot that matches the query itself,
# as well as the shot it grew in: with stored shots (mediahub.shots, the cuts
# the frames step found), the next shot's best seconds (scored as a moment is)
# must clear the model's match floor and come within this fraction of the
# peak's height of the peak's own shot. The floor alone is not enough: the demo
# model scores a near miss (a yellow triangle for "a yellow diamond") at 0.42,
# just over its floor of 0.418, against 0.55-0.57 for a match (README, Search).
# Assets indexed before shots were stored have no Shot rows: for them a cut is
# judged from the frames (consecutive seconds less alike than the model's
# shot_continuity), and across it only seconds within this fraction of the peak join.
MOMENT_CUT_ACROSS_SHOTS = 0.15
# Within a shot, seconds this close to the peak (in units of the model's score
# spread) always join: when nothing matches well, peak and background are close
# and score noise alone would cut one shot into pieces.
MOMENT_NOISE_TOLERANCE = 0.2
# A query's best moment must stand this many model spreads above the query's own median
# frame (its score on footage that doesn't match it): a query the model doesn't
# understand scores every frame alike, high or low.
STANDS_OUT_SPREADS = 0.5
# When nothing clears the relevance floor, this many closest moments are shown (marked weak).
CLOSEST_WHEN_WEAK = 5
# Seconds further apart than this many intervals are not adjacent.
ADJACENCY_SLACK = 1.5
# A moment's score: the mean of its best seconds, so length doesn't inflate it.
BEST_SECONDS = 3
# Fusion weights, in units of the model's score spread.
TEXT_WEIGHT = 0.6
TAG_WEIGHT = 0.4
# A shot's description matching the query (mediahub.shots): an editor's words count as much as a
# picture that matches (one spread: the typical gap between a matching and a non-matching second);
# a generated description only restates what the same model already scored, so it counts less
# (argued, not fitted: on the test-pattern library any share from 0 to 1 gives the same figures,
# README "Search quality").
DESCRIPTION_WEIGHT = 1.0
GENERATED_DESCRIPTION_SHARE = 0.3
# Feedback: how much each action counts; clicks decay with a half-life.
ACTION_WEIGHTS = {"relevant": 1.0, "irrelevant": -1.0, "click": 0.25}
CLICK_HALF_LIFE_DAYS = 14.0
FEEDBACK_MARGIN = 0.01  # in spread units: how far past the top score a full "relevant" lifts


@dataclass(slots=True)  # thousands per search (every second scored exactly)
class Second:
    time: float
    score: float
    continuity: float | None = None  # cosine between this second's frame and the previous sampled second's


@dataclass(frozen=True)
class ShotSpan:
    """A stored shot of an asset: the stretch between two cuts."""

    index: int
    start: float
    end: float


@dataclass(frozen=True)
class ShotMatch:
    """A shot whose description matches the query: `strength` 0..1 of the text match, `edited` when
    the words that matched are an editor's (not generated)."""

    asset_id: int
    index: int
    start: float
    end: float
    strength: float
    edited: bool

    @property
    def weight(self) -> float:
        return self.strength * (1.0 if self.edited else GENERATED_DESCRIPTION_SHARE)


@dataclass
class Moment:
    asset_id: int
    start: float
    end: float
    best_time: float
    visual: float  # the moment's visual score (mean of its best seconds)
    text: float = 0.0  # 0..1 how well the title/description/tags text matches the query
    tag: float = 0.0  # 0..1 how strongly a tag named in the query covers the moment
    description: float = 0.0  # 0..1 how well a shot description matches (generated ones count a share)
    described: bool = False  # an editor's description of its shot matches the query
    feedback: float = 0.0  # score added (or taken) by feedback
    shots: tuple[tuple[float, float], ...] = ()  # the stored shots it covers, clipped to it (none: not stored)
    parts: dict = field(default_factory=dict)

    @property
    def fused(self) -> float:
        return (self.visual + self.parts.get("text_bonus", 0.0) + self.parts.get("tag_bonus", 0.0)
                + self.parts.get("description_bonus", 0.0))

    @property
    def score(self) -> float:
        return self.fused + self.feedback

    def overlaps(self, start: float, end: float) -> bool:
        if self.start == self.end or start == end:  # images and single instants
            return self.start <= end and start <= self.end
        return min(self.end, end) - max(self.start, start) > 0


@dataclass(frozen=True)
class _Cuts:
    """The scores a neighbour needs to join a moment grown from one peak."""

    within_shot: float
    across_shots: float
    shot_continuity: float | None
    interval: float


def merge_seconds(asset_id: int, seconds: Sequence[Second], *, interval: float, background: float,
                  min_peak: float, duration: float | None, shot_continuity: float | None = None,
                  spread: float = 0.0, shots: Sequence[ShotSpan] = (), match_floor: float | None = None,
                  snap_starts: bool = True) -> list[Moment]:
    """Grow a moment around each local peak, best first, over adjacent seconds that
    stay within MOMENT_RELATIVE_CUT of the peak's height above `background`.
    Each second joins one moment at most, so one asset's moments never overlap.

    With the asset's stored `shots` (those around `seconds`, in time order), a moment crosses a cut
    only into a shot that matches the query itself: its best seconds (as a moment is scored) clear
    `match_floor` and come within MOMENT_CUT_ACROSS_SHOTS of the peak's height of the peak's own
    shot's; its edges snap to the cuts it reaches (its start only with `snap_starts`: not when a
    filter picked the seconds, whose first is where the filter's range begins). Without them (an
    asset indexed before shots were stored), a cut is where consecutive frames are less alike than
    `shot_continuity`, and across it only seconds within MOMENT_CUT_ACROSS_SHOTS of the peak join."""
    seconds = sorted(seconds, key=lambda s: s.time)
    shot_of = _shot_of(seconds, shots) if shots else None
    shot_scores = _shot_scores(seconds, shot_of) if shot_of is not None else {}
    taken = [False] * len(seconds)
    moments = []
    for peak in sorted(range(len(seconds)), key=lambda i: -seconds[i].score):
        if seconds[peak].score < min_peak:
            break  # best first: every second left is below it too
        if taken[peak]:
            continue
        height = max(seconds[peak].score - background, 0.0)
        cuts = _Cuts(within_shot=seconds[peak].score - max(MOMENT_RELATIVE_CUT * height, MOMENT_NOISE_TOLERANCE * spread),
                     across_shots=seconds[peak].score - MOMENT_CUT_ACROSS_SHOTS * height,
                     shot_continuity=shot_continuity, interval=interval)
        if shot_of is None:
            def joins(candidate, neighbour):
                return _joins(seconds, candidate, neighbour, taken, cuts)
        else:
            bar = max(-math.inf if match_floor is None else match_floor,
                      shot_scores[shot_of[peak]] - MOMENT_CUT_ACROSS_SHOTS * height)

            def joins(candidate, neighbour):
                return _joins_stored_shot(seconds, candidate, neighbour, taken, cuts, shot_of, shot_scores, bar)
        first = last = peak
        while first > 0 and joins(first - 1, first):
            first -= 1
        while last < len(seconds) - 1 and joins(last + 1, last):
            last += 1
        for i in range(first, last + 1):
            taken[i] = True
        members = seconds[first:last + 1]
        moment = Moment(asset_id=asset_id, start=members[0].time, end=_moment_end(members[-1].time, interval, duration),
                        best_time=seconds[peak].time, visual=_best_mean(members))
        if shot_of is not None:
            _fit_to_shots(moment, [shots[i] for i in sorted(set(shot_of[first:last + 1]))], interval=interval,
                          image=duration is None, snap_start=snap_starts)
        moments.append(moment)
    return moments


def _shot_of(seconds: Sequence[Second], shots: Sequence[ShotSpan]) -> list[int]:
    """For each second (in time order), the position in `shots` of the shot it falls in."""
    starts = [shot.start for shot in shots]
    return [max(bisect.bisect_right(starts, s.time + 1e-6) - 1, 0) for s in seconds]


def _shot_scores(seconds: Sequence[Second], shot_of: list[int]) -> dict[int, float]:
    """Each shot's score for the query: the mean of its best scored seconds, as a moment's."""
    by_shot: dict[int, list[Second]] = {}
    for second, shot in zip(seconds, shot_of):
        by_shot.setdefault(shot, []).append(second)
    return {shot: _best_mean(members) for shot, members in by_shot.items()}


def _joins(seconds, candidate: int, neighbour: int, taken, cuts: _Cuts) -> bool:
    if taken[candidate] or abs(seconds[candidate].time - seconds[neighbour].time) > cuts.interval * ADJACENCY_SLACK:
        return False
    continuity = seconds[max(candidate, neighbour)].continuity  # the later second's link to the earlier
    same_shot = cuts.shot_continuity is None or continuity is None or continuity >= cuts.shot_continuity
    return seconds[candidate].score >= (cuts.within_shot if same_shot else cuts.across_shots)


def _joins_stored_shot(seconds, candidate: int, neighbour: int, taken, cuts: _Cuts, shot_of: list[int],
                       shot_scores: dict[int, float], bar: float) -> bool:
    """Across a cut only between two shots that match the query (score at least `bar`); asked per pair
    rather than listing the matching shots per moment (a search grows hundreds of moments)."""
    if taken[candidate] or abs(seconds[candidate].time - seconds[neighbour].time) > cuts.interval * ADJACENCY_SLACK:
        return False
    if shot_of[candidate] != shot_of[neighbour] and not (
            shot_scores[shot_of[candidate]] >= bar and shot_scores[shot_of[neighbour]] >= bar):
        return False
    return seconds[candidate].score >= cuts.within_shot


def _fit_to_shots(moment: Moment, shots: list[ShotSpan], *, interval: float, image: bool, snap_start: bool) -> None:
    """Snap the moment's edges to the cuts it reaches (a sampled second stands for the stretch up to
    the next one, so the first second of a shot starts at the cut and the last ends at the next) and
    record the shots it covers."""
    if not image:
        first, last = shots[0], shots[-1]
        if snap_start and moment.start - first.start < interval:
            moment.start = round(first.start, 3)
        moment.end = round(max(min(moment.end, last.end), moment.start), 3)
    moment.shots = tuple((max(shot.start, moment.start), min(shot.end, moment.end)) for shot in shots)


def describe_shots(moments: list[Moment], seconds: Sequence[Second], *, matches: Sequence[ShotMatch],
                   interval: float, duration: float | None, snap_starts: bool = True) -> list[Moment]:
    """One asset's moments with the shots whose descriptions match the query: a matched shot becomes
    one moment spanning it (merged with the moments that reach into it, which may go on into other
    matching shots), scored by its seconds like any moment, and carries the description's strength.
    Only its scored seconds count: where a filter (a person, a tag) kept some of them, the moment
    spans each run of those instead of the whole shot; with none, the shot adds nothing."""
    seconds = sorted(seconds, key=lambda s: s.time)
    moments = list(moments)
    for match in sorted(matches, key=lambda m: m.start):
        if duration is None:  # an image: its one shot is the instant 0
            runs = [[s for s in seconds if s.time == match.start]]
        else:
            runs = _runs([s for s in seconds if match.start - 1e-6 <= s.time < match.end], interval=interval)
        for run in (run for run in runs if run):
            start = match.start if snap_starts and run[0].time - match.start < interval else run[0].time
            end = match.end if duration is None or match.end - run[-1].time <= interval else run[-1].time + interval
            touching = [m for m in moments if _touches(m, start, end)]
            start = min([start] + [m.start for m in touching])
            end = max([end] + [m.end for m in touching])
            members = [s for s in seconds if start - 1e-6 <= s.time < max(end, start + 1e-6)]
            best = max(members, key=lambda s: s.score)
            shots = sorted({shot for m in touching for shot in m.shots} | {(max(start, match.start), min(end, match.end))})
            merged = Moment(asset_id=match.asset_id, start=start, end=end, best_time=best.time,
                            visual=_best_mean(members), shots=tuple(shots))
            moments = [m for m in moments if not any(m is t for t in touching)] + [merged]
    for moment in moments:
        for match in matches:
            if _touches(moment, match.start, match.end):
                moment.description = max(moment.description, match.weight)
                moment.described = moment.described or match.edited
    return moments


def _runs(seconds: Sequence[Second], *, interval: float) -> list[list[Second]]:
    """The seconds (in time order) split where sampling leaves a gap."""
    runs: list[list[Second]] = []
    for second in seconds:
        if runs and second.time - runs[-1][-1].time <= interval * ADJACENCY_SLACK:
            runs[-1].append(second)
        else:
            runs.append([second])
    return runs


def _touches(moment: Moment, start: float, end: float) -> bool:
    if start == end or moment.start == moment.end:
        return moment.start <= end and start <= moment.end
    return min(moment.end, end) - max(moment.start, start) > 1e-6


def _moment_end(last_time: float, interval: float, duration: float | None) -> float:
    if duration is None:  # an image: a moment at 0
        return last_time
    return round(min(last_time + interval, duration), 3)


def _best_mean(members: Sequence[Second]) -> float:
    best = sorted((s.score for s in members), reverse=True)[:BEST_SECONDS]
    return sum(best) / len(best)


def background_level(scores: Iterable[float]) -> float:
    """The query's typical score of a non-matching second: the lower quartile of what was scored."""
    ordered = sorted(scores)
    return ordered[len(ordered) // 4] if ordered else 0.0


def fuse(moments: list[Moment], *, spread: float) -> None:
    """Add text, tag and shot-description bonuses (scaled by the model's score spread) and record the parts."""
    for moment in moments:
        moment.parts["text_bonus"] = TEXT_WEIGHT * spread * moment.text
        moment.parts["tag_bonus"] = TAG_WEIGHT * spread * moment.tag
        moment.parts["description_bonus"] = DESCRIPTION_WEIGHT * spread * moment.description


@dataclass(frozen=True)
class FeedbackEvent:
    asset_id: int
    start: float
    end: float
    action: str
    age_days: float
    query_similarity: float  # cosine between this search's query vector and the feedback's


def feedback_kernel(similarity: float, *, radius: float) -> float:
    """1 for the same query, falling linearly to 0 at the similarity radius."""
    if similarity <= radius:
        return 0.0
    return min(1.0, (similarity - radius) / max(1.0 - radius, 1e-6))


def feedback_strength(events: Iterable[FeedbackEvent], moment: Moment, *, radius: float) -> float:
    """Net feedback on `moment` in -1..1: judgements count fully, clicks a quarter and decay."""
    total = 0.0
    for event in events:
        if event.asset_id != moment.asset_id or not moment.overlaps(event.start, event.end):
            continue
        weight = ACTION_WEIGHTS[event.action]
        if event.action == "click":
            weight *= math.pow(0.5, event.age_days / CLICK_HALF_LIFE_DAYS)
        total += weight * feedback_kernel(event.query_similarity, radius=radius)
    return max(-1.0, min(1.0, total))


def apply_feedback(moments: list[Moment], events: Sequence[FeedbackEvent], *, radius: float, floor: float,
                   spread: float) -> None:
    """Move judged moments within this query's own ranking, never beyond it.

    A fully relevant moment rises just past the current best; a fully irrelevant
    one sinks just below the sixth. Partial strength (a similar query, clicks)
    moves it part of the way. Moments under the relevance floor are never
    lifted, so feedback can't push a non-match up a list.
    """
    if not events or not moments:
        return
    fused = sorted((m.fused for m in moments), reverse=True)
    top, sixth = fused[0], fused[min(5, len(fused) - 1)]
    margin = FEEDBACK_MARGIN * spread
    for moment in moments:
        strength = feedback_strength(events, moment, radius=radius)
        if strength > 0 and moment.visual >= floor:
            moment.feedback = strength * max(top - moment.fused + margin, 0.0)
        elif strength < 0:
            moment.feedback = strength * max(moment.fused - sixth + margin, 0.0)


def rank(moments: list[Moment]) -> list[Moment]:
    return sorted(moments, key=lambda m: (-m.score, m.asset_id, m.start))


def stands_out(moments: Sequence[Moment], *, background: float | None, spread: float, floor: float) -> bool:
    """Whether the best moment's visual score rises clearly above the query's typical frame. When the
    typical frame itself clears the match floor, most of the library is this footage (a first upload, a
    library of one story): the typical frame is then no measure of a non-match, and the floor decides."""
    if background is None or not moments or background >= floor:
        return True
    return max(m.visual for m in moments) - background >= STANDS_OUT_SPREADS * spread


def answers(ranked: list[Moment], *, floor: float, understood: bool = True) -> tuple[list[Moment], bool]:
    """The moments that clear the relevance floor, and those whose shot an editor described in the
    query's words (an editor's word is an answer whether or not the model reads the picture); if none
    is, or the query isn't understood at all, the few closest, flagged weak.

    Below the floor a moment is noise, not a lesser answer: listing it after
    the real matches would hide where the matches end.
    """
    good = [m for m in ranked if (understood and (m.fused >= floor or m.feedback > 0)) or m.described]
    if good:
        return good, False
    return ranked[:CLOSEST_WHEN_WEAK], True
