"""The people services: storing a run's faces, grouping on ingest, editors' decisions surviving
a regroup and a reprocess, and forgetting faces (privacy)."""

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from mediahub.assets.services import asset_delete
from mediahub.people import services
from mediahub.people.models import Face, FaceTrack, Person, TrackRejection
from tests.people.embeddings import identity
from tests.people.factories import asset_with_faces, track_result


@pytest.fixture
def rng():
    return np.random.default_rng(42)


@pytest.fixture
def cast(rng):
    """Three identities: Alice, Bob and Carol."""
    return {name: identity(rng) for name in ("alice", "bob", "carol")}


def person_of(asset, index: int = 0) -> int | None:
    return FaceTrack.objects.get(asset=asset, index=index).person_id


def snapshot(asset) -> list:
    tracks = list(FaceTrack.objects.filter(asset=asset).order_by("index").values_list(
        "index", "start", "end", "box", "boxes", "person_id", "assignment", "best_face__time"))
    faces = list(Face.objects.filter(asset=asset).order_by("track__index", "time").values_list(
        "track__index", "time", "box", "score", "sharpness", "chip"))
    return [tracks, faces]


def test_faces_replace_stores_tracks_faces_and_crops(owner, rng, cast):
    asset = asset_with_faces(owner, track_result(cast["alice"], rng, start=2, seconds=3),
                             track_result(cast["bob"], rng, start=0, seconds=2, box=(300, 90, 50, 50)))

    tracks = list(FaceTrack.objects.filter(asset=asset).order_by("index"))
    assert [(t.start, t.end, t.box) for t in tracks] == [(0.0, 2.0, [300, 90, 50, 50]), (2.0, 5.0, [100, 80, 60, 60])]
    assert tracks[1].boxes == [[2.0, 100, 80, 60, 60], [3.0, 101, 80, 60, 60], [4.0, 102, 80, 60, 60]]
    assert Face.objects.filter(asset=asset).count() == 5
    assert tracks[1].best_face.time == 4.0  # the sharpest (equal sizes)
    for face in Face.objects.filter(asset=asset):
        with default_storage.open(face.chip, "rb") as chip:
            assert chip.read(3) == b"\xff\xd8\xff"  # a JPEG
    assert all(t.person_id is None for t in tracks)  # seen once: nobody to group with yet


def test_faces_replace_twice_gives_the_same_rows_and_no_stray_crops(owner, rng, cast):
    tracks = [track_result(cast["alice"], rng), track_result(cast["bob"], rng, box=(300, 90, 50, 50))]
    asset = asset_with_faces(owner, *tracks)
    first = snapshot(asset)
    services.faces_replace(asset=asset, tracks=tracks)
    assert snapshot(asset) == first
    stored = sorted(default_storage.listdir(services.faces_folder(asset.pk))[1])
    assert [f"{services.faces_folder(asset.pk)}/{name}" for name in stored] == sorted(c for c in Face.objects.values_list("chip", flat=True))


def test_tracks_of_one_face_in_several_assets_become_one_person(owner, rng, cast):
    first = asset_with_faces(owner, track_result(cast["alice"], rng), title="Monday")
    second = asset_with_faces(owner, track_result(cast["alice"], rng), title="Tuesday")
    third = asset_with_faces(owner, track_result(cast["alice"], rng), track_result(cast["bob"], rng, box=(300, 90, 50, 50)),
                             title="Wednesday")

    alice = person_of(first)
    assert alice is not None and person_of(second) == alice == person_of(third, 0)
    assert person_of(third, 1) is None  # Bob, seen once, waits
    person = Person.objects.get(pk=alice)
    assert person.cover is not None and person.cover.track.person_id == alice


