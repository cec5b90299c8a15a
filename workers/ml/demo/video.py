"""Write videos and stills of the test-pattern world (PyAV, PIL; no Django)."""

from __future__ import annotations

import bisect
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from .world import Scene, render_frame

_CODECS = {"h264": "libx264", "avc": "libx264", "h265": "libx265", "hevc": "libx265"}


def write_world_video(
    path,
    scenes: list[Scene],
    *,
    fps: float = 25,
    width: int = 320,
    height: int = 240,
    codec: str = "h264",
    crf: int = 23,
) -> list[tuple[float, float, Scene]]:
    """Encode ``scenes`` back to back into ``path`` (container from the
    extension, e.g. .mp4/.mkv/.mov) and return the ground truth as
    ``[(start, end, scene), ...]`` in seconds from the first frame.

    Frame i shows time i/fps; it belongs to the scene whose [start, end)
    contains that time and shows that scene at (i/fps - start).  The video has
    round(total duration * fps) frames.  ``codec`` "h264" means libx264,
    yuv420p; other names go to PyAV as they are (e.g. "mpeg4", "libvpx-vp9").
    """
    import av  # imported here so world.py users don't need PyAV

    if not scenes:
        raise ValueError("need at least one scene")
    if width % 2 or height % 2:
        raise ValueError("yuv420p needs an even width and height")
    bounds: list[tuple[float, float, Scene]] = []
    t = 0.0
    for sc in scenes:
        bounds.append((t, t + sc.duration, sc))
        t += sc.duration
    starts = [b[0] for b in bounds]
    n_frames = max(1, int(round(t * fps)))

    rate = Fraction(fps).limit_denominator(1001)
    path = Path(path)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(_CODECS.get(codec, codec), rate=rate)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        if stream.codec_context.name == "libx264":
            stream.options = {"preset": "ultrafast", "crf": str(crf)}
        stream.codec_context.time_base = 1 / rate
        for i in range(n_frames):
            ti = i / float(rate)
            k = max(0, bisect.bisect_right(starts, ti) - 1)
            start, _, sc = bounds[k]
            arr = render_frame(sc, ti - start, width=width, height=height)
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts = i
            frame.time_base = stream.codec_context.time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return bounds


def write_world_image(
    path, scene: Scene, *, width: int = 320, height: int = 240, t: float = 0.0, quality: int = 92
) -> None:
    """Save the frame of ``scene`` at time ``t`` as a still (format from the
    extension: .png, .jpg/.jpeg, .webp, ...)."""
    arr = render_frame(scene, t, width=width, height=height)
    img = Image.fromarray(np.ascontiguousarray(arr))
    suffix = Path(path).suffix.lower()
    if suffix in (".jpg", ".jpeg", ".webp"):
        img.save(str(path), quality=quality)
    else:
        img.save(str(path))
