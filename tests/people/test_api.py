"""The people API (CONTRACT.md section 3): answer shapes, edits and errors as sentences."""

import numpy as np
import pytest

from mediahub.people import services
from mediahub.people.models import FaceTrack, Person, TrackRejection
from tests.people.embeddings import identity
from tests.people.factories import asset_with_faces, track_result


@pytest.fixture
def people(owner):
    """Alice in three assets, Bob in two (side by side with Alice in one), and a person merged into Alice."""
    rng = np.random.default_rng(5)
    alice, bob = identity(rng), identity(rng)
    side = dict(box=(300, 90, 50, 50))
    monday = asset_with_faces(owner, track_result(alice, rng, start=1), track_result(bob, rng, **side), title="Monday")
    tuesday = asset_with_faces(owner, track_result(alice, rng), title="Tuesday")
    wednesday = asset_with_faces(owner, track_result(alice, rng), track_result(bob, rng, start=10, **side),
                                 title="Wednesday")
    thursday = asset_with_faces(owner, track_result(alice, rng), title="Thursday")
    alice_person = Person.objects.get(pk=FaceTrack.objects.get(asset=monday, index=1).person_id)
    bob_person = Person.objects.get(pk=FaceTrack.objects.get(asset=monday, index=0).person_id)
    merged = services.track_split(track=FaceTrack.objects.get(asset=thursday, index=0))
    services.person_merge(person=alice_person, other=merged)
    return {"alice": alice_person, "bob": bob_person, "merged": merged,
            "assets": {"monday": monday, "tuesday": tuesday, "wednesday": wednesday, "thursday": thursday}}


def test_asset_faces_lists_tracks_with_their_people(viewer_api, people):
    monday = people["assets"]["monday"]
    response = viewer_api.get(f"/api/assets/{monday.pk}/faces")
    assert response.status_code == 200
    faces = response.json()["faces"]
    assert [(f["person_id"], f["start"], f["end"], f["box"]) for f in faces] == [
        (people["bob"].pk, 0.0, 3.0, [300, 90, 50, 50]), (people["alice"].pk, 1.0, 4.0, [100, 80, 60, 60])]
    assert all(set(face) >= {"person_id", "person_name", "start", "end", "box"} for face in faces)


def test_a_track_nobody_is_grouped_with_has_no_person(viewer_api, owner):
    rng = np.random.default_rng(6)
    asset = asset_with_faces(owner, track_result(identity(rng), rng), title="Once")
    assert viewer_api.get(f"/api/assets/{asset.pk}/faces").json()["faces"][0]["person_id"] is None


def test_people_list_puts_unnamed_first_and_counts_faces_and_assets(viewer_api, people):
    services.person_rename(person=people["alice"], name="Alice Wang")
    body = viewer_api.get("/api/people").json()
    assert body["count"] == 2  # the merged-away person is part of Alice now
    bob, alice = body["results"]
    assert (bob["id"], bob["name"], bob["face_count"], bob["asset_count"]) == (people["bob"].pk, "", 6, 2)
    assert (alice["id"], alice["name"], alice["face_count"], alice["asset_count"]) == (people["alice"].pk, "Alice Wang", 12, 4)
    thumbnail = viewer_api.get(alice["thumbnail"])
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"


def test_people_list_pages_and_refuses_a_bad_page(viewer_api, people):
    assert viewer_api.get("/api/people", {"page": 2}).json()["results"] == []
    response = viewer_api.get("/api/people", {"page": "first"})
    assert response.status_code == 400 and "page must be a whole number" in response.json()["detail"]


def test_patch_renames_and_hides(editor_api, viewer_api, people):
    alice = people["alice"]
    response = editor_api.patch(f"/api/people/{alice.pk}", {"name": "  Alice Wang "}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Alice Wang"
    assert response.json()["face_count"] == 12
    response = editor_api.patch(f"/api/people/{alice.pk}", {"hidden": True}, format="json")
    assert response.json()["hidden"] is True
    assert [p["id"] for p in viewer_api.get("/api/people").json()["results"]] == [people["bob"].pk]


@pytest.mark.parametrize("body, detail", [
    ({"nickname": "Al"}, "nickname: cannot be changed here"),
    ({}, "Send the name or hidden flag"),
    ({"name": "x" * 201}, "name: Ensure this field has no more than 200 characters."),
    ({"hidden": "perhaps"}, "hidden: Must be a valid boolean."),
])
def test_patch_refuses_bad_bodies_with_a_sentence(editor_api, people, body, detail):
    response = editor_api.patch(f"/api/people/{people['alice'].pk}", body, format="json")
    assert response.status_code == 400 and detail in response.json()["detail"]
    assert Person.objects.get(pk=people["alice"].pk).name == ""


def test_merge_answers_the_merged_person(editor_api, people, owner):
    rng = np.random.default_rng(9)
    carol = identity(rng)
    asset_with_faces(owner, track_result(carol, rng), title="Friday")
    asset_with_faces(owner, track_result(carol, rng), title="Saturday")
    carol_person = Person.objects.exclude(pk__in=[people["alice"].pk, people["bob"].pk, people["merged"].pk]).get()
    response = editor_api.post(f"/api/people/{people['bob'].pk}/merge", {"other_id": carol_person.pk}, format="json")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["face_count"], response.json()["asset_count"]) == (people["bob"].pk, 12, 4)