def test_two_faces_in_one_frame_are_never_one_person(owner, rng, cast):
    asset_with_faces(owner, track_result(cast["alice"], rng), title="Monday")
    # Alice next to a look-alike: the same descriptors, on screen together.
    both = asset_with_faces(owner, track_result(cast["alice"], rng),
                            track_result(cast["alice"], rng, box=(300, 90, 60, 60)), title="Tuesday")
    assert person_of(both, 0) != person_of(both, 1)


@pytest.fixture
def library(owner, rng, cast):
    """Alice in three assets (one person), Bob in two (another)."""
    assets = [asset_with_faces(owner, track_result(cast["alice"], rng), track_result(cast["bob"], rng, box=(300, 90, 50, 50)),
                               title="Monday"),
              asset_with_faces(owner, track_result(cast["alice"], rng), track_result(cast["bob"], rng, box=(300, 90, 50, 50)),
                               title="Tuesday"),
              asset_with_faces(owner, track_result(cast["alice"], rng), title="Wednesday")]
    alice, bob = Person.objects.get(pk=person_of(assets[0], 0)), Person.objects.get(pk=person_of(assets[0], 1))
    assert alice != bob
    return {"assets": assets, "alice": alice, "bob": bob}


def test_names_merges_splits_and_rejections_survive_a_regroup(library, editor):
    alice, bob = library["alice"], library["bob"]
    monday, tuesday, wednesday = library["assets"]
    services.person_rename(person=alice, name="Alice Wang", by=editor)
    services.person_hide(person=bob)
    split_off = services.track_split(track=FaceTrack.objects.get(asset=wednesday, index=0))
    rejected = FaceTrack.objects.get(asset=tuesday, index=0)
    services.track_reject(track=rejected)

    services.people_regroup()

    alice.refresh_from_db()
    assert alice.name == "Alice Wang" and person_of(monday, 0) == alice.pk
    assert Person.objects.get(pk=bob.pk).hidden and person_of(monday, 1) == bob.pk == person_of(tuesday, 1)
    assert person_of(wednesday, 0) == split_off.pk
    assert person_of(tuesday, 0) != alice.pk and TrackRejection.objects.filter(track=rejected, person=alice).exists()


def test_a_merge_survives_a_regroup_and_can_be_undone(library):
    alice, bob = library["alice"], library["bob"]
    monday, tuesday, wednesday = library["assets"]
    with pytest.raises(ValidationError, match="both on screen at 0 s of “Monday”"):
        services.person_merge(person=alice, other=bob)  # side by side in Monday: two people
    carol_like = services.track_split(track=FaceTrack.objects.get(asset=wednesday, index=0))
    services.person_rename(person=carol_like, name="Alice W.")

    merged = services.person_merge(person=alice, other=carol_like)
    assert merged.name == "Alice W."  # the unnamed person takes the other's name
    services.people_regroup()
    assert person_of(wednesday, 0) == alice.pk and Person.objects.get(pk=carol_like.pk).merged_into_id == alice.pk

    services.person_unmerge(person=alice, other=carol_like)
    assert person_of(wednesday, 0) == carol_like.pk and person_of(monday, 0) == alice.pk
    assert Person.objects.get(pk=carol_like.pk).merged_into_id is None


def test_editors_decisions_survive_a_reprocess(library, rng, cast, editor):
    alice = library["alice"]
    monday, tuesday, wednesday = library["assets"]
    services.person_rename(person=alice, name="Alice Wang", by=editor)
    split_off = services.track_split(track=FaceTrack.objects.get(asset=wednesday, index=0))
    services.track_reject(track=FaceTrack.objects.get(asset=tuesday, index=0), by=editor)

    # The face step runs again: new descriptors for the same faces, boxes a little off.
    services.faces_replace(asset=wednesday, tracks=[track_result(cast["alice"], rng, box=(103, 82, 58, 60))])
    services.faces_replace(asset=tuesday, tracks=[track_result(cast["alice"], rng, box=(98, 80, 60, 62)),
                                                  track_result(cast["bob"], rng, box=(300, 90, 50, 50))])
    services.faces_replace(asset=monday, tracks=[track_result(cast["alice"], rng), track_result(cast["bob"], rng, box=(300, 90, 50, 50))])

    wednesday_track = FaceTrack.objects.get(asset=wednesday, index=0)
    assert wednesday_track.person_id == split_off.pk and wednesday_track.assignment == "manual"
    tuesday_track = FaceTrack.objects.get(asset=tuesday, index=0)
    assert tuesday_track.person_id != alice.pk
    assert list(tuesday_track.rejections.values_list("person_id", "by_id")) == [(alice.pk, editor.pk)]
    assert person_of(monday, 0) == alice.pk and Person.objects.get(pk=alice.pk).name == "Alice Wang"


