"""Odd media files for the tests, made with PyAV: rotated, variable frame rate, audio-only, damaged."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from workers.ml.demo.world import Scene, render_frame

SCENE = Scene(shape="circle", colour="red", background="blue", duration=10.0, seed=3)


def write_frames(path: Path, times: list[float], *, width=320, height=240, rotation: int | None = None,
                 options: dict | None = None, container_options: dict | None = None) -> Path:
    """H.264 with one frame at each of `times` (seconds, millisecond timestamps: any rate, even variable)."""
    with av.open(str(path), "w", options=container_options or {}) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", **(options or {})}
        stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for t in times:
            frame = av.VideoFrame.from_ndarray(render_frame(SCENE, t, width=width, height=height), format="rgb24")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def constant_rate_times(seconds: float, fps: float = 25) -> list[float]:
    return [i / fps for i in range(max(1, round(seconds * fps)))]


def write_audio_only(path: Path, seconds: float = 2.0) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        samples = int(seconds * 44100)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 44100)).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = tone[start:start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def truncated_copy(source: Path, target: Path, fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target
