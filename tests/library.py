"""A small library of generated test-pattern videos, processed by the real pipeline with the demo model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from unittest import mock

from mediahub.assets.models import Asset
from mediahub.assets.services import asset_create, asset_delete
from workers import tasks  # noqa: F401  (registers the pipeline steps run below)
from workers.ml.demo.video import write_world_image, write_world_video
from workers.ml.demo.world import Scene
from workers.pipeline import pipeline_signature


def scene(shape, colour, background, duration, seed, **motion) -> Scene:
    return Scene(shape=shape, colour=colour, background=background, duration=duration, seed=seed, **motion)


# Each video: (file name, title, scenes). Every colour+shape pair of a query
# below appears in known seconds; the rest is other footage.
LIBRARY = [
    ("harbour.mp4", "Harbour at dawn", [
        scene("square", "green", "white", 6, 1, x0=-0.1, vx=0.02),
        scene("circle", "red", "blue", 5, 2, x0=0.15, vx=-0.03),
        scene("star", "yellow", "black", 6, 3, omega=3),
        scene("triangle", "purple", "orange", 5, 4, y0=0.1)]),
    ("council.mp4", "Council meeting", [
        scene("cross", "white", "black", 5, 5),
        scene("diamond", "orange", "blue", 6, 6, x0=0.2),
        scene("circle", "red", "green", 7, 7, x0=-0.2, vx=0.02),
        scene("square", "blue", "yellow", 5, 8)]),
    ("storm.mp4", "Storm over the bridge", [
        scene("triangle", "green", "purple", 5, 9),
        scene("star", "black", "white", 5, 10, angle0=20),
        scene("cross", "yellow", "red", 6, 11),
        scene("diamond", "white", "green", 6, 12)]),
    ("parade.mp4", "Parade of lanterns", [  # circles of six colours, a black cross between each two
        shot for i, (colour, background) in enumerate([("blue", "yellow"), ("yellow", "purple"), ("white", "blue"),
                                                       ("orange", "black"), ("green", "white"), ("purple", "green")])
        for shot in (scene("circle", colour, background, 4, 20 + i), scene("cross", "black", "white", 3, 30 + i))]),
]
STILL = ("poster.png", "Campaign poster", scene("star", "orange", "purple", 1, 13))


@dataclass
class Library:
    assets: dict[str, Asset]  # by file name
    truth: dict[str, list[tuple[float, float, Scene]]]  # scene bounds by file name

    def ranges(self, **attrs) -> list[tuple[int, float, float]]:
        """(asset id, start, end) of every scene with these attributes."""
        return [(self.assets[name].pk, start, end) for name, bounds in self.truth.items()
                for start, end, sc in bounds if all(getattr(sc, k) == v for k, v in attrs.items())]


def ingest(path: Path, title: str) -> Asset:
    """Upload, then run the pipeline here rather than through the broker (no worker in these tests)."""
    asset = ingest_until_done(path, title)
    assert asset.status == Asset.Status.READY, asset.error
    return asset


def ingest_until_done(path: Path, title: str) -> Asset:
    """Upload and run the pipeline here; the asset as it ends (ready or failed)."""
    with open(path, "rb") as source, mock.patch("mediahub.assets.services.pipeline_start"):
        asset = asset_create(source=source, filename=path.name, owner=None, title=title).asset
    pipeline_signature(asset_id=asset.pk, run_id=asset.run_id, first_step="asset_probe").apply()
    asset.refresh_from_db()
    return asset


def library_build(folder: Path) -> Library:
    assets, truth = {}, {}
    for name, title, scenes in LIBRARY:
        path, truth[name] = _written_once(folder / name, lambda path, scenes=scenes: write_world_video(
            path, scenes, fps=10, width=320, height=240))
        assets[name] = ingest(path, title)
    name, title, still = STILL
    path, _ = _written_once(folder / name, lambda path: write_world_image(path, still))
    truth[name] = [(0.0, 0.0, still)]
    assets[name] = ingest(path, title)
    return Library(assets=assets, truth=truth)


_written: dict[str, tuple[Path, object]] = {}  # file name -> (the file, what writing it returned)


def _written_once(path: Path, write: Callable[[Path], object]) -> tuple[Path, object]:
    """The file `write` makes, made once per test run and reused by every later build: rendering the
    library's videos took 3 s of the 5 s a module's build took (the ingest is what the tests are about)."""
    if path.name not in _written or not _written[path.name][0].exists():
        _written[path.name] = (path, write(path))
    return _written[path.name]


def library_delete(library: Library) -> None:
    for asset in Asset.objects.filter(pk__in=[a.pk for a in library.assets.values()]):
        asset_delete(asset=asset)