def test_rejecting_an_unassigned_track_says_why(library):
    loner = FaceTrack.objects.filter(person=None).first() or FaceTrack.objects.first()
    FaceTrack.objects.filter(pk=loner.pk).update(person=None)
    loner.refresh_from_db()
    with pytest.raises(ValidationError, match="not assigned to anyone"):
        services.track_reject(track=loner)


def test_deleting_a_person_forgets_their_faces_and_crops(library, django_capture_on_commit_callbacks):
    bob = library["bob"]
    chips = list(Face.objects.filter(track__person=bob).values_list("chip", flat=True))
    assert chips and all(default_storage.exists(chip) for chip in chips)
    with django_capture_on_commit_callbacks(execute=True):
        services.person_delete(person=bob)
    assert not Person.objects.filter(pk=bob.pk).exists()
    assert not Face.objects.filter(chip__in=chips).exists() and not FaceTrack.objects.filter(person_id=bob.pk).exists()
    assert not any(default_storage.exists(chip) for chip in chips)
    assert Face.objects.filter(track__person=library["alice"]).count() == 9  # nobody else's faces went


def test_deleting_an_asset_removes_its_faces_and_crops_and_picks_a_new_cover(library, django_capture_on_commit_callbacks):
    alice = library["alice"]
    cover_asset = Person.objects.get(pk=alice.pk).cover.asset
    folder = services.faces_folder(cover_asset.pk)
    assert default_storage.listdir(folder)[1]
    with django_capture_on_commit_callbacks(execute=True):
        asset_delete(asset=cover_asset)
    assert not default_storage.exists(folder) or not default_storage.listdir(folder)[1]
    alice.refresh_from_db()
    assert alice.cover is not None and alice.cover.asset_id != cover_asset.pk
    assert not Face.objects.filter(asset_id=cover_asset.pk).exists()


def test_regroup_command_puts_a_dropped_track_back_and_says_what_it_did(library, capsys):
    from django.core.management import call_command

    monday = library["assets"][0]
    FaceTrack.objects.filter(asset=monday, index=0).update(person=None)
    call_command("regroup_people")
    assert person_of(monday, 0) == library["alice"].pk
    assert capsys.readouterr().out.strip() == "5 face tracks, 2 people: 1 tracks moved, 0 people new, 0 people removed."


def test_only_described_sightings_become_faces_but_every_sighting_is_on_the_track(owner, rng, cast):
    from dataclasses import replace

    from tests.people.factories import TrackResult

    seen = track_result(cast["alice"], rng, seconds=3)
    blurred = replace(seen.sightings[1], vector=None, chip=None)  # found, but too small to describe
    never_described = TrackResult([replace(s, vector=None, chip=None) for s in track_result(cast["bob"], rng).sightings])
    asset = asset_with_faces(owner, TrackResult([seen.sightings[0], blurred, seen.sightings[2]]), never_described)

    track = FaceTrack.objects.get(asset=asset)  # a track with no described face is left out
    assert [row[0] for row in track.boxes] == [0.0, 1.0, 2.0]
    assert list(track.faces.values_list("time", flat=True)) == [0.0, 2.0]
