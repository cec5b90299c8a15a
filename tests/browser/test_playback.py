"""Footage Chromium can't play as it is (MPEG-TS whose clock starts at 10 s, portrait HEVC) plays on the
asset page through its proxy, and a moment found at t seconds shows that moment's picture."""

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.browser.test_upload_flow import sign_in
from tests.library import ingest
from tests.media_files import CORPUS, write_footage
from workers.ml.demo.world import COLOURS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tag_vocabulary")]

PIXEL_AT = """async ([time, x, y]) => {
  const video = document.getElementById('player');
  if (video.readyState < 1) await new Promise(done => video.addEventListener('loadedmetadata', done, {once: true}));
  const seeked = new Promise(done => video.addEventListener('seeked', done, {once: true}));
  video.currentTime = time;
  await seeked;
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext('2d');
  context.drawImage(video, 0, 0);
  const pixel = context.getImageData(Math.round(x * canvas.width), Math.round(y * canvas.height), 1, 1).data;
  return {rgb: [pixel[0], pixel[1], pixel[2]], width: video.videoWidth, height: video.videoHeight};
}"""


def _shape_centre(footage, time) -> tuple[float, float]:
    picture = footage.render(time)
    scene, _ = footage.shown_at(time)
    ys, xs = np.nonzero(np.abs(picture.astype(int) - COLOURS[scene.colour]).max(axis=2) <= 60)
    return xs.mean() / picture.shape[1], ys.mean() / picture.shape[0]


@pytest.mark.parametrize("name", ["broadcast_offset.ts", "phone_portrait_hevc_vfr.mp4"])
def test_the_player_shows_the_scene_at_the_time_the_pipeline_reports(page, live_server, owner, tmp_path, name):
    footage = next(f for f in CORPUS if f.name == name)
    asset = ingest(write_footage(tmp_path, footage), footage.name)
    assert asset.proxy

    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}{asset.get_absolute_url()}")
    expect(page.locator("video#player")).to_be_visible()
    for attrs in ({"shape": "square", "colour": "green"}, {"shape": "circle", "colour": "red"}):
        start, end = footage.truth(**attrs)
        middle = (start + end) / 2
        scene, _ = footage.shown_at(middle)
        x, y = _shape_centre(footage, middle)
        shown = page.evaluate(PIXEL_AT, [middle, x, y])
        assert (shown["height"] > shown["width"]) == (footage.height > footage.width), shown  # upright
        assert max(abs(a - b) for a, b in zip(shown["rgb"], COLOURS[scene.colour])) <= 45, (attrs, shown)
        corner = page.evaluate(PIXEL_AT, [middle, 0.03, 0.03])
        assert max(abs(a - b) for a, b in zip(corner["rgb"], COLOURS[scene.background])) <= 45, (attrs, corner)
