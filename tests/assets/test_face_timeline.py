"""The asset page shows the face tracks on its timeline: a row per person, bars that seek the player."""

import re

import pytest

from tests import factories
from tests.assets.test_pages import make_asset

pytestmark = pytest.mark.django_db


def face_rows(html: str) -> list[tuple[str, str]]:
    table = re.search(r'<table class="timeline faces".*?</table>', html, flags=re.S)
    return re.findall(r'<tr data-person-id="(\d*)">\s*<th scope="row">(.*?)</th>', table.group(0), flags=re.S) if table else []


def test_the_timeline_has_a_row_per_person_with_bars_that_seek(client, viewer, owner):
    asset = make_asset(owner)
    asset.duration = 20.0
    asset.save(update_fields=["duration"])
    wang, unnamed = factories.person("Wang Wei"), factories.person("")
    factories.face_track(asset=asset, start=2, end=5, person=wang)
    factories.face_track(asset=asset, start=12, end=15, person=wang)
    factories.face_track(asset=asset, start=6, end=8, person=unnamed)
    factories.face_track(asset=asset, start=9, end=10)  # not grouped with anyone yet
    client.force_login(viewer)
    html = client.get(f"/assets/{asset.pk}/").content.decode()
    rows = face_rows(html)
    assert rows == [(str(wang.pk), f'<a href="/people/{wang.pk}/">Wang Wei</a>'),
                    (str(unnamed.pk), f'<a href="/people/{unnamed.pk}/">Unnamed person {unnamed.pk}</a>'),
                    ("", "Not grouped yet")]
    wang_row = re.search(rf'<tr data-person-id="{wang.pk}">.*?</tr>', html, flags=re.S).group(0)
    bars = re.findall(r'data-seek="([\d.]+)"\s+style="left: ([\d.]+)%; width: ([\d.]+)%;"', wang_row)
    assert bars == [("2.0", "10.0", "15.0"), ("12.0", "60.0", "15.0")]


def test_no_faces_no_face_timeline(client, viewer, owner):
    asset = make_asset(owner)
    client.force_login(viewer)
    assert "Faces on a timeline" not in client.get(f"/assets/{asset.pk}/").content.decode()


def test_library_cards_show_who_is_seen_without_a_query_per_card(client, viewer, owner, django_assert_max_num_queries):
    wang, hidden = factories.person("Wang Wei"), factories.person("Not Shown", hidden=True)
    assets = [make_asset(owner, title=f"clip {index}") for index in range(10)]
    for asset in assets:
        factories.face_track(asset=asset, start=0, end=2, person=wang)
        factories.face_track(asset=asset, start=1, end=2, person=hidden)
    client.force_login(viewer)
    with django_assert_max_num_queries(10):  # one reads the "Contains footage from" badges, one the source filter's choices
        page = client.get("/").content.decode()
    assert page.count(f'<a class="person-chip" href="/people/{wang.pk}/">Wang Wei</a>') == 10
    assert "Not Shown" not in page
