"""The search page with people: the person filter, a name in the query, who is on each card, bounded queries."""

from __future__ import annotations

import re

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def wang(library):
    """Wang Wei is on screen for the red circle on blue (harbour) and nowhere else."""
    wang = factories.person("Wang Wei")
    (asset_id, start, end), = library.ranges(shape="circle", colour="red", background="blue")
    factories.face_track(asset=library.assets["harbour.mp4"], start=start, end=end, person=wang)
    factories.face_track(asset=library.assets["harbour.mp4"], start=start, end=end)  # someone not grouped yet
    return wang


def cards(html: str) -> list[tuple[int, str]]:
    """(asset id, the card's HTML) of each result card, in order."""
    return [(int(a), body) for a, body in re.findall(r'<li class="moment" data-asset-id="(\d+)"(.*?)</li>\s*(?=<li class="moment"|</ol>)',
                                                    html, flags=re.S)]


def test_cards_show_the_named_people_on_screen_with_a_link_to_them(signed_in, library, wang):
    html = signed_in.get("/search/", {"q": "a red circle"}).content.decode()
    found = cards(html)
    harbour, council = library.assets["harbour.mp4"].pk, library.assets["council.mp4"].pk
    harbour_card = next(body for a, body in found if a == harbour)
    assert re.search(rf'<a class="person-chip" href="/people/{wang.pk}/">Wang Wei</a>', harbour_card)
    council_card = next(body for a, body in found if a == council)
    assert "person-chip" not in council_card
    assert html.count('class="person-chip"') == 1  # the face nobody was grouped with has no chip


def test_the_person_select_lists_named_people_and_keeps_the_choice(signed_in, library, wang):
    factories.person("Hidden Person", hidden=True)
    factories.person("")  # not named yet: not a choice
    html = signed_in.get("/search/", {"q": "circle", "person": wang.pk}).content.decode()
    select = re.search(r'<select name="person">(.*?)</select>', html, flags=re.S).group(1)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select) == ["anyone", "Wang Wei"]
    assert f'<option value="{wang.pk}" selected>' in select
    assert {a for a, _ in cards(html)} == {library.assets["harbour.mp4"].pk}  # a ?person= link narrows


def test_a_bad_person_link_is_explained(signed_in, library):
    response = signed_in.get("/search/", {"q": "circle", "person": 999999})
    assert response.status_code == 400 and "There is no person 999999" in response.content.decode()


def test_a_query_naming_a_person_says_it_was_narrowed_to_them(signed_in, library, wang):
    html = signed_in.get("/search/", {"q": "Wang Wei circle"}).content.decode()
    assert "Recognised Wang Wei in the query" in html and f'href="/people/{wang.pk}/"' in html
    assert {a for a, _ in cards(html)} == {library.assets["harbour.mp4"].pk}


def test_people_on_cards_cost_no_extra_queries(signed_in, library, wang, django_assert_max_num_queries):
    signed_in.get("/search/", {"q": "a red circle"})  # warm up: the model and the background sample
    for params in ({"q": "circle", "tag": "circle"}, {"q": "Wang Wei circle"}, {"q": "circle", "person": wang.pk},
                   {"q": "Wang Wei"}):
        with django_assert_max_num_queries(23):  # two read shots (descriptions; shots around the seconds), one the source filter's choices
            response = signed_in.get("/search/", params)
        assert response.status_code == 200 and cards(response.content.decode()), params
