"""A newsroom user in a real browser: type a query, play the moment it finds, mark it relevant."""

import pytest
from playwright.sync_api import expect

from mediahub.search.models import Feedback
from mediahub.shots.models import Shot
from tests.browser.test_upload_flow import sign_in
from tests.library import LIBRARY, ingest
from workers.ml.demo.video import write_world_video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tag_vocabulary")]


def test_search_play_a_moment_and_judge_it(page, live_server, owner, tmp_path):
    name, title, scenes = LIBRARY[0]  # the harbour: a red circle on blue from 6 s to 11 s
    bounds = write_world_video(tmp_path / name, scenes, fps=10)
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

    first.get_by_role("button", name="Play").click()
    expect(page.locator("dialog#moment-player")).to_be_visible()
    page.wait_for_function(f"document.querySelector('#moment-player video').currentTime >= {red_circle_start - 0.1}")

    page.locator("dialog#moment-player").get_by_role("button", name="Close").click()
    page.wait_for_function("document.querySelector('#moment-player video').paused")
    relevant = first.get_by_role("button", name="Relevant", exact=True)
    relevant.click()
    expect(relevant).to_have_attribute("aria-pressed", "true")
    assert set(Feedback.objects.filter(asset=asset).values_list("action", flat=True)) == {"click", "relevant"}
