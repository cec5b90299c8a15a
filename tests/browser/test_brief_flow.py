"""A newsroom user in a real browser: paste a brief, see each beat's scene proposed, play a moment in
its card, pick another moment for a beat, and find the exports; the board fits a phone's width."""

import re

import pytest
from playwright.sync_api import expect

from mediahub.assets.models import Asset
from mediahub.assets.services import asset_delete
from mediahub.briefs.models import Beat, Brief
from mediahub.search.models import Feedback
from tests.browser.test_upload_flow import sign_in
from tests.library import ingest, scene
from workers.ml.demo.video import write_world_video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tag_vocabulary")]

FPS = 10
VIDEOS = [
    ("harbour.mp4", "Harbour at dawn", [scene("square", "green", "white", 4, 1), scene("circle", "red", "blue", 5, 2, vx=-0.03),
                                        scene("star", "yellow", "black", 5, 3, omega=3)]),
    ("council.mp4", "Council meeting", [scene("cross", "white", "black", 4, 5), scene("diamond", "orange", "blue", 5, 6),
                                        scene("circle", "red", "green", 5, 7)]),
]
BEATS = [  # (beat text, file and colour/shape of the scene it should find)
    ("A red circle on a blue background.", ("harbour.mp4", "circle", "red")),
    ("黑色背景上的黄色星形", ("harbour.mp4", "star", "yellow")),
    ("an orange diamond on a blue background", ("council.mp4", "diamond", "orange")),
]


@pytest.fixture
def world(tmp_path):
    """The ingested videos, and each beat's scene as (asset id, start, end)."""
    assets, bounds = {}, {}
    for name, title, scenes in VIDEOS:
        bounds[name] = write_world_video(tmp_path / name, scenes, fps=FPS)
        assets[name] = ingest(tmp_path / name, title)
    wanted = []
    for _, (name, shape, colour) in BEATS:
        start, end = next((s, e) for s, e, sc in bounds[name] if (sc.shape, sc.colour) == (shape, colour))
        wanted.append((assets[name].pk, start, end))
    return wanted


def card_span(card) -> tuple[int, float, float]:
    return (int(card.get_attribute("data-asset-id")), float(card.get_attribute("data-start")),
            float(card.get_attribute("data-end")))


def test_paste_a_brief_play_a_moment_pick_another_and_export(page, live_server, viewer, world):
    sign_in(page, live_server, viewer)
    page.get_by_role("navigation").get_by_role("link", name="Briefs").click()
    page.get_by_label("Title").fill("Storm package")
    page.get_by_label("Text").fill("\n".join(text for text, _ in BEATS))
    page.get_by_role("button", name="Make the brief").click()
    expect(page.get_by_role("heading", name="Storm package")).to_be_visible()

    rows = page.locator("li.beat")
    expect(rows).to_have_count(3)
    for row, (text, _), (asset_id, start, end) in zip(rows.all(), BEATS, world):
        expect(row.locator(".beat-text .text")).to_have_text(text)
        first = row.locator("li.moment").first
        expect(first.locator(".mark")).to_have_text("Proposed")
        found_id, found_start, found_end = card_span(first)
        assert found_id == asset_id and abs(found_start - start) <= 1 and abs(found_end - end) <= 1, (text, card_span(first))

    # Play the first beat's proposal in its card: from its start, stopping by its end.
    card = rows.nth(0).locator("li.moment").first
    _, start, end = card_span(card)
    card.get_by_role("button", name=re.compile("^Play")).click()
    video = card.locator("video.inline-player")
    expect(video).to_be_visible()
    expect(card.get_by_role("button", name=re.compile("^Play"))).to_be_hidden()  # the player takes the thumbnail's place
    page.wait_for_function("v => v.played.length > 0 && v.paused", arg=video.element_handle(),
                           timeout=(end - start + 10) * 1000)
    played = video.evaluate("v => [...Array(v.played.length).keys()].map(i => [v.played.start(i), v.played.end(i)])")
    assert len(played) == 1, played  # one stretch: from the moment's start (not the video's) to its end
    (played_from, played_to), = played
    assert abs(played_from - start) <= 1 / FPS and end - 0.5 <= played_to <= end + 1 / FPS + 1e-3, (start, end, played)
    # It rests on the moment's last frame and offers to play on; its label says what it played.
    assert end - 1 / FPS - 1e-3 <= video.evaluate("v => v.currentTime") <= end
    expect(card.get_by_role("button", name="Play on", exact=True)).to_be_visible()
    expect(video).to_have_attribute("aria-label", card.get_attribute("data-label"))
    expect(card.locator(".moment-range")).to_be_visible()
    assert card.get_attribute("data-label").startswith("Harbour at dawn · 0:")

    # Pick the first beat's other candidate (the red circle on green): marked Picked in place, and
    # still after a reload.
    first_beat = rows.nth(0)
    other = first_beat.locator("li.moment").nth(1)
    picked_span = card_span(other)
    other.get_by_role("button", name="Pick").click()
    picked = first_beat.locator(f"li.moment[data-asset-id='{picked_span[0]}'][data-start='{other.get_attribute('data-start')}']")
    expect(picked.locator(".mark")).to_have_text("Picked")
    expect(first_beat.locator(".mark.proposed")).to_have_count(0)
    page.reload()
    expect(page.locator("li.beat").nth(0).locator("li.moment.picked .mark")).to_have_text("Picked")
    expect(page.locator("li.beat").nth(0).locator("li.moment.picked")).to_have_count(1)
    assert card_span(page.locator("li.beat").nth(0).locator("li.moment.picked")) == picked_span
    beat = Beat.objects.get(brief=Brief.objects.get(), index=0)
    assert (beat.pick_asset_id, beat.pick_start, beat.pick_end) == picked_span
    assert Feedback.objects.get().action == "relevant"

    # A beat's new text is searched again and its row redrawn in place (no page load: no message).
    third = page.locator("li.beat").nth(2)
    third.get_by_text("Edit the text").click()
    third.get_by_label("Text of beat 3").fill("a white cross on a black background")
    third.get_by_role("button", name="Search again").click()
    expect(page.locator("li.beat").nth(2).locator(".beat-text .text")).to_have_text("a white cross on a black background")
    council = world[2][0]
    expect(page.locator("li.beat").nth(2).locator("li.moment").first).to_have_attribute("data-asset-id", str(council))
    assert card_span(page.locator("li.beat").nth(2).locator("li.moment").first)[1] < 4  # the cross opens the council video
    expect(page.locator(".messages")).to_have_count(0)

    exports = page.get_by_role("navigation", name="Export the timeline").get_by_role("link")
    expect(exports).to_have_text(["EDL (CMX 3600)", "Final Cut Pro 7 XML (Premiere Pro, DaVinci Resolve)",
                                  "OpenTimelineIO", "CSV"])

    # A pick the server refuses (the footage was deleted meanwhile) says why in the beat's row.
    asset_delete(asset=Asset.objects.get(pk=council))
    third = page.locator("li.beat").nth(2)
    third.locator("li.moment").first.get_by_role("button", name="Pick").click()
    expect(third.locator(".beat-status")).to_have_text(f"There is no asset {council} to pick; it may have been deleted.")
    expect(third.locator(".beat-status")).to_have_class(re.compile(r"\berror\b"))

    # On a phone the board is one column and nothing runs off the side.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("li.beat")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
