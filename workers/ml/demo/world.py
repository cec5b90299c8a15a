"""The test-pattern world of CONTRACT.md section 5, as a pure numpy/PIL generator.

A frame: a background of one colour and on it one shape of another colour,
drifting and turning slowly (within +-30 degrees of upright), with mild
Gaussian noise (sigma ~ 6 of 255).  Nothing here imports Django or torch.

Geometry conventions
--------------------
Positions, velocities and sizes of a :class:`Scene` are measured in units of
the frame *height*, positions relative to the centre of the frame (x to the
right, y down).  A scene therefore looks the same at any aspect ratio inside
the central H x H square -- which is exactly the square that CLIP's default
preprocessing (resize shortest side, centre crop) keeps.  :func:`random_scene`
keeps the whole shape inside that square by default (``roam=1.0``), so it is
inside the frame for every landscape frame and always fully visible to the
model; pass a larger ``roam`` (e.g. ``4/3``) to let shapes use more of a wide
frame.

``size`` is the height of the upright shape's bounding box as a fraction of
the frame height; :func:`random_scene` chooses it so that the bounding box at
every angle the scene visits stays within 25-60 % of the frame height.

Angles are in degrees, positive = clockwise on screen.

Determinism: :func:`render_frame` seeds its noise from ``(scene.seed,
frame_key)`` where ``frame_key = round(t * 1000)`` (the time in ms, i.e. a
frame index at millisecond resolution), so a given scene and time always give
the same pixels.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Iterator, NamedTuple

import numpy as np
from PIL import Image, ImageDraw

# --------------------------------------------------------------------------
# The vocabulary of the world (CONTRACT.md section 5 -- do not change)
# --------------------------------------------------------------------------

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 220, 40),
    "purple": (140, 60, 180),
    "orange": (245, 140, 30),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}

COLOUR_ZH: dict[str, str] = {
    "red": "红色",
    "green": "绿色",
    "blue": "蓝色",
    "yellow": "黄色",
    "purple": "紫色",
    "orange": "橙色",
    "white": "白色",
    "black": "黑色",
}

SHAPES: list[str] = ["circle", "square", "triangle", "star", "cross", "diamond"]

SHAPE_ZH: dict[str, str] = {
    "circle": "圆形",
    "square": "正方形",
    "triangle": "三角形",
    "star": "星形",
    "cross": "十字",
    "diamond": "菱形",
}

LANGS = ("en", "zh")

NOISE_SIGMA = 6.0
MIN_BOX = 0.25  # bounding box height, fraction of frame height
MAX_BOX = 0.60
MAX_TILT = 30.0  # degrees from upright
MIN_DURATION = 2.0
MAX_DURATION = 10.0


def combinations() -> Iterator[tuple[str, str, str]]:
    """Every (shape, colour, background) of the world, colour != background (336)."""
    for shape in SHAPES:
        for colour in COLOURS:
            for background in COLOURS:
                if colour != background:
                    yield shape, colour, background


# --------------------------------------------------------------------------
# Shapes: unit outlines, upright, bounding box height 1, centred on (0, 0)
# --------------------------------------------------------------------------

def _centre_box(pts: np.ndarray) -> np.ndarray:
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pts = pts - (lo + hi) / 2.0
    return pts / (hi[1] - lo[1])


def _unit_outline(shape: str) -> np.ndarray:
    if shape == "circle":
        a = np.linspace(0.0, 2.0 * math.pi, 96, endpoint=False)
        pts = np.stack([np.cos(a), np.sin(a)], axis=1) * 0.5
    elif shape == "square":
        pts = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    elif shape == "triangle":  # equilateral, point up
        s = 2.0 / math.sqrt(3.0)
        pts = np.array([[0.0, -0.5], [s / 2, 0.5], [-s / 2, 0.5]])
    elif shape == "star":  # five points, one pointing up
        outer, inner = 1.0, 0.42
        pts = []
        for k in range(10):
            r = outer if k % 2 == 0 else inner
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((r * math.cos(a), r * math.sin(a)))
        pts = np.array(pts)
    elif shape == "cross":  # upright plus sign, arms a third of the extent thick
        h = 1.0 / 6.0
        pts = np.array([
            [-h, -0.5], [h, -0.5], [h, -h], [0.5, -h], [0.5, h], [h, h],
            [h, 0.5], [-h, 0.5], [-h, h], [-0.5, h], [-0.5, -h], [-h, -h],
        ])
    elif shape == "diamond":  # rhombus 1.4x as tall as wide
        w = 0.5 / 1.4
        pts = np.array([[0.0, -0.5], [w, 0.0], [0.0, 0.5], [-w, 0.0]])
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {SHAPES}")
    return _centre_box(np.asarray(pts, dtype=np.float64))


_OUTLINES: dict[str, np.ndarray] = {s: _unit_outline(s) for s in SHAPES}


def _rotate(pts: np.ndarray, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    # y points down, so this is clockwise on screen for positive angles
    return pts @ np.array([[c, s], [-s, c]])


def _half_extents(shape: str, angles: np.ndarray) -> tuple[float, float, float, float]:
    """(max half-width, max half-height, min box height, max box height) of the
    unit shape over the given angles."""
    hx, hy, hmin, hmax = 0.0, 0.0, math.inf, 0.0
    for a in np.atleast_1d(angles):
        p = _rotate(_OUTLINES[shape], float(a))
        hx = max(hx, float(np.abs(p[:, 0]).max()))
        hy = max(hy, float(np.abs(p[:, 1]).max()))
        box_h = float(p[:, 1].max() - p[:, 1].min())
        hmin, hmax = min(hmin, box_h), max(hmax, box_h)
    return hx, hy, hmin, hmax


# --------------------------------------------------------------------------
# Scenes
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Scene:
    """One shot of the world.  Units: see the module docstring."""

    shape: str
    colour: str
    background: str
    duration: float
    x0: float = 0.0  # centre at t=0, frame heights right of the frame centre
    y0: float = 0.0  # centre at t=0, frame heights below the frame centre
    vx: float = 0.0  # drift, frame heights per second
    vy: float = 0.0
    angle0: float = 0.0  # degrees at t=0, positive = clockwise
    omega: float = 0.0  # degrees per second
    size: float = 0.4  # upright bounding-box height / frame height
    seed: int = 0

    def __post_init__(self):
        if self.shape not in SHAPES:
            raise ValueError(f"unknown shape {self.shape!r}")
        if self.colour not in COLOURS or self.background not in COLOURS:
            raise ValueError(f"unknown colour in {self.colour!r}/{self.background!r}")
        if self.colour == self.background:
            raise ValueError("shape colour must differ from the background")
        if not self.duration > 0:
            raise ValueError("duration must be positive")

    def state(self, t: float) -> tuple[float, float, float]:
        """(x, y, angle) at time t (clamped to the scene)."""
        t = min(max(float(t), 0.0), self.duration)
        return self.x0 + self.vx * t, self.y0 + self.vy * t, self.angle0 + self.omega * t

    def caption(self, lang: str = "en") -> str:
        return full_caption(self.shape, self.colour, self.background, lang)


def random_scene(
    rng: np.random.Generator,
    *,
    duration: float | None = None,
    shape: str | None = None,
    colour: str | None = None,
    background: str | None = None,
    roam: float = 1.0,
) -> Scene:
    """A random scene, 2-10 s unless ``duration`` is given.

    The shape's bounding box stays within 25-60 % of the frame height at every
    angle visited, the angle within +-30 degrees of upright, and the whole
    shape inside the central ``roam`` x 1 region (in frame heights) for the
    whole scene -- with the default ``roam=1`` that is the centre square CLIP
    sees, and inside the frame for any aspect ratio >= 1.  ``shape``,
    ``colour`` and ``background`` can be pinned.
    """
    if duration is None:
        duration = float(rng.uniform(MIN_DURATION, MAX_DURATION))
    duration = float(duration)
    shape = shape or SHAPES[int(rng.integers(len(SHAPES)))]
    names = list(COLOURS)
    if colour is None:
        colour = names[int(rng.integers(len(names)))]
        while colour == background:
            colour = names[int(rng.integers(len(names)))]
    if background is None:
        others = [c for c in names if c != colour]
        background = others[int(rng.integers(len(others)))]

    # rotation: start and end within +-30 degrees, at most 30 degrees of turn
    a0 = float(rng.uniform(-MAX_TILT, MAX_TILT))
    a1 = float(np.clip(a0 + rng.uniform(-MAX_TILT, MAX_TILT), -MAX_TILT, MAX_TILT))
    angles = np.linspace(a0, a1, 13)
    hx, hy, hmin, hmax = _half_extents(shape, angles)
    lo, hi = MIN_BOX / hmin, MAX_BOX / hmax
    size = float(rng.uniform(lo, max(lo, hi)))

    # drift: start and end anywhere that keeps the shape inside the region
    mx = max(0.0, roam / 2.0 - hx * size - 0.01)
    my = max(0.0, 0.5 - hy * size - 0.01)
    x0, y0 = float(rng.uniform(-mx, mx)), float(rng.uniform(-my, my))
    x1, y1 = float(rng.uniform(-mx, mx)), float(rng.uniform(-my, my))
    step = math.hypot(x1 - x0, y1 - y0)
    max_drift = 0.35  # frame heights over the scene: a slow drift
    if step > max_drift:
        k = max_drift / step
        x1, y1 = x0 + (x1 - x0) * k, y0 + (y1 - y0) * k
    return Scene(
        shape=shape, colour=colour, background=background, duration=duration,
        x0=x0, y0=y0, vx=(x1 - x0) / duration, vy=(y1 - y0) / duration,
        angle0=a0, omega=(a1 - a0) / duration, size=size,
        seed=int(rng.integers(0, 2**31 - 1)),
    )


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

def shape_polygon(scene: Scene, t: float, *, width: int, height: int) -> np.ndarray:
    """The shape outline at time t, in pixel coordinates (N x 2, x then y)."""
    x, y, angle = scene.state(t)
    pts = _rotate(_OUTLINES[scene.shape], angle) * (scene.size * height)
    pts[:, 0] += width / 2.0 + x * height
    pts[:, 1] += height / 2.0 + y * height
    return pts


def shape_mask(scene: Scene, t: float, *, width: int, height: int) -> np.ndarray:
    """Boolean H x W mask of the shape at time t (no noise)."""
    return _polygon_mask(shape_polygon(scene, t, width=width, height=height), width, height)


def _polygon_mask(pts: np.ndarray, width: int, height: int) -> np.ndarray:
    img = Image.new("L", (width, height), 0)
    # PIL's pixel centres are at integer coordinates
    ImageDraw.Draw(img).polygon([(float(a) - 0.5, float(b) - 0.5) for a, b in pts], fill=255)
    return np.asarray(img) > 127


def _compose(mask: np.ndarray, colour: str, background: str) -> np.ndarray:
    bg = np.asarray(COLOURS[background], dtype=np.float32)
    fg = np.asarray(COLOURS[colour], dtype=np.float32)
    out = np.empty(mask.shape + (3,), dtype=np.float32)
    out[...] = bg
    out[mask] = fg
    return out


_BANK_SIZE = 6
_BANK_PAD = 32
_BANK_SIGMA = 6.0


@functools.lru_cache(maxsize=4)
def _noise_bank(height: int, width: int) -> np.ndarray:
    """A few fixed fields of N(0, 6^2) noise (int8), a little larger than the
    frame; frames take a seeded window of one.  Generating fresh Gaussian
    noise for every frame costs more than encoding it."""
    rng = np.random.default_rng(0x5EED)
    bank = rng.standard_normal(
        (_BANK_SIZE, height + _BANK_PAD, width + _BANK_PAD, 3), dtype=np.float32)
    bank *= np.float32(_BANK_SIGMA)
    return np.clip(np.rint(bank), -127, 127).astype(np.int8)


def _frame_noise(seed: int, key: int, height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng([seed & 0xFFFFFFFF, key & 0xFFFFFFFF])
    j, dy, dx = rng.integers(0, [_BANK_SIZE, _BANK_PAD + 1, _BANK_PAD + 1])
    return _noise_bank(height, width)[j, dy:dy + height, dx:dx + width]


def render_frame(
    scene: Scene, t: float, *, width: int, height: int, noise: float = NOISE_SIGMA
) -> np.ndarray:
    """The frame at time t as an H x W x 3 uint8 RGB array, with Gaussian noise
    of sigma ``noise``, seeded from (scene.seed, round(t*1000)): the same
    scene and time always give the same pixels."""
    mask = shape_mask(scene, t, width=width, height=height)
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[...] = COLOURS[scene.background]
    out[mask] = COLOURS[scene.colour]
    if noise <= 0:
        return out
    field = _frame_noise(scene.seed, int(round(float(t) * 1000.0)), height, width)
    img = out.astype(np.int16)
    if noise == _BANK_SIGMA:
        img += field
    else:
        img = np.rint(img + field * np.float32(noise / _BANK_SIGMA))
    return np.clip(img, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------
# Captions
# --------------------------------------------------------------------------

class CaptionForm(NamedTuple):
    """A way of describing a frame.  ``uses`` names the attributes a caption of
    this form pins down (a subset of shape/colour/background); a caption is
    true of every frame that agrees on those attributes."""

    template: str
    uses: frozenset
    weight: float  # relative sampling weight in training

    @property
    def full(self) -> bool:
        return self.uses == _SCB

    def render(self, shape: str, colour: str, background: str, lang: str) -> str:
        if lang == "zh":
            s, c, b = SHAPE_ZH[shape], COLOUR_ZH[colour], COLOUR_ZH[background]
        else:
            s, c, b = shape, colour, background
        return self.template.format(s=s, c=c, b=b)


_S, _C, _B = "shape", "colour", "background"
_SCB = frozenset({_S, _C, _B})


def _forms(spec: list[tuple[str, set, float]]) -> list[CaptionForm]:
    return [CaptionForm(t, frozenset(u), w) for t, u, w in spec]


CAPTION_FORMS: dict[str, list[CaptionForm]] = {
    "en": _forms([
        # full forms (the first is the canonical one)
        ("a {c} {s} on a {b} background", {_S, _C, _B}, 6.0),
        ("{c} {s} on {b} background", {_S, _C, _B}, 2.0),
        ("a {c} {s} on {b}", {_S, _C, _B}, 1.0),
        ("{c} {s} on a {b} background", {_S, _C, _B}, 1.0),
        # colour + shape
        ("a {c} {s}", {_S, _C}, 3.0),
        ("{c} {s}", {_S, _C}, 3.0),
        ("the {c} {s}", {_S, _C}, 0.5),
        # shape
        ("{s}", {_S}, 2.5),
        ("a {s}", {_S}, 2.0),
        ("the {s}", {_S}, 0.3),
        ("a {s} shape", {_S}, 0.3),
        # colour of the shape
        ("something {c}", {_C}, 2.5),
        ("a {c} shape", {_C}, 1.0),
        ("{c} shape", {_C}, 0.5),
        ("a {c} thing", {_C}, 0.5),
        ("{c}", {_C}, 1.0),
        # shape + background
        ("a {s} on a {b} background", {_S, _B}, 1.0),
        ("{s} on {b} background", {_S, _B}, 0.5),
        # colour + background
        ("something {c} on a {b} background", {_C, _B}, 1.0),
        ("a {c} shape on a {b} background", {_C, _B}, 0.5),
        # background
        ("a {b} background", {_B}, 1.0),
        ("{b} background", {_B}, 0.5),
    ]),
    "zh": _forms([
        ("{b}背景上的{c}{s}", {_S, _C, _B}, 6.0),
        ("{b}背景上的一个{c}{s}", {_S, _C, _B}, 1.5),
        ("{b}背景中的{c}{s}", {_S, _C, _B}, 1.0),
        ("{b}底色上的{c}{s}", {_S, _C, _B}, 0.5),
        ("{c}{s}", {_S, _C}, 4.0),
        ("一个{c}{s}", {_S, _C}, 1.0),
        ("{c}的{s}", {_S, _C}, 1.0),
        ("{s}", {_S}, 3.0),
        ("一个{s}", {_S}, 1.0),
        ("{c}的东西", {_C}, 2.5),
        ("{c}的形状", {_C}, 1.0),
        ("{c}的物体", {_C}, 0.5),
        ("{c}", {_C}, 1.0),
        ("{b}背景上的{s}", {_S, _B}, 1.0),
        ("{b}背景上{c}的东西", {_C, _B}, 1.0),
        ("{b}背景", {_B}, 1.0),
        ("{b}的背景", {_B}, 0.5),
    ]),
}


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")


def captions(shape: str, colour: str, background: str, lang: str = "en") -> list[str]:
    """Every caption form (full and partial) that is true of such a frame."""
    _check_lang(lang)
    return [f.render(shape, colour, background, lang) for f in CAPTION_FORMS[lang]]


def full_caption(shape: str, colour: str, background: str, lang: str = "en") -> str:
    """The canonical full caption: 'a red circle on a blue background' / '蓝色背景上的红色圆形'."""
    _check_lang(lang)
    return CAPTION_FORMS[lang][0].render(shape, colour, background, lang)


def caption_matches(uses: frozenset, attrs: tuple[str, str, str], other: tuple[str, str, str]) -> bool:
    """Is a caption of form ``uses`` rendered for ``attrs`` true of a frame ``other``?"""
    s, c, b = attrs
    os_, oc, ob = other
    return ((_S not in uses or s == os_) and (_C not in uses or c == oc)
            and (_B not in uses or b == ob))


# --------------------------------------------------------------------------
# Training images
# --------------------------------------------------------------------------

_ASPECTS = (4 / 3, 16 / 9, 1.0, 3 / 2, 1.85, 3 / 4)
_ASPECT_P = (0.42, 0.30, 0.10, 0.08, 0.05, 0.05)


def _to_yuv420_and_back(img: np.ndarray) -> np.ndarray:
    """Approximate a yuv420p round trip (BT.601): full-res luma, 2x2 chroma."""
    h, w = img.shape[:2]
    h2, w2 = h - h % 2, w - w % 2
    img = img[:h2, :w2]
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = (b - y) * 0.564
    cr = (r - y) * 0.713
    cb = cb.reshape(h2 // 2, 2, w2 // 2, 2).mean(axis=(1, 3)).repeat(2, 0).repeat(2, 1)
    cr = cr.reshape(h2 // 2, 2, w2 // 2, 2).mean(axis=(1, 3)).repeat(2, 0).repeat(2, 1)
    out = np.empty_like(img)
    out[..., 0] = y + 1.403 * cr
    out[..., 1] = y - 0.344 * cb - 0.714 * cr
    out[..., 2] = y + 1.773 * cb
    return out


def render_training_image(
    rng: np.random.Generator,
    size: int = 48,
    *,
    min_visible: float = 0.4,
    shape: str | None = None,
    colour: str | None = None,
    background: str | None = None,
) -> tuple[np.ndarray, str, str, str]:
    """A random training image, as the model sees frames at inference time.

    A frame of a random aspect ratio (mostly 4:3 and 16:9) is rendered at a
    small working resolution with the shape anywhere in it, degraded a little
    (noise, an approximate yuv420p round trip, a slight colour cast), then
    resized with its shortest side to ``size`` (bicubic) and centre-cropped to
    ``size`` x ``size`` -- the same thing open_clip's preprocessing does to a
    320x240 or 1280x720 frame.  A shape partly outside the crop keeps its
    label as long as ``min_visible`` of its area is inside the crop.

    ``shape``, ``colour`` and ``background`` can be pinned.

    Returns (size x size x 3 uint8 RGB, shape, colour, background).
    """
    want = (shape, colour, background)
    aspect = float(_ASPECTS[int(rng.choice(len(_ASPECTS), p=_ASPECT_P))])
    hr = int(rng.integers(size + size // 4, 2 * size + 1))  # working frame height
    wr = max(2, int(round(hr * aspect)))
    hr = max(2, hr)
    while True:
        names = list(COLOURS)
        shape = want[0] or SHAPES[int(rng.integers(len(SHAPES)))]
        colour = want[1] or names[int(rng.integers(len(names)))]
        background = want[2] or names[int(rng.integers(len(names)))]
        if colour == background:
            if want[1] and want[2]:
                raise ValueError("colour and background must differ")
            continue
        angle = float(rng.uniform(-MAX_TILT, MAX_TILT))
        _, _, hmin, hmax = _half_extents(shape, np.array([angle]))
        box = float(rng.uniform(0.23, 0.62))
        sz = box / hmax
        # anywhere in the frame: the centre may sit anywhere the box fits
        p = _rotate(_OUTLINES[shape], angle) * sz
        hx, hy = float(np.abs(p[:, 0]).max()), float(np.abs(p[:, 1]).max())
        fw = wr / hr
        if rng.random() < 0.35:
            # anywhere in the full frame
            mx = max(0.0, fw / 2 - hx)
        else:
            # inside or around the centre square (what random_scene produces)
            mx = max(0.0, min(fw, 1.0) / 2 - hx * 0.5)
        my = max(0.0, 0.5 - hy)
        scene = Scene(shape, colour, background, 1.0,
                      x0=float(rng.uniform(-mx, mx)), y0=float(rng.uniform(-my, my)),
                      angle0=angle, size=sz, seed=int(rng.integers(0, 2**31 - 1)))
        mask = shape_mask(scene, 0.0, width=wr, height=hr)
        total = mask.sum()
        if total == 0:
            continue
        # the centre crop in working-resolution pixels
        side = min(wr, hr)
        left, top = (wr - side) // 2, (hr - side) // 2
        inside = mask[top:top + side, left:left + side].sum()
        if inside >= min_visible * total:
            break

    img = _compose(mask, colour, background)
    # noise: sigma 6 at full resolution shrinks when downscaled; vary it
    sigma = float(rng.uniform(0.5, 6.5))
    bank = _noise_bank(2 * size + 8, 4 * size)
    j = int(rng.integers(_BANK_SIZE))
    dy = int(rng.integers(bank.shape[1] - hr + 1))
    dx = int(rng.integers(bank.shape[2] - wr + 1))
    img += bank[j, dy:dy + hr, dx:dx + wr] * np.float32(sigma / _BANK_SIGMA)
    img += rng.normal(0.0, 4.0, size=3).astype(np.float32)  # slight colour cast
    if rng.random() < 0.5:
        img = _to_yuv420_and_back(img)
    np.clip(img, 0.0, 255.0, out=img)
    pil = Image.fromarray((img + 0.5).astype(np.uint8))
    w, h = pil.size
    if w <= h:
        nw, nh = size, max(size, int(size * h / w))
    else:
        nw, nh = max(size, int(size * w / h)), size
    pil = pil.resize((nw, nh), Image.BICUBIC)
    left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))
    pil = pil.crop((left, top, left + size, top + size))
    return np.asarray(pil), shape, colour, background
