"""Footage as newsrooms get it: every file of the corpus (tests/media_files.py CORPUS) goes through
the real pipeline to `ready`, its frames are upright and in time, a search for the red circle finds
it where it is, and a browser gets something it can play with the same clock."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from mediahub.assets.models import Asset, Frame
from mediahub.assets.services import asset_delete
from mediahub.search.evaluation import Span, temporal_iou
from tests.library import ingest
from tests.media_files import CORPUS, Footage, write_footage
from workers.ml.demo.world import COLOURS

pytestmark = pytest.mark.django_db
SCENE_EDGE = 0.2  # seconds around a cut where a sampled frame may show either scene


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corpus")


def _mask(rgb: np.ndarray, colour: str, tolerance: int = 60) -> np.ndarray:
    return (np.abs(rgb.astype(int) - COLOURS[colour]).max(axis=2) <= tolerance)


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean() / mask.shape[1], ys.mean() / mask.shape[0]])


def assert_shows(rgb: np.ndarray, footage: Footage, time: float, what: str) -> None:
    """The picture is the world's render at `time`: same orientation, colours (not washed out), shape place."""
    scene, _ = footage.shown_at(time)
    expected = np.asarray(Image.fromarray(footage.render(time)).resize((rgb.shape[1], rgb.shape[0])))
    assert (rgb.shape[0] > rgb.shape[1]) == (footage.height > footage.width), f"{what}: not upright"
    shape, background = _mask(rgb, scene.colour), _mask(rgb, scene.background)
    assert background.mean() > 0.4, f"{what} at {time} s: background isn't {scene.background} {COLOURS[scene.background]}: " \
                                     f"{np.median(rgb.reshape(-1, 3), axis=0)}"
    want = _mask(expected, scene.colour)
    assert 0.5 < shape.sum() / want.sum() < 2, f"{what} at {time} s: the {scene.colour} {scene.shape} is missing or wrong"
    assert np.abs(rgb[shape].mean(axis=0) - COLOURS[scene.colour]).max() < 40, f"{what}: the shape's colour is off"
    assert np.abs(_centroid(shape) - _centroid(want)).max() < 0.06, f"{what} at {time} s: the shape is misplaced " \
                                                                      "(a rotation or flip)"


def _stored_rgb(frame: Frame) -> np.ndarray:
    with default_storage.open(frame.image, "rb") as handle:
        return np.asarray(Image.open(handle).convert("RGB"))


def _cuts(footage: Footage) -> list[float]:
    return list(np.cumsum([sc.duration for sc in footage.scenes]))


def _lost_seconds(clean: Path, damage: tuple[float, float]) -> tuple[float, float]:
    """The seconds whose packets lie in the damaged stretch of bytes (read from an undamaged copy)."""
    size = clean.stat().st_size
    first, last = damage[0] * size, damage[1] * size
    with av.open(str(clean)) as container:
        stream = container.streams.video[0]
        times = [float(p.pts * p.time_base) for p in container.demux(stream)
                 if p.pts is not None and p.pos is not None and first <= p.pos <= last]
        start = float(stream.start_time * stream.time_base)
    return min(times) - start, max(times) - start


@pytest.mark.parametrize("footage", CORPUS, ids=lambda f: f.name)
def test_newsroom_footage_is_ready_upright_searchable_and_playable(footage, corpus_dir, owner_api):
    path = write_footage(corpus_dir, footage)
    asset = ingest(path, footage.name)

    frames = list(Frame.objects.filter(asset=asset).order_by("index"))
    total = sum(sc.duration for sc in footage.scenes)
    lost = _lost_seconds(write_footage(corpus_dir / "..", replace(footage, name="clean_" + footage.name, damage=None)),
                         footage.damage) if footage.damage else None
    if lost:
        assert asset.error and "could not be decoded" in asset.error, asset.error
        reported = asset.error.split(" could not be decoded")[0]
        start, end = (float(x) for x in reported.removesuffix(" s").split("–"))
        assert start <= lost[0] + 0.2 and end >= lost[1] - 0.2 and end - start <= lost[1] - lost[0] + 3, (asset.error, lost)
        assert not any(lost[0] + 0.2 < f.time < lost[1] - 0.2 for f in frames)
    else:
        assert asset.error is None  # a still lasting seconds is not a truncation either
        assert [f.index for f in frames] == list(range(round(total)))
    for frame in frames:  # every sampled frame shows what was on screen at its time, upright
        if min(abs(frame.time - cut) for cut in [0.0, *_cuts(footage)]) > SCENE_EDGE:
            assert_shows(_stored_rgb(frame), footage, frame.time, f"frame {frame.index}")

    start, end = footage.truth(shape="circle", colour="red")
    response = owner_api.get("/api/search", {"q": "a red circle", "asset": asset.pk})
    assert response.status_code == 200, response.content
    best = response.json()["results"][0]
    iou = temporal_iou(Span("a", best["start"], best["end"]), Span("a", start, end))
    assert iou >= 0.5, (best, (start, end))

    assert_plays_in_a_browser(asset, footage)


def assert_plays_in_a_browser(asset: Asset, footage: Footage) -> None:
    if footage.browser_plays:
        assert asset.proxy is None
        return
    assert asset.proxy and default_storage.exists(asset.proxy)
    with default_storage.open(asset.proxy, "rb") as handle, av.open(handle) as container:
        video = container.streams.video[0]
        assert (container.format.name, video.codec_context.name) == ("mov,mp4,m4a,3gp,3g2,mj2", "h264")
        assert bool(container.streams.audio) == footage.audio
        if footage.audio:
            assert container.streams.audio[0].codec_context.name == "aac"
        start, end = footage.truth(shape="circle", colour="red")
        middle = (start + end) / 2
        shown = None
        for frame in container.decode(video):
            assert frame.format.name == "yuv420p" and min(frame.width, frame.height) <= 720
            assert not frame.rotation
            if shown is None:
                assert frame.time == pytest.approx(0.0, abs=0.001)  # proxy time 0 = the first shown frame
                shown = frame
            if frame.time <= middle:
                shown = frame
    assert_shows(shown.to_ndarray(format="rgb24"), footage, middle, "proxy")


def test_the_media_url_serves_the_proxy_the_original_stays_downloadable_and_delete_removes_both(
        corpus_dir, client, viewer, django_capture_on_commit_callbacks):
    footage = next(f for f in CORPUS if f.name == "mpeg2.mxf")
    path = write_footage(corpus_dir, footage)
    asset = ingest(path, footage.name)
    client.force_login(viewer)

    played = client.get(asset.media_url, HTTP_RANGE="bytes=0-99")
    assert (played.status_code, played["Content-Type"]) == (206, "video/mp4")
    assert b"".join(played.streaming_content)[4:8] == b"ftyp"
    page = client.get(asset.get_absolute_url()).content.decode()
    assert f'src="{asset.media_url}"' in page and f'href="{asset.original_url}"' in page
    original = client.get(asset.original_url)
    assert b"".join(original.streaming_content) == path.read_bytes()
    assert "mpeg2.mxf" in original["Content-Disposition"]

    proxy, original_name = asset.proxy, asset.original.name
    with django_capture_on_commit_callbacks(execute=True):
        asset_delete(asset=asset)
    assert not default_storage.exists(proxy) and not default_storage.exists(original_name)
