"""A video made of still photos of real people (dlib's example photos), with its ground truth."""

import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

JOHNS = Path(__file__).resolve().parents[1] / "data" / "faces" / "johns"


@dataclass(frozen=True)
class Shown:
    """One photo on screen: who, from when to when, where (x of the face's centre)."""

    person: str
    start: float
    end: float
    centre_x: int


def photo_video(path: Path, *, photos_each: int = 4, seconds_each: int = 3, pairs: int = 2, seed: int = 7,
                width: int = 1280, height: int = 720, fps: int = 5) -> list[Shown]:
    """Photos of every person in tests/data/faces/johns, `photos_each` each, shuffled, one at a time for
    `seconds_each` seconds on a plain background, then `pairs` shots of two people side by side.
    Returns what is shown when (the ground truth)."""
    rng = random.Random(seed)
    people = sorted(folder.name for folder in JOHNS.iterdir() if folder.is_dir())
    singles = [[(person, photo)] for person in people
               for photo in sorted((JOHNS / person).glob("*.jpg"))[:photos_each]]
    rng.shuffle(singles)
    doubles = [[(a, sorted((JOHNS / a).glob("*.jpg"))[-1]), (b, sorted((JOHNS / b).glob("*.jpg"))[-2])]
               for a, b in (rng.sample(people, 2) for _ in range(pairs))]
    shown, pictures = [], []
    for number, shot in enumerate(singles + doubles):
        start = number * seconds_each
        picture = Image.new("RGB", (width, height), tuple(rng.randrange(40, 200) for _ in range(3)))
        for slot, (person, photo) in enumerate(shot):
            side = rng.randrange(240, 330)
            x = (width // (len(shot) + 1)) * (slot + 1) - side // 2 + rng.randrange(-60, 60)
            y = rng.randrange(40, height - side - 40)
            picture.paste(Image.open(photo).convert("RGB").resize((side, side)), (x, y))
            shown.append(Shown(person=person, start=start, end=start + seconds_each, centre_x=x + side // 2))
        pictures.append(np.asarray(picture))
    _encode(path, pictures, seconds_each=seconds_each, fps=fps)
    return shown


def _encode(path: Path, pictures: list[np.ndarray], *, seconds_each: int, fps: int) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = pictures[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20"}
        stream.codec_context.time_base = Fraction(1, fps)
        pts = 0
        for picture in pictures:
            for _ in range(seconds_each * fps):
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts, frame.time_base = pts, Fraction(1, fps)
                container.mux(stream.encode(frame))
                pts += 1
        container.mux(stream.encode())


def who(shown: list[Shown], *, start: float, box: list[int]) -> str | None:
    """The person a face track shows, from the ground truth: on screen at `start`, nearest centre to the box."""
    centre = box[0] + box[2] / 2
    candidates = [s for s in shown if s.start <= start < s.end]
    best = min(candidates, key=lambda s: abs(s.centre_x - centre), default=None)
    return best.person if best and abs(best.centre_x - centre) < box[2] else None


def pairwise_precision_recall(labels: list[str], groups: list[int | None]) -> tuple[float, float]:
    """Over pairs of tracks: precision = same group and same person / same group; recall = same group
    and same person / same person. A track left without a group is in no pair of a group."""
    same_group = same_person = both = 0
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            grouped = groups[i] is not None and groups[i] == groups[j]
            person = labels[i] == labels[j]
            same_group += grouped
            same_person += person
            both += grouped and person
    return (both / same_group if same_group else 0.0), (both / same_person if same_person else 0.0)
