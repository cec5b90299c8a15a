"""Reads of people, their appearances and an asset's face tracks.

The `search_*` readers serve search and the asset page (who is where). Readers taking `user` apply the
rights policy (mediahub.assets.selectors) for viewers: a face in an asset the policy hides from them is
not counted, shown or served, and a person seen only in such assets is not listed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, JSONObject, Lower

from mediahub.assets.models import Asset
from mediahub.assets.selectors import assets_visible, rights_policy_applies
from mediahub.people.models import Face, FaceTrack, Person

SEARCH_MERGE_DEPTH_LIMIT = 50  # a merged_into chain longer than this is a cycle left by a bad edit: stop following it


def _assets_seen_by(user) -> QuerySet[Asset] | None:
    """The assets whose faces `user` may see, or None for all of them (the rights policy doesn't apply)."""
    return assets_visible(user=user) if user is not None and rights_policy_applies(user=user) else None


def _seen_by(people: QuerySet[Person], user) -> QuerySet[Person]:
    """Without the people every one of whose appearances is in assets hidden from `user`."""
    assets = _assets_seen_by(user)
    if assets is None:
        return people
    tracks = FaceTrack.objects.filter(person=OuterRef("pk"))
    return people.filter(~Exists(tracks) | Exists(tracks.filter(asset__in=assets)))


def _with_counts(people: QuerySet[Person], user) -> QuerySet[Person]:
    """face_count (Face rows) and asset_count as correlated subqueries (two COUNT joins would multiply),
    and shown_cover_id: the cover face, unless it is in an asset hidden from `user`."""
    faces = Face.objects.filter(track__person=OuterRef("pk"))
    tracks = FaceTrack.objects.filter(person=OuterRef("pk"))
    cover = F("cover_id")
    if (assets := _assets_seen_by(user)) is not None:
        faces, tracks = faces.filter(asset__in=assets), tracks.filter(asset__in=assets)
        cover = Subquery(Face.objects.filter(pk=OuterRef("cover_id"), asset__in=assets).values("pk"))
    face_count = Coalesce(Subquery(faces.values("track__person").annotate(n=Count("pk")).values("n"),
                                   output_field=IntegerField()), Value(0))
    asset_count = Coalesce(Subquery(tracks.values("person").annotate(n=Count("asset", distinct=True)).values("n"),
                                    output_field=IntegerField()), Value(0))
    return people.annotate(face_count=face_count, asset_count=asset_count, shown_cover_id=cover)


def people_list(*, include_hidden: bool = False, user=None) -> QuerySet[Person]:
    """People with face_count and asset_count; unnamed first (to be named), then by name.

    Merged-away people are left out (their faces are their new person's); hidden ones unless asked.
    """
    people = _seen_by(Person.objects.filter(merged_into=None), user)
    if not include_hidden:
        people = people.filter(hidden=False)
    return (_with_counts(people, user)
            .annotate(named=Case(When(name="", then=Value(0)), default=Value(1), output_field=IntegerField()))
            .order_by("named", Lower("name"), "pk"))


def person_with_counts(*, pk: int, user=None) -> Person | None:
    return _with_counts(Person.objects.filter(pk=pk), user).first()


def person_get(*, pk: int, user=None) -> Person | None:
    """The person, unless every appearance of theirs is in assets hidden from `user`."""
    return _seen_by(Person.objects.select_related("merged_into"), user).filter(pk=pk).first()


def person_appearances(*, person: Person, user=None) -> QuerySet[FaceTrack]:
    """Every track of the person that `user` may see, with its asset and the face standing for it, by
    asset then time."""
    tracks = FaceTrack.objects.filter(person=person)
    if (assets := _assets_seen_by(user)) is not None:
        tracks = tracks.filter(asset__in=assets)
    return tracks.select_related("asset", "best_face").order_by("asset__title", "asset_id", "start", "index")


def person_merged(*, person: Person) -> QuerySet[Person]:
    """The people merged into this one (each can be un-merged)."""
    return Person.objects.filter(merged_into=person).order_by("name", "pk")


def merge_candidates(*, person: Person) -> QuerySet[Person]:
    """People this one can be merged with: everyone else not merged away, named first."""
    return (Person.objects.filter(merged_into=None).exclude(pk=person.pk)
            .annotate(named=Case(When(name="", then=Value(1)), default=Value(0), output_field=IntegerField()))
            .order_by("named", "name", "pk"))


def asset_face_tracks(*, asset: Asset) -> QuerySet[FaceTrack]:
    """The asset's face tracks in order, with their people."""
    return FaceTrack.objects.filter(asset=asset).select_related("person").order_by("index")


def face_get(*, pk: int, user=None) -> Face | None:
    """The face (its crop), unless it is in an asset hidden from `user`."""
    faces = Face.objects.filter(pk=pk)
    if (assets := _assets_seen_by(user)) is not None:
        faces = faces.filter(asset__in=assets)
    return faces.only("pk", "chip").first()


@dataclass(frozen=True)
class SearchPerson:
    """A person search can narrow to: the id and name shown, and every person id whose tracks count
    as theirs (their own and those of the people merged into them)."""

    id: int
    name: str
    track_people: tuple[int, ...]


def _search_absorbed(root: int, merged_into: dict[int, int]) -> tuple[int, ...]:
    """`root` and every person whose merged_into chain ends at it."""
    children = defaultdict(list)
    for child, parent in merged_into.items():
        children[parent].append(child)
    found, stack = [root], [root]
    while stack:
        for child in children[stack.pop()]:
            if child not in found:
                found.append(child)
                stack.append(child)
    return tuple(found)


def search_person_resolve(*, person_id: int) -> SearchPerson | None:
    """The person a `person` search filter means: merged people resolve to the person they were
    merged into. None when there is no such person or the person is hidden."""
    rows = {pk: (name, hidden, parent) for pk, name, hidden, parent in
            Person.objects.filter(Q(pk=person_id) | Q(merged_into__isnull=False))
            .values_list("id", "name", "hidden", "merged_into_id")}
    if person_id not in rows:
        return None
    merged_into = {pk: parent for pk, (_, _, parent) in rows.items() if parent is not None}
    root = person_id
    for _ in range(SEARCH_MERGE_DEPTH_LIMIT):
        if root not in merged_into:
            break
        root = merged_into[root]
    if root not in rows:
        root_row = Person.objects.filter(pk=root).values_list("name", "hidden").first()
        if root_row is None:
            return None
        rows[root] = (*root_row, None)
    name, hidden, _ = rows[root]
    if hidden:
        return None
    return SearchPerson(id=root, name=name, track_people=_search_absorbed(root, merged_into))


def search_named_people(*, user=None) -> list[SearchPerson]:
    """Named, visible people not merged into anyone, with the people merged into them (one query); for a
    viewer, not those seen only in assets the rights policy hides from them."""
    rows = list(_seen_by(Person.objects.filter(~Q(name="") | Q(merged_into__isnull=False)), user)
                .values_list("id", "name", "hidden", "merged_into_id"))
    merged_into = {pk: parent for pk, _, _, parent in rows if parent is not None}
    return [SearchPerson(id=pk, name=name.strip(), track_people=_search_absorbed(pk, merged_into))
            for pk, name, hidden, parent in rows if name.strip() and not hidden and parent is None]


@dataclass(frozen=True)
class SearchTrackOnScreen:
    asset_id: int
    start: float
    end: float
    person_id: int | None  # the person shown (merged people resolved one step), None when unassigned or hidden
    person_name: str


def search_tracks_on_screen(*, asset_ids) -> list[SearchTrackOnScreen]:
    """The face tracks of these assets with the person each shows, in one query."""
    tracks = (FaceTrack.objects.filter(asset_id__in=list(asset_ids))
              .select_related("person", "person__merged_into").order_by("asset_id", "start", "index"))
    return [_search_on_screen(track) for track in tracks]


def search_assets_with_people(*, asset_ids) -> dict[int, Asset]:
    """The assets by id, each with `people_on_screen`: its face tracks of people (list of SearchTrackOnScreen),
    read in the same query as the assets."""
    tracks = (FaceTrack.objects.filter(asset_id=OuterRef("pk"), person__isnull=False).order_by("start", "index")
              .values(json=JSONObject(start="start", end="end", id="person_id", name="person__name",
                                      hidden="person__hidden", root="person__merged_into_id",
                                      root_name="person__merged_into__name", root_hidden="person__merged_into__hidden")))
    assets = Asset.objects.annotate(face_tracks_json=ArraySubquery(tracks)).in_bulk(list(asset_ids))
    for asset in assets.values():
        asset.people_on_screen = [_search_on_screen_from_json(asset.pk, row) for row in asset.face_tracks_json]
    return assets


def _search_on_screen_from_json(asset_id: int, row: dict) -> SearchTrackOnScreen:
    person_id, name, hidden = row["id"], row["name"], row["hidden"]
    if row["root"] is not None:  # merged into another person: shown as that person
        person_id, name, hidden = row["root"], row["root_name"], row["root_hidden"]
    if hidden:
        return SearchTrackOnScreen(asset_id, row["start"], row["end"], None, "")
    return SearchTrackOnScreen(asset_id, row["start"], row["end"], person_id, name)


def search_people_in_assets(*, asset_ids) -> dict[int, list[tuple[int, str]]]:
    """(id, name) of the named people seen in each asset, by name (one query)."""
    people: dict[int, dict[int, str]] = defaultdict(dict)
    for track in search_tracks_on_screen(asset_ids=asset_ids):
        if track.person_id is not None and track.person_name:
            people[track.asset_id][track.person_id] = track.person_name
    return {asset_id: sorted(named.items(), key=lambda item: (item[1].lower(), item[0]))
            for asset_id, named in people.items()}


def _search_on_screen(track: FaceTrack) -> SearchTrackOnScreen:
    person = track.person
    if person is not None and person.merged_into is not None:
        person = person.merged_into
    if person is None or person.hidden:
        return SearchTrackOnScreen(track.asset_id, track.start, track.end, None, "")
    return SearchTrackOnScreen(track.asset_id, track.start, track.end, person.pk, person.name)