def test_merge_refuses_two_people_seen_together(editor_api, people):
    response = editor_api.post(f"/api/people/{people['alice'].pk}/merge", {"other_id": people["bob"].pk}, format="json")
    assert response.status_code == 400
    assert "are both on screen at" in response.json()["detail"] and "“Monday”" in response.json()["detail"]
    assert FaceTrack.objects.filter(person=people["bob"]).count() == 2


@pytest.mark.parametrize("body, status, detail", [
    ({}, 400, "Send {\"other_id\": <person id>}"),
    ({"other_id": "bob"}, 400, "other_id must be a person's id"),
    ({"other_id": 999999}, 404, "There is no other person 999999"),
])
def test_merge_refuses_a_bad_other_id(editor_api, people, body, status, detail):
    response = editor_api.post(f"/api/people/{people['alice'].pk}/merge", body, format="json")
    assert response.status_code == status and detail in response.json()["detail"]


def test_merging_a_person_with_themselves_is_refused(editor_api, people):
    response = editor_api.post(f"/api/people/{people['alice'].pk}/merge", {"other_id": people["alice"].pk}, format="json")
    assert response.status_code == 400 and "merged with themselves" in response.json()["detail"]


def test_unmerge_gives_the_merged_person_their_tracks_back(editor_api, people):
    merged = people["merged"]
    assert editor_api.get(f"/api/people/{merged.pk}").json()["face_count"] == 0  # their faces are Alice's now
    response = editor_api.post(f"/api/people/{people['alice'].pk}/unmerge", {"other_id": merged.pk}, format="json")
    assert response.status_code == 200 and response.json()["id"] == merged.pk and response.json()["face_count"] == 3
    again = editor_api.post(f"/api/people/{people['alice'].pk}/unmerge", {"other_id": merged.pk}, format="json")
    assert again.status_code == 400 and "was not merged into" in again.json()["detail"]


def test_split_and_reject_a_track(editor_api, people):
    tracks = list(FaceTrack.objects.filter(person=people["alice"], merged_from=None).order_by("asset_id"))
    response = editor_api.post(f"/api/face-tracks/{tracks[0].pk}/split")
    assert response.status_code == 201 and response.json()["face_count"] == 3
    assert FaceTrack.objects.get(pk=tracks[0].pk).person_id == response.json()["id"]

    response = editor_api.post(f"/api/face-tracks/{tracks[1].pk}/reject")
    assert response.status_code == 200 and response.json()["person_id"] != people["alice"].pk
    assert TrackRejection.objects.filter(track=tracks[1], person=people["alice"]).exists()


def test_delete_forgets_the_person(editor_api, viewer_api, people):
    response = editor_api.delete(f"/api/people/{people['bob'].pk}")
    assert response.status_code == 204
    assert not FaceTrack.objects.filter(asset=people["assets"]["monday"], index=0).exists()
    assert people["bob"].pk not in [p["id"] for p in viewer_api.get("/api/people").json()["results"]]


@pytest.mark.parametrize("method, path", [
    ("get", "/api/people/999999"), ("patch", "/api/people/999999"), ("delete", "/api/people/999999"),
    ("post", "/api/people/999999/merge"), ("post", "/api/face-tracks/999999/split"),
    ("post", "/api/face-tracks/999999/reject"), ("get", "/api/assets/999999/faces"),
])
def test_unknown_ids_are_404_with_a_sentence(editor_api, db, method, path):
    response = getattr(editor_api, method)(path, {"name": "x"} if method == "patch" else None, format="json")
    assert response.status_code == 404 and response.json()["detail"].startswith("There is no ")


def test_a_viewer_is_refused_edits_with_a_sentence(viewer_api, people):
    response = viewer_api.patch(f"/api/people/{people['alice'].pk}", {"name": "X"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == ("Only editors and admins can name, merge, split or hide people; you are a viewer. "
                                         "Ask an admin to give you the editor role.")


def test_the_openapi_description_lists_the_people_endpoints(viewer_api):
    paths = viewer_api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for path in ("/api/assets/{id}/faces", "/api/people", "/api/people/{id}", "/api/people/{id}/merge",
                 "/api/people/{id}/unmerge", "/api/face-tracks/{id}/split", "/api/face-tracks/{id}/reject"):
        assert path in paths, path


@pytest.mark.parametrize("method, path, body", [
    ("get", f"/api/people/{10**20}", None),
    ("post", "/api/people/1/merge", {"other_id": 10**20}),
    ("post", f"/api/face-tracks/{10**20}/reject", None),
])
def test_ids_too_large_for_the_database_are_not_found_not_errors(editor_api, people, method, path, body):
    response = getattr(editor_api, method)(path.replace("/1/", f"/{people['alice'].pk}/"), body, format="json")
    assert response.status_code in (400, 404) and response.json()["detail"]
