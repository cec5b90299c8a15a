"""Writes to faces, face tracks and people: storing a run's faces, grouping, and editors' decisions.

Grouping itself is pure (workers/ml/face_grouping.py); this module loads what it needs from
Postgres and writes the answer back. Every write that changes who is whom holds one advisory
lock, so an ingest's grouping and a library regroup never interleave.
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q

from mediahub.assets.models import Asset
from mediahub.assets.storage import StoreWrites, storage_folder_delete
from mediahub.core.progress import Progress, as_is
from mediahub.people.models import Face, FaceTrack, Person, TrackRejection, face_chip_path
from workers.ml.face_grouping import Group, TrackFaces, track_place, tracks_regroup

if TYPE_CHECKING:
    from workers.ml.faces import FaceTrackResult

logger = logging.getLogger(__name__)

GROUPING_LOCK = 7_000_001  # pg_advisory_xact_lock key for everything that changes who is whom
CHIP_QUALITY = 90


def faces_folder(asset_id: int) -> str:
    return f"faces/{asset_id}"


def _grouping_lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [GROUPING_LOCK])


def _threshold() -> float:
    return settings.FACE_SAME_PERSON_DISTANCE


def _face_quality(sharpness: float, box) -> float:
    """Sharpest × largest: what a face is chosen by to stand for its track and its person."""
    return float(sharpness) * float(box[2]) * float(box[3])


# Storing a run's faces ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Decision:
    """What editors decided about an old track, to carry over to the new track that matches it."""

    start: float
    end: float
    box: tuple
    person_id: int | None
    assignment: str
    merged_from_id: int | None
    rejections: tuple  # ((person_id, by_id), ...)


def _interval_overlap(a_start, a_end, b_start, b_end) -> float:
    """Intersection over union of two time ranges; a point range (an image) overlaps an equal point fully."""
    inter = min(a_end, b_end) - max(a_start, b_start)
    if inter < 0 or (inter == 0 and max(a_end, b_end) > min(a_start, b_start)):
        return 0.0  # apart, or only touching
    union = max(a_end, b_end) - min(a_start, b_start)
    return 1.0 if union <= 0 else max(inter / union, 1e-6)


def _box_iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _match_decisions(new: Sequence[tuple[float, float, tuple]], old: Sequence[_Decision]) -> dict[int, _Decision]:
    """Pair new tracks (start, end, first box) with old ones by time overlap and first-box IoU, one to one."""
    pairs = []
    for i, (start, end, box) in enumerate(new):
        for j, decision in enumerate(old):
            time = _interval_overlap(start, end, decision.start, decision.end)
            iou = _box_iou(box, decision.box)
            if time > 0 and (iou > 0.1 or time >= 0.5):
                pairs.append((-(time + iou), i, j))
    matched, used_new, used_old = {}, set(), set()
    for _, i, j in sorted(pairs):
        if i not in used_new and j not in used_old:
            matched[i] = old[j]
            used_new.add(i)
            used_old.add(j)
    return matched


def _chip_jpeg(chip) -> bytes:
    buffer = io.BytesIO()
    chip.convert("RGB").save(buffer, format="JPEG", quality=CHIP_QUALITY)
    return buffer.getvalue()


def _described(sightings) -> list:
    return [s for s in sightings if getattr(s, "vector", None) is not None]


def _track_end(asset: Asset, last_seen: float) -> float:
    """Where a track ends, like a tag: the end of its last sampled second (an image's track is the instant 0)."""
    if asset.kind == Asset.Kind.IMAGE:
        return last_seen
    end = last_seen + settings.FRAME_INTERVAL_SECONDS
    return round(min(end, asset.duration) if asset.duration and asset.duration > last_seen else end, 3)


@transaction.atomic
def faces_replace(*, asset: Asset, tracks: Sequence["FaceTrackResult"]) -> list[FaceTrack]:
    """Make the asset's face tracks and faces exactly `tracks`, keeping editors' decisions.

    Face rows are the described sightings (those with a descriptor and a crop); crops are stored
    as JPEG. New tracks take over the person, manual placement and "not this person" decisions
    of the old track they match (time overlap and first-box IoU), so a reprocess never loses
    edits; the remaining automatic tracks are then grouped incrementally. Idempotent.
    """
    _grouping_lock()
    old_tracks = list(FaceTrack.objects.filter(asset=asset).prefetch_related("rejections"))
    old_people = {t.person_id for t in old_tracks if t.person_id}
    decisions = [
        _Decision(t.start, t.end, tuple(t.box), t.person_id, t.assignment, t.merged_from_id,
                  tuple((r.person_id, r.by_id) for r in t.rejections.all()))
        for t in old_tracks
    ]
    old_chips = set(Face.objects.filter(asset=asset).values_list("chip", flat=True))
    FaceTrack.objects.filter(asset=asset).delete()  # faces and rejections go with them

    # Tracks without a described face can't be shown or grouped; the rest in order of start, then left edge.
    kept = [sorted(t.sightings, key=lambda s: s.time) for t in tracks if _described(t.sightings)]
    kept.sort(key=lambda sightings: (sightings[0].time, sightings[0].box[0]))
    firsts = [(float(s[0].time), _track_end(asset, float(s[-1].time)), tuple(int(v) for v in s[0].box)) for s in kept]
    carried = _match_decisions(firsts, decisions)
    living_people = set(Person.objects.filter(pk__in={d.person_id for d in decisions} | {
        d.merged_from_id for d in decisions} | {p for d in decisions for p, _ in d.rejections}).values_list("pk", flat=True))

    rows: list[FaceTrack] = []
    new_chips: set[str] = set()
    with StoreWrites() as chips:  # the crops go to the store while the rows are written
        for index, (sightings, (start, end, box)) in enumerate(zip(kept, firsts)):
            rows.append(_track_store(asset, index, sightings, start, end, box, carried.get(index), living_people,
                                     chips, new_chips))

    stale = old_chips - new_chips
    transaction.on_commit(lambda: [default_storage.delete(name) for name in stale])
    changed = _tracks_assign(tracks=[t for t in rows if t.person_id is None])
    _people_tidy(old_people | changed | {t.person_id for t in rows if t.person_id})
    return list(FaceTrack.objects.filter(asset=asset).select_related("person"))


def _track_store(asset: Asset, index: int, sightings: list, start: float, end: float, box: tuple, decision,
                 living_people: set[int], chips: StoreWrites, new_chips: set[str]) -> FaceTrack:
    """One face track's row, its described faces' rows and their crops (saved through `chips`)."""
    person_id = decision.person_id if decision and decision.person_id in living_people else None
    track = FaceTrack.objects.create(
        asset=asset, index=index, start=start, end=end, box=list(box),
        boxes=[[round(float(s.time), 3), *(int(v) for v in s.box)] for s in sightings],
        person_id=person_id,
        assignment=decision.assignment if person_id else FaceTrack.Assignment.AUTO,
        merged_from_id=decision.merged_from_id if person_id and decision.merged_from_id in living_people else None,
    )
    faces = []
    for sighting in _described(sightings):
        name = face_chip_path(asset.pk, index, float(sighting.time))
        chips.save(name, functools.partial(_chip_jpeg, sighting.chip))  # a re-run's crop replaces the old one
        new_chips.add(name)
        faces.append(Face(track=track, asset=asset, time=float(sighting.time), box=[int(v) for v in sighting.box],
                          score=float(sighting.score), sharpness=float(sighting.sharpness), chip=name,
                          descriptor=np.asarray(sighting.vector, dtype=np.float32)))
    Face.objects.bulk_create(faces)
    track.best_face = max(faces, key=lambda f: _face_quality(f.sharpness, f.box))
    track.save(update_fields=["best_face", "updated_at"])
    if decision:
        TrackRejection.objects.bulk_create(
            [TrackRejection(track=track, person_id=p, by_id=by) for p, by in decision.rejections if p in living_people],
            ignore_conflicts=True)
    return track


# Grouping -------------------------------------------------------------------------------------

def _track_faces(tracks: Iterable[FaceTrack], vectors: dict[int, list], rejections: dict[int, set]) -> list[TrackFaces]:
    return [
        TrackFaces(key=t.pk, asset=t.asset_id, start=t.start, end=t.end,
                   vectors=np.asarray(vectors.get(t.pk, []), dtype=np.float32).reshape(-1, 128),
                   person=t.person_id, fixed=t.assignment == FaceTrack.Assignment.MANUAL,
                   rejected=frozenset(rejections.get(t.pk, ())))
        for t in tracks
    ]


def _load_track_faces(tracks: Sequence[FaceTrack]) -> list[TrackFaces]:
    ids = [t.pk for t in tracks]
    vectors: dict[int, list] = {}
    for track_id, descriptor in Face.objects.filter(track_id__in=ids).order_by("track_id", "time").values_list(
            "track_id", "descriptor"):
        vectors.setdefault(track_id, []).append(descriptor)
    rejections: dict[int, set] = {}
    for track_id, person_id in TrackRejection.objects.filter(track_id__in=ids).values_list("track_id", "person_id"):
        rejections.setdefault(track_id, set()).add(person_id)
    return _track_faces(tracks, vectors, rejections)


def _neighbour_tracks(track: FaceTrack) -> set[int]:
    """Tracks holding a stored face within the same-person distance of one of the track's faces.

    An exact scan, not the HNSW index: an approximate search misses neighbours once the index
    holds many deleted or rolled-back faces (measured: grouping went wrong in the test suite,
    whose rolled-back tests leave exactly that), and a missed neighbour is a wrong grouping.
    One query per track compares its few faces with every stored face in C.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT other.track_id FROM people_face other JOIN people_face mine ON mine.track_id = %s "
            "WHERE other.track_id <> %s AND (other.descriptor <-> mine.descriptor) <= %s",
            [track.pk, track.pk, _threshold()])
        return {row[0] for row in cursor.fetchall()}


def _tracks_assign(*, tracks: Sequence[FaceTrack]) -> set[int]:
    """Group new automatic tracks one by one against the people they are near; the people changed."""
    changed: set[int] = set()
    for track in tracks:
        track.refresh_from_db(fields=["person", "assignment"])
        if track.person_id is not None:
            continue  # pulled into a new person with an earlier track
        near = FaceTrack.objects.filter(pk__in=_neighbour_tracks(track))
        people = set(near.exclude(person=None).values_list("person_id", flat=True))
        members = list(FaceTrack.objects.filter(person_id__in=people).order_by("person_id", "pk"))
        waiting_rows = list(near.filter(person=None).order_by("pk"))
        loaded = {tf.key: tf for tf in _load_track_faces([track, *members, *waiting_rows])}
        groups: dict[int, Group] = {}
        for member in members:
            groups.setdefault(member.person_id, Group(person=member.person_id)).add(loaded[member.pk])
        waiting = [loaded[row.pk] for row in waiting_rows]
        group_list = [groups[p] for p in sorted(groups)]
        group = track_place(loaded[track.pk], group_list, waiting, threshold=_threshold())
        if group is None:
            continue
        if group.person is None:
            group.person = Person.objects.create().pk
        FaceTrack.objects.filter(pk__in=[t.key for t in group.tracks], person=None).update(person_id=group.person)
        changed.add(group.person)
    return changed


@dataclass(frozen=True)
class RegroupSummary:
    tracks: int
    people: int
    moved: int
    created: int
    removed: int


@transaction.atomic
def people_regroup(*, progress: Progress = as_is) -> RegroupSummary:
    """Group every automatic track of the library again (Celery beat and `manage.py regroup_people`).

    Editors' decisions hold: manual tracks stay, "not this person" is never undone, people keep
    their ids (so their names, hidden flags and merges) by the tracks they share with the new groups.
    """
    _grouping_lock()
    rows = list(FaceTrack.objects.order_by("pk"))
    answer = tracks_regroup(_load_track_faces(rows), threshold=_threshold(), progress=progress)
    new_people = {key: Person.objects.create().pk for key in sorted({p for p in answer.values() if p and p < 0},
                                                                   reverse=True)}
    moved = []
    for row in rows:
        person = answer[row.pk]
        person = new_people.get(person, person)
        if row.person_id != person:
            row.person_id = person
            if person is None:
                row.merged_from_id = None
            moved.append(row)
    FaceTrack.objects.bulk_update(moved, ["person", "merged_from"])
    before = Person.objects.count()
    _people_tidy(set(Person.objects.values_list("pk", flat=True)))
    removed = before - Person.objects.count()
    summary = RegroupSummary(tracks=len(rows), people=Person.objects.count(), moved=len(moved),
                             created=len(new_people), removed=removed)
    logger.info("people regrouped: %s", summary)
    return summary


def _people_tidy(person_ids: set[int]) -> None:
    """Refresh the covers of these people and remove those left with nothing an editor would miss:
    no tracks, no name, not hidden, not part of a merge."""
    person_ids = {p for p in person_ids if p}
    if not person_ids:
        return
    empty = (Person.objects.filter(pk__in=person_ids, tracks=None, name="", hidden=False, merged_into=None)
             .filter(merged=None))
    empty.delete()
    _covers_refresh(person_ids)


def _covers_refresh(person_ids: set[int]) -> None:
    best: dict[int, tuple[float, int]] = {}
    faces = Face.objects.filter(pk__in=FaceTrack.objects.filter(person_id__in=person_ids).values("best_face"))
    for face_id, person_id, sharpness, box in faces.values_list("pk", "track__person_id", "sharpness", "box"):
        quality = (_face_quality(sharpness, box), -face_id)
        if person_id not in best or quality > best[person_id]:
            best[person_id] = quality
    for person in Person.objects.filter(pk__in=person_ids):
        cover = -best[person.pk][1] if person.pk in best else None
        if person.cover_id != cover:
            Person.objects.filter(pk=person.pk).update(cover_id=cover)


# Editors' decisions ---------------------------------------------------------------------------

def person_rename(*, person: Person, name: str, by=None) -> Person:
    name = name.strip()
    if len(name) > 200:
        raise ValidationError("A name can be at most 200 characters long.")
    person.name = name
    person.named_by = by if name else None
    person.save(update_fields=["name", "named_by", "updated_at"])
    return person


def person_hide(*, person: Person, hidden: bool = True) -> Person:
    person.hidden = hidden
    person.save(update_fields=["hidden", "updated_at"])
    return person


def _same_frame(first: Person, second: Person) -> FaceTrack | None:
    """A track of `first` that is on screen at the same time as one of `second`'s in one asset."""
    for track in FaceTrack.objects.filter(person=first).select_related("asset").order_by("asset_id", "start"):
        together = Q(start__lt=track.end, end__gt=track.start) | Q(start=track.start)
        if FaceTrack.objects.filter(together, person=second, asset_id=track.asset_id).exists():
            return track
    return None


@transaction.atomic
def person_merge(*, person: Person, other: Person, by=None) -> Person:
    """Merge `other` into `person`: all of other's tracks become person's, placed by hand (a regroup
    keeps them together), and other is remembered as merged so an un-merge can undo it."""
    _grouping_lock()
    if person.pk == other.pk:
        raise ValidationError("A person can't be merged with themselves; choose another person.")
    if other.merged_into_id is not None or person.merged_into_id is not None:
        raise ValidationError("That person was already merged into someone else; un-merge first or choose another.")
    clash = _same_frame(person, other)
    if clash is not None:
        raise ValidationError(
            f"{person} and {other} are both on screen at {clash.start:.0f} s of “{clash.asset.title}”, so they are "
            f"two people; merge only the same person.")
    FaceTrack.objects.filter(person=other).update(person=person, merged_from=other,
                                                  assignment=FaceTrack.Assignment.MANUAL)
    FaceTrack.objects.filter(person=person).update(assignment=FaceTrack.Assignment.MANUAL)
    other.merged_into = person
    other.cover = None
    other.save(update_fields=["merged_into", "cover", "updated_at"])
    if not person.name and other.name:
        person.name, person.named_by = other.name, other.named_by
        person.save(update_fields=["name", "named_by", "updated_at"])
    _covers_refresh({person.pk})
    person.refresh_from_db()
    return person


@transaction.atomic
def person_unmerge(*, person: Person, other: Person) -> Person:
    """Undo merging `other` into `person`: the tracks that came from other go back to them."""
    _grouping_lock()
    if other.merged_into_id != person.pk:
        raise ValidationError(f"{other} was not merged into {person}; nothing to un-merge.")
    FaceTrack.objects.filter(person=person, merged_from=other).update(person=other, merged_from=None)
    other.merged_into = None
    other.save(update_fields=["merged_into", "updated_at"])
    _covers_refresh({person.pk, other.pk})
    other.refresh_from_db()
    return other


@transaction.atomic
def track_split(*, track: FaceTrack, by=None) -> Person:
    """Take a track off its person into a new person of its own, placed by hand."""
    _grouping_lock()
    old = track.person_id
    person = Person.objects.create()
    track.person, track.merged_from, track.assignment = person, None, FaceTrack.Assignment.MANUAL
    track.save(update_fields=["person", "merged_from", "assignment", "updated_at"])
    _covers_refresh({person.pk} | ({old} if old else set()))
    person.refresh_from_db()
    return person


@transaction.atomic
def track_reject(*, track: FaceTrack, by=None) -> FaceTrack:
    """'Not this person': the track leaves its person for good and is grouped again without them."""
    _grouping_lock()
    if track.person_id is None:
        raise ValidationError("This face is not assigned to anyone, so there is no person to take it from.")
    old = track.person_id
    TrackRejection.objects.get_or_create(track=track, person_id=old, defaults={"by": by})
    track.person, track.merged_from, track.assignment = None, None, FaceTrack.Assignment.AUTO
    track.save(update_fields=["person", "merged_from", "assignment", "updated_at"])
    changed = _tracks_assign(tracks=[track])
    _covers_refresh({old} | changed)
    track.refresh_from_db()
    return track


@transaction.atomic
def person_delete(*, person: Person) -> None:
    """Forget a person (privacy): their tracks, faces and face crops go, and people merged into them."""
    _grouping_lock()
    people = [person.pk, *Person.objects.filter(merged_into=person).values_list("pk", flat=True)]
    chips = list(Face.objects.filter(track__person_id__in=people).values_list("chip", flat=True))
    FaceTrack.objects.filter(person_id__in=people).delete()
    Person.objects.filter(pk__in=people).delete()
    transaction.on_commit(lambda: [default_storage.delete(name) for name in chips])


def asset_faces_delete(*, asset: Asset) -> None:
    """Before an asset is deleted: its tracks and faces go, its people's covers are chosen again,
    people left with nothing are removed, and the crops are deleted once committed."""
    people = set(FaceTrack.objects.filter(asset=asset).exclude(person=None).values_list("person_id", flat=True))
    FaceTrack.objects.filter(asset=asset).delete()
    _people_tidy(people)
    folder = faces_folder(asset.pk)
    transaction.on_commit(lambda: storage_folder_delete(folder))

