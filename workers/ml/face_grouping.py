"""Grouping face tracks into people (pure numpy, no Django).

A track joins a group only when enough of the group's faces lie within the same-person distance
of the track's faces, from more than one of the group's tracks (Immich-style core points): a
group of several tracks needs CORE_FACES close faces from CORE_TRACKS tracks, a group of one
track SINGLE_TRACK_FACES close faces (never more than the group holds). A chain of look-alikes,
each near only its neighbour, therefore never links two people, as single linkage would.

Tracks that join nothing wait unassigned; two waiting tracks that support each other the same
way start a new group. Constraints: two tracks of one asset that overlap in time never share a
group (two faces in one frame are two people), a track never joins a person it was rejected
from, and fixed (editor-placed) tracks never move.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

CORE_FACES = 3
CORE_TRACKS = 2
SINGLE_TRACK_FACES = 2
REGROUP_ROUNDS = 4  # passes over the waiting tracks; each pass can only add tracks to groups


@dataclass(frozen=True, eq=False)
class TrackFaces:
    """A track as grouping sees it: its faces' descriptors and what editors decided about it."""

    key: int  # the track's id
    asset: int
    start: float
    end: float
    vectors: np.ndarray  # (faces, 128) float32
    person: int | None = None  # the person it belongs to now
    fixed: bool = False  # placed by an editor: stays with `person`
    rejected: frozenset[int] = frozenset()  # people it must never join

    def overlaps(self, other: TrackFaces) -> bool:
        """On screen together: the time ranges (a track ends where its last second ends) share more than
        an edge, or both are the same instant (two faces in one image)."""
        return self.asset == other.asset and (self.start < other.end and other.start < self.end
                                              or self.start == other.start)


@dataclass(eq=False)
class Group:
    """Tracks grouped as one person; `person` is the existing person's id, None for a new one.

    Add tracks with `add` (it keeps the indexes `accepts` reads).
    """

    person: int | None
    tracks: list[TrackFaces] = field(default_factory=list)

    def __post_init__(self):
        initial, self.tracks = self.tracks, []
        self.vectors = np.empty((0, 128), np.float32)  # every face of its tracks, in order
        self.norms = np.empty(0, np.float32)  # their squared norms
        self.owners = np.empty(0, int)  # for each face, the index of its track in `tracks`
        self._by_asset: dict[int, list[TrackFaces]] = {}
        self._people: set[int] = set()  # the people its tracks belonged to
        self._rejected: set[int] = set()  # the people its tracks must never join
        for track in initial:
            self.add(track)

    def add(self, track: TrackFaces) -> None:
        self.tracks.append(track)
        self._by_asset.setdefault(track.asset, []).append(track)
        if track.person is not None:
            self._people.add(track.person)
        self._rejected |= track.rejected
        added = np.asarray(track.vectors, np.float32).reshape(-1, 128)
        self.vectors = np.concatenate([self.vectors, added])
        self.norms = np.concatenate([self.norms, np.einsum("ij,ij->i", added, added)])
        owners = np.full(len(added), len(self.tracks) - 1)
        self.owners = np.concatenate([self.owners, owners])

    def accepts(self, track: TrackFaces) -> bool:
        """The constraints: no overlapping track of the same asset, no person the track was rejected from."""
        if any(track.overlaps(member) for member in self._by_asset.get(track.asset, ())):
            return False
        if track.rejected and (track.rejected & self._people or self.person in track.rejected):
            return False
        return track.person is None or track.person not in self._rejected


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of a and b, (len(a), len(b))."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


