"""People pages: the people list, a person's appearances, editors' forms and face crops."""

import re

import numpy as np
import pytest

from mediahub.people import services
from mediahub.people.models import FaceTrack, Person, TrackRejection
from tests.people.embeddings import identity
from tests.people.factories import asset_with_faces, track_result


def make_person(owner, rng, *, count=2, title="Clip", name=""):
    """A person seen in `count` assets (one track of three faces each)."""
    centre = identity(rng)
    assets = [asset_with_faces(owner, track_result(centre, rng, start=4), title=f"{title} {i}") for i in range(count)]
    person = Person.objects.get(pk=FaceTrack.objects.get(asset=assets[0]).person_id)
    if name:
        services.person_rename(person=person, name=name)
    return person, assets


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def test_people_page_lists_unnamed_first_with_face_and_counts(client, viewer, owner, rng):
    named, _ = make_person(owner, rng, name="Ada <Lovelace>", title="Lecture")
    unnamed, _ = make_person(owner, rng, count=3, title="Rally")
    client.force_login(viewer)
    page = client.get("/people/").content.decode()
    assert page.index(f'data-person-id="{unnamed.pk}"') < page.index(f'data-person-id="{named.pk}"')
    assert "Ada &lt;Lovelace&gt;" in page and f"Unnamed person {unnamed.pk}" in page
    assert "9 faces" in page and "3 assets" in page and "6 faces" in page
    assert f'src="/faces/{Person.objects.get(pk=named.pk).cover_id}.jpg"' in page
    assert 'href="/people/"' in page  # in the navigation
    assert 'action="/people/' not in page  # a viewer gets no edit forms


def test_people_page_query_count_does_not_grow_with_people(client, viewer, owner, rng, django_assert_max_num_queries):
    for index in range(6):
        make_person(owner, rng, title=f"Clip {index}")
    client.force_login(viewer)
    with django_assert_max_num_queries(7):
        page = client.get("/people/")
    assert page.status_code == 200 and page.content.decode().count('class="card person') == 6


def test_person_page_shows_every_appearance_and_plays_from_it(client, viewer, owner, rng):
    person, assets = make_person(owner, rng, count=2, title="Speech")
    client.force_login(viewer)
    page = client.get(f"/people/{person.pk}/").content.decode()
    for asset in assets:
        assert f'href="/assets/{asset.pk}/?t=4.0&amp;end=7.0"' in page  # plays the appearance, and stops at its end
        assert asset.title in page
    assert "0:04–0:07" in page
    assert len(re.findall(r'<img class="face" src="/faces/\d+\.jpg"', page)) == 2
    assert "Split off" not in page and "Not this person" not in page


def test_editor_renames_hides_and_shows_with_the_forms(client, editor, owner, rng):
    person, _ = make_person(owner, rng)
    client.force_login(editor)
    page = client.get("/people/").content.decode()
    assert f'action="/people/{person.pk}/rename"' in page and f'action="/people/{person.pk}/hide"' in page

    response = client.post(f"/people/{person.pk}/rename", {"name": "Wang Wei", "next": "/people/"})
    assert response.status_code == 302 and response["Location"] == "/people/"
    assert Person.objects.get(pk=person.pk).name == "Wang Wei"

    client.post(f"/people/{person.pk}/hide", {"hidden": "1"})
    assert f'data-person-id="{person.pk}"' not in client.get("/people/").content.decode()
    assert f'data-person-id="{person.pk}"' in client.get("/people/", {"hidden": 1}).content.decode()
    client.post(f"/people/{person.pk}/hide", {"hidden": "0"})
    assert not Person.objects.get(pk=person.pk).hidden


def test_rename_form_refuses_a_redirect_off_the_site(client, editor, owner, rng):
    person, _ = make_person(owner, rng)
    client.force_login(editor)
    response = client.post(f"/people/{person.pk}/rename", {"name": "X", "next": "https://evil.example/"})
    assert response["Location"] == f"/people/{person.pk}/"


def test_editor_merges_unmerges_splits_and_rejects_from_the_person_page(client, editor, owner, rng):
    ada, ada_assets = make_person(owner, rng, count=3, name="Ada", title="Lecture")
    other, _ = make_person(owner, rng, title="Rally")
    client.force_login(editor)

    page = client.get(f"/people/{other.pk}/").content.decode()
    assert f'<option value="{ada.pk}">Ada</option>' in page
    response = client.post(f"/people/{other.pk}/merge", {"into": ada.pk})
    assert response["Location"] == f"/people/{ada.pk}/"
    page = client.get(f"/people/{ada.pk}/").content.decode()
    assert f'action="/people/{ada.pk}/unmerge/{other.pk}"' in page

    client.post(f"/people/{ada.pk}/unmerge/{other.pk}")
    assert Person.objects.get(pk=other.pk).merged_into_id is None and FaceTrack.objects.filter(person=other).count() == 2

    first, second = FaceTrack.objects.filter(asset__in=ada_assets[:2]).order_by("asset_id")
    client.post(f"/face-tracks/{first.pk}/split")
    first.refresh_from_db()
    assert first.person_id not in (None, ada.pk) and first.assignment == "manual"
    client.post(f"/face-tracks/{second.pk}/reject")
    assert TrackRejection.objects.filter(track=second, person=ada).exists()
    assert FaceTrack.objects.get(pk=second.pk).person_id != ada.pk


def test_merging_two_people_seen_together_shows_why_not(client, editor, owner, rng):
    first, second = identity(rng), identity(rng)
    together = asset_with_faces(owner, track_result(first, rng), track_result(second, rng, box=(300, 80, 60, 60)),
                                title="Debate")
    asset_with_faces(owner, track_result(first, rng), track_result(second, rng, box=(300, 80, 60, 60)), title="Debate 2")
    a, b = (FaceTrack.objects.get(asset=together, index=i).person for i in (0, 1))
    client.force_login(editor)
    response = client.post(f"/people/{a.pk}/merge", {"into": b.pk}, follow=True)
    assert "both on screen at 0 s of “Debate" in response.content.decode()
    assert Person.objects.get(pk=a.pk).merged_into_id is None


def test_delete_button_forgets_the_person(client, editor, owner, rng):
    person, _ = make_person(owner, rng)
    client.force_login(editor)
    assert f'action="/people/{person.pk}/delete"' in client.get(f"/people/{person.pk}/").content.decode()
    response = client.post(f"/people/{person.pk}/delete")
    assert response["Location"] == "/people/" and not Person.objects.filter(pk=person.pk).exists()


def test_face_crops_are_served_to_signed_in_viewers(client, viewer, owner, rng):
    person, _ = make_person(owner, rng)
    cover = Person.objects.get(pk=person.pk).cover
    assert client.get(f"/faces/{cover.pk}.jpg").status_code == 302  # signed out: to the login page
    client.force_login(viewer)
    response = client.get(f"/faces/{cover.pk}.jpg")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"
    assert client.get("/faces/999999.jpg").status_code == 404


def test_person_page_query_count_does_not_grow_with_appearances(client, viewer, owner, rng, django_assert_max_num_queries):
    person, _ = make_person(owner, rng, count=8)
    client.force_login(viewer)
    with django_assert_max_num_queries(9):
        page = client.get(f"/people/{person.pk}/")
    assert page.content.decode().count("data-track-id=") == 8
