"""The briefs pages over the indexed test-pattern library: the list with its new-brief form, and the
board (beats, their moments as playable cards, the owner's controls as plain form posts)."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from mediahub.assets.models import Asset
from mediahub.briefs import services
from mediahub.briefs.models import Beat, Brief
from mediahub.search.models import Feedback
from tests.briefs.test_brief_api import EIGHT_BEATS_EN
from tests.search.test_search_api import matches

pytestmark = pytest.mark.django_db

OWNER_FORMS = ("rename", "filters", "delete", "beats/0/text", "beats/0/pick", "beats/0/unpick", "beats/0/similar")


def title_of(asset_id: int) -> str:
    return Asset.objects.get(pk=asset_id).title


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def board_of(client, brief: Brief) -> BeautifulSoup:
    response = client.get(f"/briefs/{brief.pk}/")
    assert response.status_code == 200
    return soup_of(response)


def span_of(card) -> tuple[int, float, float]:
    return int(card["data-asset-id"]), float(card["data-start"]), float(card["data-end"])


def messages_of(page: BeautifulSoup) -> list[str]:
    return [li.get_text(" ", strip=True) for li in page.select(".messages li")]


def page_forms(page: BeautifulSoup) -> list[str]:
    """The actions of the page's post forms, bar signing out."""
    return [form["action"] for form in page.select("main form[method=post]")]


def test_a_viewer_makes_a_brief_through_the_form_and_opens_its_board(viewer, library):
    client = signed_in(viewer)
    listing = soup_of(client.get("/briefs/"))
    assert listing.select_one("header nav a[href='/briefs/']").get_text() == "Briefs"
    assert "one beat per line; english or chinese" in listing.select_one("#brief-text-hint").get_text().lower()
    text = "\n".join(beat for beat, _ in EIGHT_BEATS_EN[:2]) + "\n黑色背景上的白色十字"
    response = client.post("/briefs/", {"title": "Flood package", "text": text, "per_beat": "4"})
    brief = Brief.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/briefs/{brief.pk}/"
    assert (brief.owner, brief.per_beat) == (viewer, 4)

    page = board_of(client, brief)
    assert page.h1.get_text() == "Flood package"
    assert messages_of(page) == ["“Flood package”: 3 beats, each searched."]
    rows = page.select("li.beat")
    assert [row.select_one(".beat-text .text").get_text() for row in rows] == text.splitlines()
    scenes = [EIGHT_BEATS_EN[0][1], EIGHT_BEATS_EN[1][1], EIGHT_BEATS_EN[2][1]]
    for row, scene in zip(rows, scenes):
        cards = row.select("li.moment")
        assert 1 <= len(cards) <= 4
        assert any(matches(span_of(cards[0]), want) for want in library.ranges(**scene)), row.get_text(" ", strip=True)
        assert [card.select_one(".mark").get_text() if card.select_one(".mark") else None for card in cards] == \
            ["Proposed"] + [None] * (len(cards) - 1)
        play = cards[0].select_one("button.play")
        assert re.fullmatch(r"\d+:\d\d–\d+:\d\d", play.select_one(".range").get_text())
        assert cards[0]["data-media"] == f"/assets/{span_of(cards[0])[0]}/media"
        assert len(row.select("form[action$='/pick'] button")) == len(cards)  # the owner picks
    # Brief in the list: title, owner, beats, picks.
    cells = [td.get_text(strip=True) for td in soup_of(client.get("/briefs/")).select("table.briefs tbody td")]
    assert cells[:4] == ["Flood package", viewer.username, "3", "0"]


