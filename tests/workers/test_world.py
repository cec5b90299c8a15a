"""The test-pattern world generator (workers/ml/demo/world.py, video.py).

Pure numpy/PIL/PyAV: no Django, no torch, no database.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from workers.ml.demo import world
from workers.ml.demo.video import write_world_image, write_world_video

ROOT = Path(__file__).resolve().parents[2]
SIZES = [(320, 240), (640, 360)]


def test_vocabulary_is_the_contract_table():
    assert world.COLOURS == {
        "red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 80, 220),
        "yellow": (240, 220, 40), "purple": (140, 60, 180), "orange": (245, 140, 30),
        "white": (245, 245, 245), "black": (20, 20, 20),
    }
    assert world.COLOUR_ZH == {
        "red": "红色", "green": "绿色", "blue": "蓝色", "yellow": "黄色",
        "purple": "紫色", "orange": "橙色", "white": "白色", "black": "黑色",
    }
    assert world.SHAPES == ["circle", "square", "triangle", "star", "cross", "diamond"]
    assert world.SHAPE_ZH == {
        "circle": "圆形", "square": "正方形", "triangle": "三角形",
        "star": "星形", "cross": "十字", "diamond": "菱形",
    }
    assert len(list(world.combinations())) == 336


def test_contract_queries_are_caption_forms():
    en = world.captions("circle", "red", "blue", "en")
    zh = world.captions("circle", "red", "blue", "zh")
    for q in ["a red circle", "red circle", "a red circle on a blue background",
              "circle", "something red"]:
        assert q in en
    for q in ["红色圆形", "蓝色背景上的红色圆形", "圆形", "红色的东西"]:
        assert q in zh
    assert world.full_caption("circle", "red", "blue", "en") == "a red circle on a blue background"
    assert world.full_caption("circle", "red", "blue", "zh") == "蓝色背景上的红色圆形"
    # every combination, both languages
    for s, c, b in world.combinations():
        en = world.captions(s, c, b, "en")
        zh = world.captions(s, c, b, "zh")
        cz, sz, bz = world.COLOUR_ZH[c], world.SHAPE_ZH[s], world.COLOUR_ZH[b]
        assert {f"a {c} {s}", f"{c} {s}", f"a {c} {s} on a {b} background", s,
                f"something {c}"} <= set(en)
        assert {f"{cz}{sz}", f"{bz}背景上的{cz}{sz}", sz} <= set(zh)
    # full captions are all distinct
    for lang in world.LANGS:
        full = {world.full_caption(*k, lang) for k in world.combinations()}
        assert len(full) == 336


def test_caption_semantics():
    forms = {f.template: f for f in world.CAPTION_FORMS["en"]}
    red_circle_blue = ("circle", "red", "blue")
    # "something red" is about the shape, not the background
    assert world.caption_matches(forms["something {c}"].uses, red_circle_blue, ("star", "red", "green"))
    assert not world.caption_matches(forms["something {c}"].uses, red_circle_blue, ("star", "green", "red"))
    assert world.caption_matches(forms["{s}"].uses, red_circle_blue, ("circle", "white", "black"))
    assert not world.caption_matches(forms["a {c} {s} on a {b} background"].uses, red_circle_blue,
                                     ("circle", "red", "green"))


def test_random_scene_properties():
    rng = np.random.default_rng(1)
    for _ in range(200):
        sc = world.random_scene(rng)
        assert 2.0 <= sc.duration <= 10.0
        assert sc.colour != sc.background
        assert sc.shape in world.SHAPES
        for t in np.linspace(0, sc.duration, 5):
            _, _, angle = sc.state(t)
            assert -30.0 - 1e-6 <= angle <= 30.0 + 1e-6
    assert world.random_scene(rng, duration=4.5).duration == 4.5
    sc = world.random_scene(rng, shape="star", colour="red", background="blue")
    assert (sc.shape, sc.colour, sc.background) == ("star", "red", "blue")
    with pytest.raises(ValueError):
        world.Scene("circle", "red", "red", 3.0)


def test_frames_are_deterministic_and_noisy():
    sc = world.random_scene(np.random.default_rng(2))
    a = world.render_frame(sc, 1.0, width=320, height=240)
    b = world.render_frame(sc, 1.0, width=320, height=240)
    assert a.shape == (240, 320, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    # another frame of the same scene has other noise
    c = world.render_frame(sc, 1.04, width=320, height=240)
    assert not np.array_equal(a, c)
    # noise is mild Gaussian, sigma about 6
    clean = world.render_frame(sc, 1.0, width=320, height=240, noise=0)
    diff = a.astype(float) - clean
    inner = world.shape_mask(sc, 1.0, width=320, height=240)
    # away from clipping (white/black saturate) the noise std is about 6
    ok = np.all((clean > 30) & (clean < 225), axis=2)
    if ok.sum() > 1000:
        assert 5.0 < diff[ok].std() < 7.0
    assert abs(diff.mean()) < 1.0
    assert inner.any()


@pytest.mark.parametrize("width,height", SIZES)
def test_shape_inside_frame_and_colours_right(width, height):
    rng = np.random.default_rng(3)
    for _ in range(40):
        sc = world.random_scene(rng)
        for t in (0.0, sc.duration / 2, sc.duration):
            mask = world.shape_mask(sc, t, width=width, height=height)
            ys, xs = np.nonzero(mask)
            assert len(ys) > 0
            # inside the frame, never touching its edges
            assert ys.min() > 0 and xs.min() > 0
            assert ys.max() < height - 1 and xs.max() < width - 1
            # inside the centre square that CLIP's centre crop keeps
            left = (width - height) / 2
            assert xs.min() >= left - 1 and xs.max() <= left + height + 1
            # bounding box 25-60 % of the frame height (1 px of rasterising slack)
            box = (ys.max() - ys.min() + 1) / height
            assert 0.25 - 2 / height <= box <= 0.60 + 2 / height, (sc, t, box)
        frame = world.render_frame(sc, 0.0, width=width, height=height)
        mask = world.shape_mask(sc, 0.0, width=width, height=height)
        # erode so edge pixels don't count
        core = mask.copy()
        for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            core &= np.roll(mask, (dy, dx), axis=(0, 1))
        fg = frame[core].astype(float).mean(axis=0)
        bg = frame[~mask].astype(float).mean(axis=0)
        assert np.abs(fg - world.COLOURS[sc.colour]).max() < 3, (sc.colour, fg)
        assert np.abs(bg - world.COLOURS[sc.background]).max() < 3, (sc.background, bg)


def test_shape_geometry():
    def box(shape):
        sc = world.Scene(shape, "red", "blue", 3.0, size=0.5)
        ys, xs = np.nonzero(world.shape_mask(sc, 0.0, width=640, height=480))
        return ys.max() - ys.min() + 1, xs.max() - xs.min() + 1, len(ys)

    h, w, _ = box("diamond")
    assert h == pytest.approx(240, abs=2) and h / w == pytest.approx(1.4, abs=0.03)
    h, w, area = box("square")
    assert h == pytest.approx(w, abs=2) and area == pytest.approx(240 * 240, rel=0.02)
    h, w, area = box("cross")  # an upright plus: far less area than its box
    assert h == pytest.approx(w, abs=2) and area < 0.7 * h * w
    h, w, area = box("circle")
    assert area == pytest.approx(np.pi * 120 ** 2, rel=0.02)
    # a diamond is not a rotated square
    sq = world.Scene("square", "red", "blue", 3.0, angle0=45.0, size=0.5)
    dm = world.Scene("diamond", "red", "blue", 3.0, size=0.5)
    a = world.shape_mask(sq, 0, width=640, height=480)
    b = world.shape_mask(dm, 0, width=640, height=480)
    ya, xa = np.nonzero(a)
    yb, xb = np.nonzero(b)
    assert (ya.max() - ya.min()) / (xa.max() - xa.min()) == pytest.approx(1.0, abs=0.02)
    assert (yb.max() - yb.min()) / (xb.max() - xb.min()) == pytest.approx(1.4, abs=0.03)


def test_shapes_drift_and_turn():
    sc = world.Scene("square", "red", "blue", 4.0, x0=-0.1, vx=0.05, angle0=-10, omega=5, size=0.3)
    m0 = world.shape_mask(sc, 0.0, width=320, height=240)
    m1 = world.shape_mask(sc, 4.0, width=320, height=240)
    x0 = np.nonzero(m0)[1].mean()
    x1 = np.nonzero(m1)[1].mean()
    assert x1 - x0 == pytest.approx(0.2 * 240, abs=1.5)
    assert sc.state(4.0)[2] == pytest.approx(10.0)
    # time is clamped to the scene
    assert np.array_equal(world.shape_mask(sc, 9.0, width=320, height=240), m1)


def test_training_image():
    rng = np.random.default_rng(4)
    for _ in range(20):
        img, s, c, b = world.render_training_image(rng, 48)
        assert img.shape == (48, 48, 3) and img.dtype == np.uint8
        assert s in world.SHAPES and c in world.COLOURS and b in world.COLOURS and c != b


def test_still_images(tmp_path):
    sc = world.random_scene(np.random.default_rng(5))
    png = tmp_path / "a.png"
    write_world_image(png, sc, width=320, height=240, t=0.5)
    assert np.array_equal(np.asarray(Image.open(png).convert("RGB")),
                          world.render_frame(sc, 0.5, width=320, height=240))
    jpg = tmp_path / "a.jpg"
    write_world_image(jpg, sc, width=640, height=360)
    im = Image.open(jpg)
    assert im.format == "JPEG" and im.size == (640, 360)


def test_video_decodes_to_right_duration_and_fps(tmp_path):
    av = pytest.importorskip("av")
    scenes = [
        world.Scene("circle", "red", "blue", 2.0, size=0.4, seed=1),
        world.Scene("star", "yellow", "black", 3.0, size=0.5, seed=2),
    ]
    path = tmp_path / "w.mp4"
    truth = write_world_video(path, scenes, fps=25, width=320, height=240)
    assert [(round(s, 6), round(e, 6), sc) for s, e, sc in truth] == [
        (0.0, 2.0, scenes[0]), (2.0, 5.0, scenes[1])]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert float(stream.average_rate) == pytest.approx(25.0)
        assert (stream.width, stream.height) == (320, 240)
        frames = [(f.time, f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    assert len(frames) == 125
    assert frames[0][0] == pytest.approx(0.0)
    assert frames[-1][0] == pytest.approx(4.96)
    # the corner of the frame shows each scene's background
    for t, arr in frames:
        bg = scenes[0].background if t < 2.0 else scenes[1].background
        corner = arr[:20, :20].reshape(-1, 3).astype(float).mean(axis=0)
        assert np.abs(corner - world.COLOURS[bg]).max() < 12, (t, corner)
    # and the middle of the first scene shows the red circle
    arr = frames[25][1]
    mask = world.shape_mask(scenes[0], 1.0, width=320, height=240)
    assert np.abs(arr[mask].astype(float).mean(axis=0) - world.COLOURS["red"]).max() < 15


def test_fractional_durations_and_other_fps(tmp_path):
    pytest.importorskip("av")
    import av

    rng = np.random.default_rng(6)
    scenes = [world.random_scene(rng, duration=d) for d in (2.3, 2.5)]
    path = tmp_path / "w.mkv"
    truth = write_world_video(path, scenes, fps=30, width=640, height=360)
    assert truth[-1][1] == pytest.approx(4.8)
    with av.open(str(path)) as container:
        n = sum(1 for _ in container.decode(video=0))
        assert float(container.streams.video[0].average_rate) == pytest.approx(30.0)
    assert n == 144


def test_world_needs_no_django_or_torch():
    code = ("import sys; import workers.ml.demo.world, workers.ml.demo.video, workers.ml.demo; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'torch', 'open_clip')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
