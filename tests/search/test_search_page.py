"""The search page: moment cards, notices, filters, errors, and a bounded number of queries."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def card_spans(html: str) -> list[tuple[int, float, float]]:
    return [(int(a), float(s), float(e)) for a, s, e in
            re.findall(r'class="moment" data-asset-id="(\d+)" data-start="([\d.]+)" data-end="([\d.]+)"', html)]


def test_the_search_page_needs_a_login(client):
    response = client.get("/search/", {"q": "circle"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_every_page_has_the_search_box(signed_in, library):
    page = signed_in.get(f"/assets/{library.assets['harbour.mp4'].pk}/").content.decode()
    assert re.search(r'<form[^>]*action="/search/"', page) and 'name="q"' in page


def test_a_chinese_query_shows_the_matching_moments_as_cards(signed_in, library):
    response = signed_in.get("/search/", {"q": "红色圆形"})
    assert response.status_code == 200
    html = response.content.decode()
    expected = library.ranges(shape="circle", colour="red")
    found = card_spans(html)[:len(expected)]
    for asset, start, end in expected:
        assert any(a == asset and abs(s - start) <= 1 and abs(e - end) <= 1 for a, s, e in found), (expected, found)
    assert "Harbour at dawn" in html and "Council meeting" in html
    assert 'data-action="relevant"' in html and "More like this" in html
    assert re.search(r'class="score" title="looks like the query [\d.]+', html)  # why it ranked there, on hover


def test_a_card_names_its_moment_and_links_to_it_and_a_still_shows_no_time(signed_in, library):
    page = BeautifulSoup(signed_in.get("/search/", {"q": "an orange star"}).content, "html.parser")
    cards = page.select("li.moment")
    poster = library.assets["poster.png"]
    still = next(card for card in cards if card["data-asset-id"] == str(poster.pk))
    assert still.select_one(".range").get_text() == "Still image"
    assert still["data-label"] == "Campaign poster · Still image" and still["data-href"] == f"/assets/{poster.pk}/"
    assert not re.search(r"\d:\d\d|\d\.\d s", still.get_text())  # no time at all: not "0.0–0.0 s", not "0:00"
    video = next(card for card in cards if card["data-kind"] == "video")
    start, end = float(video["data-start"]), float(video["data-end"])
    seconds = [int(t) for t in (start, end)]
    shown = "–".join(f"{s // 60}:{s % 60:02d}" for s in seconds)
    assert video.select_one(".range").get_text() == shown
    assert video.select_one("button.play")["aria-label"] == f"Play {video.select_one('a.title').get_text()} · {shown}"
    link = urlsplit(video.select_one("a.title")["href"])
    assert link.path == f"/assets/{video['data-asset-id']}/" and parse_qs(link.query) == {"t": [str(start)], "end": [str(end)]}
    dialog = page.select_one("dialog#moment-player")
    assert [button.get_text() for button in dialog.select(".moment-controls button")] == ["Replay moment", "Play on"]


def test_a_query_without_a_good_match_says_so(signed_in, library):
    html = signed_in.get("/search/", {"q": "a blue star on an orange background"}).content.decode()
    assert "No footage matches well; the closest results are below." in html


def test_filters_apply_and_a_bad_filter_is_explained(signed_in, library):
    html = signed_in.get("/search/", {"q": "a star", "kind": "image"}).content.decode()
    assert {a for a, _, _ in card_spans(html)} == {library.assets["poster.png"].pk}
    response = signed_in.get("/search/", {"q": "a star", "tag": "unicorn"})
    assert response.status_code == 400
    assert "There is no tag named &#x27;unicorn&#x27;" in response.content.decode()


def test_more_like_this_from_a_card(signed_in, library):
    harbour = library.assets["harbour.mp4"]
    html = signed_in.get("/search/", {"similar": harbour.pk, "t": 8}).content.decode()
    assert "Moments that look like Harbour at dawn at 0:08." in html
    assert card_spans(html)[0][0] == harbour.pk


def test_the_query_is_escaped(signed_in, library):
    html = signed_in.get("/search/", {"q": "<script>alert(1)</script> circle"}).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_pages_of_results(signed_in, library):
    first = card_spans(signed_in.get("/search/", {"q": "circle"}).content.decode())
    assert len(first) == len(library.ranges(shape="circle")) < 20
    assert card_spans(signed_in.get("/search/", {"q": "circle", "page": 2}).content.decode()) == []


def test_the_search_page_runs_a_bounded_number_of_queries(signed_in, library, django_assert_max_num_queries):
    signed_in.get("/search/", {"q": "warm up the query cache"})
    # 23: two of them read shots (descriptions matching the query; the shots around the scored seconds),
    # one the source filter's choices.
    with django_assert_max_num_queries(23):
        response = signed_in.get("/search/", {"q": "circle", "tag": "circle"})
    assert len(card_spans(response.content.decode())) >= 6
