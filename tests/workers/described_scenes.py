"""Shots of generated scenes as the pipeline sees them, for the description tests: a video encoded
with PyAV, sampled by workers.media.frames, each frame stored as JPEG and embedded by the model."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from workers.media.frames import encode_jpeg, sample_video
from workers.ml.demo import world
from workers.ml.demo.video import write_world_video
from workers.ml.demo.world import Scene


def stored_frame(image: Image.Image) -> Image.Image:
    """The frame as the pipeline keeps it: a JPEG, read back."""
    return Image.open(io.BytesIO(encode_jpeg(image))).convert("RGB")


def scene_shots(model, folder: Path, scenes: list[Scene]) -> list[tuple[Scene, np.ndarray]]:
    """[(scene, image vectors of its sampled frames)] of a generated video of `scenes`."""
    path = folder / "scenes.mp4"
    bounds = write_world_video(path, scenes, fps=10, width=320, height=240)
    frames = list(sample_video(path, interval=1.0))
    vectors = model.embed_images([stored_frame(frame.image) for frame in frames])
    times = np.array([frame.time for frame in frames])
    return [(scene, vectors[(times >= start) & (times < end)]) for start, end, scene in bounds]


def canonical(scene: Scene) -> tuple[str, str]:
    """The scene's sentence in English and Chinese, as the world's generator words it."""
    en = world.full_caption(scene.shape, scene.colour, scene.background, "en").replace("a orange", "an orange")
    return en[0].upper() + en[1:] + ".", world.full_caption(scene.shape, scene.colour, scene.background, "zh") + "。"
