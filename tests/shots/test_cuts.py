"""Cut detection on generated test-pattern videos, through the frames step's own decode."""

import numpy as np

from workers.media.frames import sample_video
from workers.media.shots import ShotSampler, shot_spans
from workers.ml.demo.edit import CUT, DISSOLVE, FADE, Transition, write_edited_video
from workers.ml.demo.world import Scene


def cuts_of(path) -> list[float]:
    sampler = ShotSampler()
    for _ in sample_video(path, shots=sampler):
        pass
    return sampler.cuts()


SCENES = [Scene("circle", "red", "blue", 4, seed=1), Scene("square", "green", "white", 4, seed=2),
          Scene("star", "yellow", "black", 4, seed=3), Scene("triangle", "purple", "orange", 4, seed=4)]


def test_hard_cuts_are_found_within_a_tenth_of_a_second(tmp_path):
    truth = write_edited_video(tmp_path / "cuts.mp4", SCENES, [Transition(CUT)] * 3, fps=25, width=320, height=240)
    found = cuts_of(tmp_path / "cuts.mp4")
    assert len(found) == 3
    assert np.max(np.abs(np.array(found) - truth)) < 0.1


def test_a_dissolve_and_a_fade_are_found_near_their_middle(tmp_path):
    transitions = [Transition(DISSOLVE, 1.0), Transition(FADE, 1.0), Transition(CUT)]
    truth = write_edited_video(tmp_path / "soft.mp4", SCENES, transitions, fps=25, width=320, height=240)
    found = cuts_of(tmp_path / "soft.mp4")
    for boundary in truth:
        assert min(abs(boundary - cut) for cut in found) < 0.5, (found, truth)


def test_a_long_shot_with_slow_motion_has_no_cut(tmp_path):
    slow = Scene("diamond", "orange", "blue", 30, x0=-0.2, vx=0.012, angle0=-20, omega=1.2, seed=5)
    write_edited_video(tmp_path / "long.mp4", [slow], [], fps=25, width=320, height=240)
    assert cuts_of(tmp_path / "long.mp4") == []


def test_shots_cover_the_video_without_gaps_or_overlaps():
    spans = shot_spans([4.02, 8.0], 12.0)
    assert spans == [(0.0, 4.02), (4.02, 8.0), (8.0, 12.0)]
    assert shot_spans([], 0.0) == [(0.0, 0.0)]  # an image: one shot 0–0


def test_a_cut_where_only_the_subjects_colour_changes_is_found(tmp_path):
    # The same circle on the same background, red then purple: most of the picture stays as it was.
    scenes = [Scene("circle", "red", "blue", 4, seed=11), Scene("circle", "purple", "blue", 4, seed=12)]
    truth = write_edited_video(tmp_path / "recolour.mp4", scenes, [Transition(CUT)], fps=25, width=640, height=360)
    found = cuts_of(tmp_path / "recolour.mp4")
    assert len(found) == 1 and abs(found[0] - truth[0]) < 0.1
