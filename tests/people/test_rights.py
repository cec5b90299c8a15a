"""The rights policy on people: a viewer from whom it hides embargoed and do-not-use footage sees no face,
appearance, count or name that only such footage holds; editors still see everything."""

import re
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from mediahub.assets.models import Asset
from mediahub.people import services
from mediahub.people.models import Face, FaceTrack, Person
from tests.assets.test_rights_policy import hide
from tests.people.embeddings import identity
from tests.people.factories import asset_with_faces, track_result


@pytest.fixture
def people(owner):
    """A minister seen in a free clip and in an embargoed one, and a witness seen only in two clips marked
    do not use (grouping makes a person of two tracks or more); both named."""
    rng = np.random.default_rng(11)
    minister, witness = identity(rng), identity(rng)
    free = asset_with_faces(owner, track_result(minister, rng, start=2), title="Press conference")
    embargoed = asset_with_faces(owner, track_result(minister, rng, start=5, seconds=6), title="Budget leak")
    secret = [asset_with_faces(owner, track_result(witness, rng, start=1), title=f"Witness statement {n}")
              for n in (1, 2)]
    Asset.objects.filter(pk=embargoed.pk).update(embargo_until=timezone.now() + timedelta(days=2))
    Asset.objects.filter(pk__in=[a.pk for a in secret]).update(rights_status=Asset.Rights.DO_NOT_USE)
    found = {}
    for name, asset in (("Minister Li", free), ("Secret Witness", secret[0])):
        found[name] = Person.objects.get(pk=FaceTrack.objects.get(asset=asset).person_id)
        services.person_rename(person=found[name], name=name)
    assert FaceTrack.objects.get(asset=embargoed).person_id == found["Minister Li"].pk
    # The cover is the minister's best face, from the embargoed clip (more and sharper sightings).
    Person.objects.filter(pk=found["Minister Li"].pk).update(cover=Face.objects.filter(asset=embargoed).first())
    hide(embargoed=True, do_not_use=True)
    return found, {"free": free, "embargoed": embargoed, "secret": secret}


def face_ids(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r"/faces/(\d+)\.jpg", page)}


def test_a_viewer_sees_only_faces_and_people_of_footage_they_may_see(client, viewer, people):
    found, assets = people
    minister, witness = found["Minister Li"], found["Secret Witness"]
    free_faces = set(Face.objects.filter(asset=assets["free"]).values_list("pk", flat=True))
    client.force_login(viewer)

    listing = client.get("/people/").content.decode()
    assert "Minister Li" in listing and "Secret Witness" not in listing
    assert "1 asset" in listing and "2 assets" not in listing
    assert face_ids(listing) <= free_faces  # the embargoed cover is not shown

    detail = client.get(f"/people/{minister.pk}/").content.decode()
    assert "Press conference" in detail and "Budget leak" not in detail
    assert face_ids(detail) and face_ids(detail) <= free_faces
    assert client.get(f"/people/{witness.pk}/").status_code == 404

    hidden_faces = Face.objects.filter(asset__in=[assets["embargoed"], *assets["secret"]])
    assert all(client.get(f"/faces/{face.pk}.jpg").status_code == 404 for face in hidden_faces)
    assert client.get(f"/faces/{min(free_faces)}.jpg").status_code == 200

    api = client.get("/api/people").json()["results"]
    assert [(p["name"], p["asset_count"], p["thumbnail"]) for p in api] == [("Minister Li", 1, None)]
    assert client.get(f"/api/people/{witness.pk}").status_code == 404
    assert "Secret Witness" not in client.get("/search/").content.decode()  # not among the person filter's choices


def test_editors_still_see_every_face_and_person(editor_api, people):
    found, _ = people
    listed = {p["name"]: p for p in editor_api.get("/api/people").json()["results"]}
    assert set(listed) == {"Minister Li", "Secret Witness"}
    assert listed["Minister Li"]["asset_count"] == 2
    cover = Person.objects.get(pk=found["Minister Li"].pk).cover_id
    assert listed["Minister Li"]["thumbnail"].endswith(f"/faces/{cover}.jpg")
