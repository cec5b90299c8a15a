"""A newsroom user in a real browser: type a query, play the moment it finds (it stops at the moment's end,
plays on or replays on request, and says what it plays), mark it relevant, open the asset page at that
moment; a still shows with its description and no time."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from mediahub.search.models import Feedback
from mediahub.shots.models import Shot
from tests.browser.test_upload_flow import sign_in
from tests.library import LIBRARY, STILL, ingest
from workers.ml.demo.video import write_world_image, write_world_video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tag_vocabulary")]

FPS = 10
STOPPED = "v => v.paused && v.played.length > 0"
REPLAY_ON_PLAY = """async v => {  // the native play button after the end: where the moment plays from
  const from = new Promise(done => v.addEventListener('play', () => done(v.currentTime), {once: true}));
  v.play();
  return from;
}"""


def assert_stopped_at_the_end(video, end: float) -> None:
    """Paused on the moment's last frame: within a frame of its end, never after it."""
    now = video.evaluate("v => v.currentTime")
    assert end - 1 / FPS - 1e-3 <= now <= end, (now, end)


def test_search_play_a_moment_to_its_end_play_on_replay_and_judge_it(page, live_server, owner, tmp_path):
    name, title, scenes = LIBRARY[0]  # the harbour: a red circle on blue from 6 s to 11 s, then a star
    bounds = write_world_video(tmp_path / name, scenes, fps=FPS)
    red_circle_start = next(start for start, _, sc in bounds if (sc.shape, sc.colour) == ("circle", "red"))
    asset = ingest(tmp_path / name, title)
    # The moment starts at the cut the frames step stored (within a frame of the scene change).
    shot_start = Shot.objects.get(asset=asset, start__lte=red_circle_start + 0.5, end__gt=red_circle_start + 0.5).start
    assert abs(shot_start - red_circle_start) <= 0.1

    sign_in(page, live_server, owner)
    page.get_by_label("Search footage").fill("红色圆形")
    page.keyboard.press("Enter")
    first = page.locator("li.moment").first
    expect(first).to_have_attribute("data-asset-id", str(asset.pk))
    expect(first).to_have_attribute("data-start", str(shot_start))
    start, end = float(first.get_attribute("data-start")), float(first.get_attribute("data-end"))
    assert asset.duration - end >= 2  # footage goes on after the moment
    shown_range = first.locator(".range").inner_text()
    assert re.fullmatch(r"0:\d\d–0:\d\d", shown_range)

    # It names what it plays and links to the asset page at that moment.
    first.get_by_role("button", name="Play").click()
    dialog = page.locator("dialog#moment-player")
    video = dialog.locator("video")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(f"{title} · {shown_range}")
    expect(video).to_have_attribute("aria-label", f"{title} · {shown_range}")
    link = urlsplit(dialog.get_by_role("link", name="Open on the asset page").get_attribute("href"))
    assert parse_qs(link.query) == {"t": [str(start)], "end": [str(end)]}

    # It plays from the start and stops at the end, then offers to play on.
    play_on = dialog.get_by_role("button", name="Play on", exact=True)
    expect(play_on).to_be_visible(timeout=(end - start + 10) * 1000)
    assert video.evaluate(STOPPED)
    assert_stopped_at_the_end(video, end)
    assert abs(video.evaluate("v => v.played.start(0)") - start) <= 1 / FPS

    # "Play on" (from the keyboard) continues past the end without stopping.
    play_on.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"v => !v.paused && v.currentTime > {end + 0.3}", arg=video.element_handle())
    expect(play_on).to_be_hidden()

    # "Replay moment" goes back to the start; it stops at the end again (the user skips ahead to get there).
    assert dialog.get_by_role("button", name="Replay moment").evaluate("b => { b.click(); return document.querySelector('#moment-player video').currentTime; }") == start
    video.evaluate(f"v => {{ v.currentTime = {end - 0.6}; }}")
    expect(play_on).to_be_visible()
    assert_stopped_at_the_end(video, end)
    assert video.evaluate(REPLAY_ON_PLAY) == start  # playing again after the end replays the moment

    dialog.get_by_role("button", name="Close").click()
    page.wait_for_function("document.querySelector('#moment-player video').paused")
    relevant = first.get_by_role("button", name="Relevant", exact=True)
    relevant.click()
    expect(relevant).to_have_attribute("aria-pressed", "true")
    assert set(Feedback.objects.filter(asset=asset).values_list("action", flat=True)) == {"click", "relevant"}

    # The title opens the asset page with the moment selected: its player stops at the end too.
    first.get_by_role("link", name=title).click()
    selected = page.locator(".moment-selected")
    expect(selected).to_contain_text(f"Selected moment: {shown_range}")
    player = page.locator("video#player")
    page.wait_for_function(f"v => v.readyState >= 1 && v.currentTime === {start}", arg=player.element_handle())
    selected.locator("p").click()  # a user's gesture lets the page start the player
    player.evaluate(f"v => {{ v.currentTime = {end - 0.6}; v.play(); }}")
    expect(selected.get_by_role("button", name="Play on", exact=True)).to_be_visible()
    assert_stopped_at_the_end(player, end)


def test_a_still_in_the_results_shows_no_time_and_its_description(page, live_server, owner, tmp_path):
    name, title, still = STILL
    write_world_image(tmp_path / name, still)
    poster = ingest(tmp_path / name, title)

    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/search/?q=an+orange+star&kind=image")
    card = page.locator(f"li.moment[data-asset-id='{poster.pk}']")
    expect(card.locator(".range")).to_have_text("Still image")
    description = card.locator(".play img").get_attribute("alt")
    assert "star" in description

    card.get_by_role("button", name=f"Show {title}").click()
    dialog = page.locator("dialog#moment-player")
    expect(dialog.get_by_role("heading")).to_have_text(f"{title} · Still image")
    expect(dialog.get_by_role("img", name=description)).to_be_visible()
    expect(dialog.locator("figcaption")).to_have_text(description)
    expect(dialog.locator("video")).to_be_hidden()
    expect(dialog.locator(".moment-controls")).to_be_hidden()
    assert not re.search(r"\d:\d\d|\d\.\d", dialog.inner_text())  # no "0:00–0:00", no "0.0–0.0 s"