def test_the_board_offers_the_four_exports_by_their_names(viewer, library):
    brief = services.brief_create(owner=viewer, text="a red circle")
    links = {a.get_text(): a["href"] for a in board_of(signed_in(viewer), brief).select("nav.exports a")}
    assert links == {
        "EDL (CMX 3600)": f"/api/briefs/{brief.pk}/export?format=edl",
        "Final Cut Pro 7 XML (Premiere Pro, DaVinci Resolve)": f"/api/briefs/{brief.pk}/export?format=fcpxml",
        "OpenTimelineIO": f"/api/briefs/{brief.pk}/export?format=otio",
        "CSV": f"/api/briefs/{brief.pk}/export?format=csv",
    }


def test_another_user_opens_the_board_without_owner_controls_and_is_refused_changes(viewer, editor, library):
    brief = services.brief_create(owner=viewer, text="a red circle\na yellow star", filters={"kind": "video"})
    other = signed_in(editor)
    assert [a.get_text() for a in soup_of(other.get("/briefs/")).select("table.briefs a")] == [brief.title]
    page = board_of(other, brief)
    assert page_forms(page) == []
    assert not page.select(".card-actions") and not page.select("details.beat-edit")
    assert len(page.select("li.moment button.play")) >= 2  # still plays and exports
    assert len(page.select("nav.exports a")) == 4
    assert "Kind video" in page.select_one(".board-filters.read-only").get_text(" ", strip=True)

    top = Beat.objects.get(brief=brief, index=0).results[0]
    for action in OWNER_FORMS:
        response = other.post(f"/briefs/{brief.pk}/{action}", {"title": "Mine now", "text": "a star", **top,
                                                                "time": top["start"]})
        assert response.status_code == 403, action
        assert "Only the brief's owner" in soup_of(response).select_one(".denied").get_text()
    brief.refresh_from_db()
    assert brief.title == "a red circle" and not Feedback.objects.exists()
    assert list(brief.beats.values_list("text", "pick_asset")) == [("a red circle", None), ("a yellow star", None)]


