"""Stand-ins for the face compute's output (workers/ml/faces.py) and people rows made through the services.

The services read the compute's results duck-typed, so these dataclasses have the same fields:
a track is its sightings, a sighting has a time, a box, scores, a 128-d vector and a crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from mediahub.people import services
from tests.assets.test_pages import make_asset
from tests.people.embeddings import faces_of


@dataclass(frozen=True)
class Sighting:
    time: float
    box: tuple[int, int, int, int]
    score: float
    sharpness: float
    vector: np.ndarray | None
    chip: Image.Image | None


@dataclass
class TrackResult:
    sightings: list[Sighting]


def track_result(centre: np.ndarray, rng: np.random.Generator, *, start: float = 0.0, seconds: int = 3,
                 box=(100, 80, 60, 60), tint=(180, 140, 120)) -> TrackResult:
    """One face seen for `seconds` sampled seconds from `start`, drifting a pixel a second."""
    vectors = faces_of(centre, seconds, rng)
    x, y, w, h = box
    return TrackResult([
        Sighting(time=start + i, box=(x + i, y, w, h), score=1.0, sharpness=50.0 + 10 * i, vector=vectors[i],
                 chip=Image.new("RGB", (150, 150), tint))
        for i in range(seconds)
    ])


def asset_with_faces(owner, *tracks: TrackResult, title: str = "Interview"):
    asset = make_asset(owner, title=title, content=title.encode() + bytes(rng_bytes()))
    services.faces_replace(asset=asset, tracks=list(tracks))
    return asset


_counter = iter(range(1, 10**6))


def rng_bytes() -> bytes:
    return next(_counter).to_bytes(4, "big")