def within(a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
    """(len(a), len(b)) booleans: row pairs within `threshold` (squared distances in float32, for speed)."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    squared = np.einsum("ij,ij->i", a, a)[:, None] + np.einsum("ij,ij->i", b, b)[None, :] - 2.0 * (a @ b.T)
    return squared <= threshold * threshold


def enough_support(*, close_faces: int, close_tracks: int, group_tracks: int, group_faces: int) -> bool:
    """The core-point rule: may a track with this much support join a group of this size?"""
    if close_faces <= 0:
        return False
    if group_tracks >= 2:
        return close_faces >= min(CORE_FACES, group_faces) and close_tracks >= CORE_TRACKS
    return close_faces >= min(SINGLE_TRACK_FACES, group_faces)


def best_group(track: TrackFaces, groups: Iterable[Group], *, threshold: float) -> Group | None:
    """The group that supports the track most (ties: the earlier group), if any supports it enough.

    Support: the group's faces within `threshold` of any of the track's faces, and the group's
    tracks they come from; one distance matrix for all groups.
    """
    candidates = [group for group in groups if group.tracks and group.accepts(track)]
    if not candidates or not len(track.vectors):
        return None
    vectors = np.concatenate([group.vectors for group in candidates])
    norms = np.concatenate([group.norms for group in candidates])
    face_group = np.repeat(np.arange(len(candidates)), [len(group.vectors) for group in candidates])
    track_offsets = np.cumsum([0] + [len(group.tracks) for group in candidates[:-1]])
    face_member = np.concatenate([group.owners for group in candidates]) + track_offsets[face_group]
    mine = np.asarray(track.vectors, np.float32)
    squared = np.einsum("ij,ij->i", mine, mine)[:, None] + norms[None, :] - 2.0 * (mine @ vectors.T)
    close = (squared <= threshold * threshold).any(axis=0)
    close_faces = np.bincount(face_group[close], minlength=len(candidates))
    member_group = np.repeat(np.arange(len(candidates)), [len(group.tracks) for group in candidates])
    close_tracks = np.bincount(member_group[np.unique(face_member[close])], minlength=len(candidates))
    best, best_faces = None, 0
    for position, group in enumerate(candidates):
        faces = int(close_faces[position])
        if faces > best_faces and enough_support(close_faces=faces, close_tracks=int(close_tracks[position]),
                                                 group_tracks=len(group.tracks), group_faces=len(group.vectors)):
            best, best_faces = group, faces
    return best


def group_from_waiting(track: TrackFaces, waiting: Sequence[TrackFaces], *, threshold: float) -> Group | None:
    """A new group of `track` and the waiting tracks that support it and it supports, or None if none does.

    Support between two single tracks: at least SINGLE_TRACK_FACES of each one's faces (never more
    than it has) lie within `threshold` of the other's; one distance matrix for all waiting tracks.
    """
    others = [other for other in waiting if other is not track and len(other.vectors)]
    if not others or not len(track.vectors):
        return None
    sizes = np.array([len(other.vectors) for other in others])
    close = within(track.vectors, np.concatenate([other.vectors for other in others]), threshold)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    theirs_near_mine = np.add.reduceat(close.any(axis=0).astype(int), starts)
    mine_near_theirs = np.logical_or.reduceat(close, starts, axis=1).sum(axis=0)
    enough_theirs = theirs_near_mine >= np.minimum(SINGLE_TRACK_FACES, sizes)
    enough_mine = mine_near_theirs >= min(SINGLE_TRACK_FACES, len(track.vectors))
    group = Group(person=None, tracks=[track])
    for position in np.flatnonzero(enough_theirs & enough_mine):
        if group.accepts(others[position]):
            group.add(others[position])
    return group if len(group.tracks) >= 2 else None


def track_place(track: TrackFaces, groups: list[Group], waiting: list[TrackFaces], *, threshold: float) -> Group | None:
    """Incremental step: join the best-supported group, else start one with waiting tracks, else wait.

    Mutates `groups` (a new group is appended, a joined one grows) and `waiting`; returns the
    track's group or None when it waits.
    """
    if track in waiting:
        waiting.remove(track)
    group = best_group(track, groups, threshold=threshold)
    if group is not None:
        group.add(track)
        return group
    group = group_from_waiting(track, waiting, threshold=threshold)
    if group is not None:
        for member in group.tracks[1:]:
            waiting.remove(member)
        groups.append(group)
        return group
    waiting.append(track)
    return None


def tracks_regroup(tracks: Sequence[TrackFaces], *, threshold: float,
                   progress: Callable[..., Iterable] | None = None) -> dict[int, int | None]:
    """Group every track again; the answer maps each track's key to a person.

    Automatic tracks are clustered first, apart from the fixed ones, so an editor's hand-placed
    track can't pull look-alikes away from the person they were with. Each group then takes the
    id of the existing person it shares most faces with (each person at most once); a group
    taking the id of a person with fixed tracks joins them. A waiting track whose person no group
    took stays with that person. Tracks still waiting then may join any group, fixed ones
    included. Other groups get new negative ids (-1, -2, ...) for the caller to create; waiting
    tracks map to None. Deterministic: the same input gives the same answer.
    """
    seeds: dict[int, Group] = {}
    for track in tracks:
        if track.fixed and track.person is not None:
            seeds.setdefault(track.person, Group(person=track.person)).add(track)
    # Tracks with many faces first: dense cores form before the stragglers are placed.
    pending = sorted((t for t in tracks if not (t.fixed and t.person is not None)),
                     key=lambda t: (-len(t.vectors), t.asset, t.start, t.key))
    groups: list[Group] = []
    waiting: list[TrackFaces] = []
    _place_all(pending, groups, waiting, threshold=threshold, progress=progress)

    taken: set[int] = set()
    _name_groups(groups, taken)
    for group in list(groups):
        seed = seeds.get(group.person)
        if seed is None:
            continue
        groups.remove(group)
        for track in group.tracks:
            if seed.accepts(track):
                seed.add(track)
            else:
                waiting.append(track)
    groups = [seeds[person] for person in sorted(seeds)] + groups
    taken |= set(seeds)
    # A track no group took stays with its person when no group took that person either: a
    # regroup doesn't strip a person of the tracks nothing contradicts.
    kept: dict[int, Group] = {}
    for track in list(waiting):
        if track.person is None or track.person in taken or track.person in track.rejected:
            continue
        group = kept.setdefault(track.person, Group(person=track.person))
        if group.accepts(track):
            group.add(track)
            waiting.remove(track)
    groups += [kept[person] for person in sorted(kept)]
    taken |= set(kept)

    _place_all(list(waiting), groups, waiting, threshold=threshold)
    _name_groups(groups, taken)

    answer: dict[int, int | None] = {track.key: None for track in tracks}
    next_new = -1
    for group in groups:
        if group.person is None:
            group.person, next_new = next_new, next_new - 1
        for track in group.tracks:
            # A track rejected from the person its group turned out to be waits instead.
            answer[track.key] = None if group.person in track.rejected else group.person
    return answer


def _place_all(pending: list[TrackFaces], groups: list[Group], waiting: list[TrackFaces], *, threshold: float,
               progress: Callable[..., Iterable] | None = None) -> None:
    """`progress` (like tqdm) follows the first round, which places nearly every track."""
    for round_ in range(REGROUP_ROUNDS):
        placed_any = False
        shown = progress is not None and round_ == 0
        for track in progress(pending, total=len(pending), unit="track", desc="group") if shown else pending:
            if track_place(track, groups, waiting, threshold=threshold) is not None:
                placed_any = True
        pending = list(waiting)
        if not placed_any:
            break


def _name_groups(groups: list[Group], taken: set[int]) -> None:
    """Give each group without a person the id of the person whose faces it holds most of, if free."""
    overlaps = []
    for position, group in enumerate(groups):
        if group.person is not None:
            continue
        counts = Counter()
        for track in group.tracks:
            if track.person is not None:
                counts[track.person] += len(track.vectors)
        overlaps.extend((-count, position, person) for person, count in counts.items())
    for _, position, person in sorted(overlaps):
        if groups[position].person is None and person not in taken:
            groups[position].person = person
            taken.add(person)
