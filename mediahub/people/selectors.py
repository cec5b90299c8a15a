"""Reads of people, their appearances and an asset's face tracks."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Lower

from mediahub.assets.models import Asset
from mediahub.people.models import Face, FaceTrack, Person


def _with_counts(people: QuerySet[Person]) -> QuerySet[Person]:
    """face_count (Face rows) and asset_count as correlated subqueries (two COUNT joins would multiply)."""
    faces = Face.objects.filter(track__person=OuterRef("pk")).values("track__person")
    face_count = Coalesce(Subquery(faces.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0))
    assets = FaceTrack.objects.filter(person=OuterRef("pk")).values("person")
    asset_count = Coalesce(Subquery(assets.annotate(n=Count("asset", distinct=True)).values("n"),
                                    output_field=IntegerField()), Value(0))
    return people.select_related("cover").annotate(face_count=face_count, asset_count=asset_count)


def people_list(*, include_hidden: bool = False) -> QuerySet[Person]:
    """People with face_count and asset_count; unnamed first (to be named), then by name.

    Merged-away people are left out (their faces are their new person's); hidden ones unless asked.
    """
    people = Person.objects.filter(merged_into=None)
    if not include_hidden:
        people = people.filter(hidden=False)
    return (_with_counts(people)
            .annotate(named=Case(When(name="", then=Value(0)), default=Value(1), output_field=IntegerField()))
            .order_by("named", Lower("name"), "pk"))


def person_with_counts(*, pk: int) -> Person | None:
    return _with_counts(Person.objects.filter(pk=pk)).first()


def person_get(*, pk: int) -> Person | None:
    return Person.objects.select_related("cover", "merged_into").filter(pk=pk).first()


def person_appearances(*, person: Person) -> QuerySet[FaceTrack]:
    """Every track of the person with its asset and the face standing for it, by asset then time."""
    return (FaceTrack.objects.filter(person=person).select_related("asset", "best_face")
            .order_by("asset__title", "asset_id", "start", "index"))


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


def face_get(*, pk: int) -> Face | None:
    return Face.objects.filter(pk=pk).only("pk", "chip").first()

