"""GET /api/briefs/{id}/export over the indexed library: each format opens in OpenTimelineIO with one
clip per beat in beat order, the pick or else the proposal, right to the frame, with the beat texts."""

from __future__ import annotations

import csv
import io

import opentimelineio as otio
import pytest

from tests.briefs.test_brief_api import make_brief
from tests.briefs.test_timeline import edl_comments, frames, items, marker_texts

pytestmark = pytest.mark.django_db

BEATS = ["a red circle on a blue background", "黑色背景上的黄色星形", "something orange", "a white cross on a black background"]
READERS = {"fcpxml": "fcp_xml", "otio": "otio_json"}


def exported(api, brief_id, fmt):
    response = api.get(f"/api/briefs/{brief_id}/export", {"format": fmt})
    assert response.status_code == 200, response.content
    return response


def choices_of(api, brief_id):
    return [beat["choice"] for beat in api.get(f"/api/briefs/{brief_id}").json()["beats"]]


@pytest.fixture
def picked_brief(viewer_api, library):
    """A four-beat brief whose third beat is picked: the campaign poster (an image)."""
    body = make_brief(viewer_api, "\n".join(BEATS), title="Flood package")
    poster = library.assets["poster.png"].pk
    picked = viewer_api.post(f"/api/briefs/{body['id']}/beats/2/pick", {"asset_id": poster, "start": 0, "end": 0},
                             format="json")
    assert picked.status_code == 200
    return body["id"]


@pytest.mark.parametrize("fmt", ["otio", "fcpxml", "edl"])
def test_every_timeline_format_has_a_clip_per_beat_on_its_moment_with_its_text(viewer_api, editor_api, library,
                                                                               picked_brief, fmt):
    choices = choices_of(viewer_api, picked_brief)
    response = exported(editor_api, picked_brief, fmt)  # anyone may export anyone's brief
    extension = {"otio": "otio", "fcpxml": "xml", "edl": "edl"}[fmt]
    assert response["Content-Disposition"] == f'attachment; filename="flood-package.{extension}"'
    text = response.content.decode("utf-8")
    if fmt == "edl":  # 10 fps has no SMPTE timecode: the EDL runs at 25 and places each clip within half a frame
        timeline = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=25)
    else:
        timeline = otio.adapters.read_from_string(text, adapter_name=READERS[fmt])
    clips = items(timeline)
    assert len(clips) == len(BEATS)
    for clip, choice, beat in zip(clips, choices, BEATS):
        if choice["kind"] == "image":
            continue  # a still holds for the still length (test_timeline.py)
        source = clip.source_range
        if fmt == "edl":
            assert source.start_time.to_seconds() == pytest.approx(choice["start"], abs=0.5 / 25)
            assert source.end_time_exclusive().to_seconds() == pytest.approx(choice["end"], abs=0.5 / 25)
        else:  # the library's videos are 10 fps
            assert frames(source.start_time, 10) == round(choice["start"] * 10)
            assert frames(source.duration, 10) == round((choice["end"] - choice["start"]) * 10)
        said = marker_texts(clip) + edl_comments(clip)
        assert any(beat.upper() in line.upper() for line in said), said
    poster = library.assets["poster.png"]
    if fmt != "edl":  # an EDL names reels and file names, not URLs
        assert clips[2].media_reference.target_url.endswith(f"/assets/{poster.pk}/media?original=1")


def test_the_csv_lists_each_beat_with_its_asset_and_timecodes(viewer_api, library, picked_brief):
    choices = choices_of(viewer_api, picked_brief)
    response = exported(viewer_api, picked_brief, "csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [row["beat text"] for row in rows] == BEATS
    assert [int(row["asset id"]) for row in rows] == [choice["asset_id"] for choice in choices]
    assert [row["file name"] for row in rows][2] == "poster.png"
    first = choices[0]
    assert rows[0]["source in"] == "00:00:%02d:%02d" % divmod(round(first["start"] * 10), 10)


def test_a_bad_format_is_a_400_naming_the_formats(viewer_api, library, picked_brief):
    for fmt in ("", "aaf", "json"):
        response = viewer_api.get(f"/api/briefs/{picked_brief}/export", {"format": fmt})
        assert response.status_code == 400 and "edl" in response.json()["detail"]


def test_exports_follow_the_pick(viewer_api, library):
    body = make_brief(viewer_api, "a red circle")
    second = body["beats"][0]["results"][1]
    viewer_api.post(f"/api/briefs/{body['id']}/beats/0/pick",
                    {"asset_id": second["asset_id"], "start": second["start"], "end": second["end"]}, format="json")
    timeline = otio.adapters.read_from_string(exported(viewer_api, body["id"], "otio").content.decode(),
                                              adapter_name="otio_json")
    (clip,) = items(timeline)
    assert clip.metadata["mediahub"]["asset_id"] == second["asset_id"] and clip.metadata["mediahub"]["picked"]
    assert frames(clip.source_range.start_time, 10) == round(second["start"] * 10)


def test_exports_point_at_shared_storage_when_the_edit_suites_have_it(viewer_api, library, picked_brief, settings):
    settings.EDIT_MEDIA_ROOT = "/Volumes/newsroom/mediahub"
    timeline = otio.adapters.read_from_string(exported(viewer_api, picked_brief, "otio").content.decode(),
                                              adapter_name="otio_json")
    poster = library.assets["poster.png"]
    assert items(timeline)[2].media_reference.target_url == f"file:///Volumes/newsroom/mediahub/{poster.original.name}"


def test_signed_out_clients_cannot_export(anonymous_api, library, picked_brief):
    assert anonymous_api.get(f"/api/briefs/{picked_brief}/export", {"format": "edl"}).status_code == 401