def test_signed_out_visitors_are_sent_to_sign_in(client, viewer, library):
    brief = services.brief_create(owner=viewer, text="a red circle")
    for path in ("/briefs/", f"/briefs/{brief.pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post("/briefs/", {"text": "a yellow star"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Brief.objects.count() == 1


def test_posts_without_the_csrf_token_are_refused(viewer, library):
    brief = services.brief_create(owner=viewer, text="a red circle")
    top = Beat.objects.get(brief=brief).results[0]
    client = signed_in(viewer, enforce_csrf_checks=True)
    assert client.post("/briefs/", {"text": "a yellow star"}).status_code == 403
    assert client.post(f"/briefs/{brief.pk}/beats/0/pick", top).status_code == 403
    assert client.post(f"/briefs/{brief.pk}/delete").status_code == 403
    assert Brief.objects.count() == 1 and Beat.objects.get(brief=brief).pick_asset is None
    # The token the page carries is what makes a post go through.
    token = board_of(client, brief).select_one("form[action$='/pick'] input[name=csrfmiddlewaretoken]")["value"]
    assert client.post(f"/briefs/{brief.pk}/beats/0/pick", {**top, "csrfmiddlewaretoken": token}).status_code == 302
    assert Beat.objects.get(brief=brief).pick_asset_id == top["asset_id"]


def test_beat_text_and_titles_are_shown_as_text_not_markup(viewer, library):
    brief = services.brief_create(owner=viewer, title="<b>Night</b> shift",
                                  text="<script>alert('beat')</script> a red circle")
    response = signed_in(viewer).get(f"/briefs/{brief.pk}/")
    html = response.content.decode()
    assert "<script>alert" not in html and "<b>Night" not in html
    page = soup_of(response)
    assert page.select_one("li.beat .text").get_text() == "<script>alert('beat')</script> a red circle"
    assert page.h1.get_text() == "<b>Night</b> shift"


def test_a_pick_through_the_page_is_stored_with_its_feedback_and_marked_picked(viewer, library):
    brief = services.brief_create(owner=viewer, text="a red circle\na yellow star")
    client = signed_in(viewer)
    second = board_of(client, brief).select("li.beat")[0].select("li.moment")[1]
    form = second.select_one("form[action$='/pick']")
    fields = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    response = client.post(form["action"], fields)
    assert response.status_code == 302 and response["Location"] == f"/briefs/{brief.pk}/#beat-0"

    beat = Beat.objects.get(brief=brief, index=0)
    asset_id, start, end = span_of(second)
    assert (beat.pick_asset_id, beat.pick_start, beat.pick_end, beat.picked_by) == (asset_id, start, end, viewer)
    feedback = Feedback.objects.get()
    assert (feedback.action, feedback.search, feedback.asset_id, feedback.start) == ("relevant", beat.search, asset_id, start)

    page = board_of(client, brief)
    assert messages_of(page) == [f"Beat 1: picked “{title_of(asset_id)}”."]
    row = page.select("li.beat")[0]
    picked = row.select("li.moment.picked")
    assert len(picked) == 1 and span_of(picked[0]) == (asset_id, start, end)
    assert picked[0].select_one(".mark").get_text() == "Picked" and not row.select(".mark.proposed")
    assert picked[0].select_one("form[action$='/unpick'] button").get_text() == "Unpick"
    assert board_of(client, brief).select_one(".board-meta").get_text().endswith("2 beats, 1 picked")

    assert client.post(f"/briefs/{brief.pk}/beats/0/unpick").status_code == 302
    assert Beat.objects.get(brief=brief, index=0).pick_asset is None and not Feedback.objects.exists()
    assert board_of(client, brief).select("li.beat")[0].select_one("li.moment .mark").get_text() == "Proposed"


def test_a_range_picked_elsewhere_is_shown_first_as_the_pick(viewer, library):
    brief = services.brief_create(owner=viewer, text="a red circle")
    storm = library.assets["storm.mp4"]
    services.beat_pick(beat=Beat.objects.get(brief=brief), user=viewer, asset_id=storm.pk, start=2, end=3.5)
    cards = board_of(signed_in(viewer), brief).select("li.moment")
    assert span_of(cards[0]) == (storm.pk, 2, 3.5)
    assert cards[0].select_one(".mark").get_text() == "Picked"
    assert cards[0].select_one(".score").get_text() == "a range picked by hand"
    assert cards[0].select_one(".range").get_text() == "0:02–0:03"
    assert not any(card.select(".mark") for card in cards[1:])  # a pick replaces the proposal


def test_the_list_shows_the_latest_changed_first_a_page_at_a_time(viewer, editor, django_assert_max_num_queries):
    from mediahub.briefs.views import LIST_PAGE_SIZE

    briefs = Brief.objects.bulk_create([Brief(owner=editor if i % 2 else viewer, title=f"Brief {i}", text="a circle")
                                        for i in range(LIST_PAGE_SIZE + 2)])
    Brief.objects.filter(pk=briefs[3].pk).update(title="Changed last")  # auto_now: the latest change
    Brief.objects.get(pk=briefs[3].pk).save()
    client = signed_in(viewer)
    with django_assert_max_num_queries(9):  # one reads the source filter's choices
        first = soup_of(client.get("/briefs/"))
    titles = [a.get_text() for a in first.select("table.briefs tbody a")]
    assert len(titles) == LIST_PAGE_SIZE and titles[:2] == ["Changed last", f"Brief {LIST_PAGE_SIZE + 1}"]
    assert first.select_one(".pager").get_text(" ", strip=True) == "page 1 of 2 older →"
    second = soup_of(client.get("/briefs/?page=2"))
    assert [a.get_text() for a in second.select("table.briefs tbody a")] == ["Brief 1", "Brief 0"]
    assert soup_of(client.get("/briefs/?page=lots")).select("table.briefs tbody a")  # a bad page number: the first


def test_bad_picks_get_a_sentence_on_the_board(viewer, library):
    brief = services.brief_create(owner=viewer, text="a red circle")
    client = signed_in(viewer)
    harbour = library.assets["harbour.mp4"]
    for fields, says in (({"asset_id": "x", "start": "0", "end": "1"}, "choose one of its moments"),
                         ({"asset_id": harbour.pk, "start": "nan", "end": "1"}, "choose one of its moments"),
                         ({"asset_id": harbour.pk, "start": "5", "end": "1"}, "start < end"),
                         ({"asset_id": 999_999, "start": "0", "end": "1"}, "no asset 999999")):
        response = client.post(f"/briefs/{brief.pk}/beats/0/pick", fields, follow=True)
        assert response.status_code == 200
        assert says in " ".join(messages_of(soup_of(response))), fields
    assert client.post(f"/briefs/{brief.pk}/beats/5/pick", {"asset_id": harbour.pk}).status_code == 404
    assert Beat.objects.get(brief=brief).pick_asset is None


def test_rename_and_delete_through_the_page(viewer, library):
    brief = services.brief_create(owner=viewer, text="a red circle")
    client = signed_in(viewer)
    page = soup_of(client.post(f"/briefs/{brief.pk}/rename", {"title": "Floods, day two"}, follow=True))
    assert page.h1.get_text() == "Floods, day two" and messages_of(page) == ["Renamed “Floods, day two”."]
    page = soup_of(client.post(f"/briefs/{brief.pk}/rename", {"title": "  "}, follow=True))
    assert page.h1.get_text() == "Floods, day two"
    assert messages_of(page) == ["The title was not changed: type the new title."]

    delete = page.select_one(f"form[action='/briefs/{brief.pk}/delete']")
    assert "Delete the brief “Floods, day two”" in delete["data-confirm"]  # app.js asks before it goes
    response = client.post(f"/briefs/{brief.pk}/delete", follow=True)
    assert response.redirect_chain == [("/briefs/", 302)]
    assert messages_of(soup_of(response)) == ["Deleted the brief “Floods, day two”."]
    assert not Brief.objects.exists() and not Beat.objects.exists()
    assert client.get(f"/briefs/{brief.pk}/").status_code == 404


@pytest.mark.parametrize("fields, says", [
    ({"text": "  \n "}, "The brief has no text"),
    ({"text": "\n".join(f"shot {i}" for i in range(1000))}, "at most 200"),
    ({"text": "a red circle", "per_beat": "lots"}, "Results per beat must be a whole number"),
    ({"text": "a red circle", "per_beat": "21"}, "Results per beat must be a whole number from 1 to 20"),
    ({"text": "a red circle", "tag": "no-such-tag"}, "There is no tag named"),
    ({"text": "a red circle", "after": "2026-12-01", "before": "2026-11-01"}, "after must not be later than before"),
])
def test_a_refused_brief_keeps_the_form_and_says_why(viewer, library, fields, says):
    response = signed_in(viewer).post("/briefs/", {"title": "Kept", **fields})
    assert response.status_code == 400
    page = soup_of(response)
    assert says in page.select_one(".new-brief .error").get_text()
    assert page.select_one("textarea[name=text]").get_text() == fields["text"]
    assert page.select_one("input[name=title]")["value"] == "Kept"
    assert not Brief.objects.exists()


def test_notes_for_weak_beats_shared_footage_and_stills(viewer, library):
    harbour = library.assets["harbour.mp4"].pk
    shared = services.brief_create(owner=viewer, text="a yellow star on a black background\nyellow star on black",
                                   filters={"asset": harbour})
    notes = [[note.get_text() for note in row.select(".beat-note")] for row in board_of(signed_in(viewer), shared).select("li.beat")]
    assert notes == [["Same footage as beat 2: the library has no other good match."],
                     ["Same footage as beat 1: the library has no other good match."]]

    mixed = services.brief_create(owner=viewer, text="a yellow star\n天气预报\nan orange star on a purple background")
    rows = board_of(signed_in(viewer), mixed).select("li.beat")
    assert [[note.get_text() for note in row.select(".weak-note")] for row in rows] == \
        [[], ["No footage matches well; the closest are shown."], []]
    poster = library.assets["poster.png"].pk
    still = next(card for card in rows[2].select("li.moment") if card["data-asset-id"] == str(poster))
    assert still.select_one(".play .range").get_text() == "Still image" and not still.select("button.play")
    assert "0:00–0:00" not in rows[2].get_text() and "0.0–0.0" not in rows[2].get_text()


def test_editing_a_beat_and_more_like_this_search_it_again(viewer, library):
    brief = services.brief_create(owner=viewer, text="a red circle")
    client = signed_in(viewer)
    response = client.post(f"/briefs/{brief.pk}/beats/0/text", {"text": "a yellow star on a black background"}, follow=True)
    row = soup_of(response).select_one("li.beat")
    assert row.select_one(".text").get_text() == "a yellow star on a black background"
    star = library.ranges(shape="star", colour="yellow", background="black")
    assert any(matches(span_of(row.select_one("li.moment")), want) for want in star)

    cross = library.ranges(shape="cross", colour="white", background="black")[0]
    response = client.post(f"/briefs/{brief.pk}/beats/0/similar", {"asset_id": cross[0], "time": cross[1] + 2}, follow=True)
    row = soup_of(response).select_one("li.beat")
    assert matches(span_of(row.select_one("li.moment")), cross)
    assert row.select_one(".similar-note").get_text().startswith(f"Moments that look like {title_of(cross[0])}")
    back = row.select_one("form[data-api-method=PATCH] input[type=hidden][name=text]")
    assert back["value"] == "a yellow star on a black background"  # "Back to the results for the text"

    page = soup_of(client.post(f"/briefs/{brief.pk}/beats/0/text", {"text": "x" * 600}, follow=True))
    assert "Beat 1 was not changed. Beat 1 is 600 characters long" in messages_of(page)[0]
    assert page.select_one("li.beat .text").get_text() == "a yellow star on a black background"


def test_filters_through_the_page_search_every_beat_again(viewer, library):
    brief = services.brief_create(owner=viewer, text="a red circle\na white cross")
    council = library.assets["council.mp4"].pk
    client = signed_in(viewer)
    page = board_of(client, brief)
    offered = {int(option["value"]) for option in page.select("select[name=asset] option") if option["value"]}
    assert council in offered
    page = soup_of(client.post(f"/briefs/{brief.pk}/filters", {"asset": council, "per_beat": "3"}, follow=True))
    assert messages_of(page) == ["Filters saved; every beat was searched again."]
    cards = page.select("li.moment")
    assert cards and all(card["data-asset-id"] == str(council) for card in cards)
    assert all(len(row.select("li.moment")) <= 3 for row in page.select("li.beat"))
    assert page.select_one(f"select[name=asset] option[value='{council}']").has_attr("selected")

    page = soup_of(client.post(f"/briefs/{brief.pk}/filters", {"after": "soon"}, follow=True))
    assert messages_of(page) == ["The filters were not changed. after must be an ISO date such as 2026-11-23."]
    brief.refresh_from_db()
    assert brief.filters == {"asset": council} and brief.per_beat == 3


def test_the_board_costs_the_same_queries_whatever_its_length(viewer, library, django_assert_max_num_queries):
    short = services.brief_create(owner=viewer, text="a red circle\nsomething orange")
    long = services.brief_create(owner=viewer, text="\n".join(text for text, _ in EIGHT_BEATS_EN * 3) + "\nsomething orange")
    client = signed_in(viewer)
    client.get(f"/briefs/{short.pk}/")  # the session and permissions are cached alike for both
    with django_assert_max_num_queries(13) as short_queries:  # one reads the source filter's choices
        assert client.get(f"/briefs/{short.pk}/").status_code == 200
    with django_assert_max_num_queries(len(short_queries.captured_queries)):
        assert len(board_of(client, long).select("li.beat")) == 25
