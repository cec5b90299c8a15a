"""An editor in a real browser on an asset page: click a shot of the Shots panel and the player
jumps to the shot's start and plays; correct a description and it shows marked edited."""

import re

import pytest
from playwright.sync_api import expect

from mediahub.assets.models import Asset
from mediahub.shots.selectors import asset_shots
from tests.browser.test_upload_flow import sign_in
from tests.library import ingest
from tests.shots.described import IMAGE_DESCRIPTION, asset_row, described
from workers.ml.demo.video import write_world_video
from workers.ml.demo.world import Scene

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tag_vocabulary")]

SCENES = [Scene("circle", "red", "blue", 4, seed=1), Scene("square", "green", "white", 5, seed=2),
          Scene("star", "yellow", "black", 4, seed=3)]


def test_clicking_a_shot_plays_it_and_an_editor_corrects_its_description(page, live_server, owner, tmp_path):
    write_world_video(tmp_path / "three.mp4", SCENES, fps=10, width=320, height=240)
    asset = ingest(tmp_path / "three.mp4", "Three scenes")
    shots = asset_shots(asset=asset)  # cut and described by the pipeline
    assert len(shots) >= 2
    last = shots[-1]

    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}{asset.get_absolute_url()}")
    panel = page.locator("#shots")
    expect(panel.locator("li.shot")).to_have_count(len(shots))
    assert page.evaluate("document.getElementById('player').currentTime") == 0

    panel.locator(f"#shot-{last.index} button.shot-play").click()
    page.wait_for_function(
        f"() => {{ const p = document.getElementById('player'); return !p.paused && p.currentTime >= {last.start - 0.1}; }}")
    assert page.evaluate("document.getElementById('player').currentTime") < last.end

    shot = panel.locator(f"#shot-{last.index}")
    shot.get_by_text("Correct the description").click()
    shot.get_by_label("English").fill("Close-up of a yellow star")
    shot.get_by_role("button", name="Save").click()
    shot = page.locator(f"#shot-{last.index}")
    expect(shot.locator('.shot-description[lang="en"]')).to_have_text(re.compile(r"^Close-up of a yellow star\s+edited$"))
    expect(shot.locator("img")).to_have_attribute("alt", "Close-up of a yellow star")


def test_an_image_that_finishes_processing_gets_its_description_as_alt_text_on_the_library(page, live_server, owner):
    image = asset_row(owner, title="Campaign poster", kind="image", duration=None, frame_times=[0.0],
                      status="processing")
    sign_in(page, live_server, owner)
    thumbnail = page.locator(f'.card[data-asset-id="{image.pk}"] .thumb img')
    expect(thumbnail).to_have_attribute("alt", "")
    described(image, [((0.0, 0.0), IMAGE_DESCRIPTION)])
    Asset.objects.filter(pk=image.pk).update(status="ready", progress=1.0)
    expect(thumbnail).to_have_attribute("alt", IMAGE_DESCRIPTION["en"])  # the page follows processing
