"""Video DNA compute: PDQ fingerprints and alignment of copied segments (the test-pattern world)."""

import numpy as np
from PIL import Image

from workers.ml.demo.world import Scene, render_frame
from workers.ml.dna import active_area, align, fingerprint, mirrored

RATE = 4  # samples a second
SOURCE = [Scene(shape="circle", colour="red", background="blue", duration=6.0, seed=11, vx=0.05, omega=4),
          Scene(shape="star", colour="yellow", background="black", duration=6.0, seed=12, vy=-0.04, omega=-3),
          Scene(shape="square", colour="green", background="white", duration=6.0, seed=13, vx=-0.06)]


def frames(scenes, *, width=320, height=180, edit=lambda f: f):
    """(time, frame) at RATE a second through the scenes one after another."""
    out, start = [], 0.0
    for scene in scenes:
        for i in range(int(scene.duration * RATE)):
            t = i / RATE
            out.append((start + t, edit(render_frame(scene, t, width=width, height=height))))
        start += scene.duration
    return out


def reencoded(frame):
    """Smaller, brighter, recompressed, letterboxed: the same footage as an agency sends it."""
    image = Image.fromarray(frame).resize((240, 135)).point(lambda v: min(255, int(v * 1.1) + 5))
    canvas = np.zeros((180, 240, 3), np.uint8)
    canvas[22:157] = np.asarray(image)
    return canvas


def test_a_trimmed_reencoded_letterboxed_copy_is_found_with_its_offset():
    original = fingerprint(frames(SOURCE))
    copy_frames = frames(SOURCE[1:2], edit=reencoded)  # the star scene: 6–12 s of the source, 0–6 s here
    area = active_area(f for _, f in copy_frames)
    assert area[1] >= 20 and area[3] <= 160, "the letterbox bars are trimmed"
    (segment,) = align(fingerprint(copy_frames, area=area), original)
    assert segment.start <= 0.5 and segment.end >= 5.0
    assert abs(segment.other_start - 6.0) <= 0.5 and abs((segment.other_start - segment.start) - 6.0) <= 0.25


def test_a_different_shot_of_the_same_shape_and_colours_is_not_a_copy():
    original = fingerprint(frames(SOURCE))
    lookalike = Scene(shape="circle", colour="red", background="blue", duration=6.0, seed=99, x0=0.3, y0=-0.1,
                      vx=-0.05, omega=-5)
    assert align(fingerprint(frames([lookalike])), original) == []


def test_a_dark_scene_is_not_cropped_as_a_border():
    dark = Scene(shape="cross", colour="purple", background="black", duration=2.0, seed=5, x0=-0.6)
    bright = Scene(shape="diamond", colour="white", background="orange", duration=2.0, seed=6)
    assert active_area(f for _, f in frames([dark, bright])) == (0, 0, 320, 180)


def test_a_flipped_copy_is_found_through_the_mirrored_query():
    original = fingerprint(frames(SOURCE))
    flipped = frames(SOURCE[2:], edit=lambda f: np.ascontiguousarray(f[:, ::-1]))
    assert align(fingerprint(flipped), original) == [], "PDQ alone does not see through a flip"
    (segment,) = align(fingerprint(mirrored(flipped)), original)
    assert abs((segment.other_start - segment.start) - 12.0) <= 0.25 and segment.end - segment.start >= 5.0
