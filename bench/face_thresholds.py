"""The same-person distance of dlib's face descriptor, measured on real photos.

Each of dlib's example photos of five Johns (tests/data/faces/johns: 11 aligned 150×150 photos per
person) is scaled 2.5× onto a grey canvas, so the detector sees a whole face, and goes through
workers.ml.faces.scan_faces like a one-frame asset. From the descriptors it prints the same-person
and different-person distance percentiles, the equal-error threshold and precision/recall of "same
person" at candidate thresholds; then the astronaut's distance to itself under scaling, brightness
and rotation; last, the same pairs with the photos shrunk so the faces are 40–65 px tall (what a
full scan's smallest face means for the descriptor).

    .venv/bin/python bench/face_thresholds.py

Prints Markdown tables for the README.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CANDIDATES = (0.45, 0.5, 0.55, 0.6)
PHOTO_SCALE = 2.5
SMALL_SCALES = (0.55, 0.45, 0.36)  # faces found ~65, ~55 and ~45 px tall


def on_canvas(photo: Image.Image, scale: float = PHOTO_SCALE) -> Image.Image:
    size = round(photo.width * scale)
    canvas = Image.new("RGB", (size * 2, size + size // 2), (128, 128, 128))
    canvas.paste(photo.resize((size, size), Image.Resampling.BICUBIC), (size // 2, size // 4))
    return canvas


def largest_face(image: Image.Image):
    """The described track of the largest face in a picture, as the faces step makes it (None: no face)."""
    from workers.ml.faces import scan_faces

    tracks = [t for t in scan_faces([(0.0, image)], source_size=image.size, threads=1) if t.described]
    return max(tracks, key=lambda t: t.box[2] * t.box[3]) if tracks else None


def descriptor(image: Image.Image) -> np.ndarray | None:
    track = largest_face(image)
    return track.described[0].vector if track else None


def johns_distances(scale: float = PHOTO_SCALE) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Same- and different-person distances, photos without a face found, median face height (px)."""
    from tests.media_files import FACES_DIR

    vectors, people, heights, missed = [], [], [], 0
    for person in sorted((FACES_DIR / "johns").iterdir()):
        for photo in sorted(person.glob("*.jpg")):
            track = largest_face(on_canvas(Image.open(photo).convert("RGB"), scale))
            if track is None:
                missed += 1
                continue
            vectors.append(track.described[0].vector)
            people.append(person.name)
            heights.append(track.box[3])
    same, different = [], []
    for (a, pa), (b, pb) in itertools.combinations(zip(vectors, people), 2):
        (same if pa == pb else different).append(float(np.linalg.norm(a - b)))
    return np.array(same), np.array(different), missed, float(np.median(heights))


def equal_error(same: np.ndarray, different: np.ndarray) -> tuple[float, float]:
    """The threshold where the share of same-person pairs at or above it equals the share of
    different-person pairs below it (the middle of that range when the two sets don't overlap), and that rate."""
    thresholds = np.linspace(0.2, 0.9, 701)
    false_reject = np.array([(same >= t).mean() for t in thresholds])
    false_accept = np.array([(different < t).mean() for t in thresholds])
    gap = np.abs(false_reject - false_accept)
    best = np.flatnonzero(gap <= gap.min() + 1e-9)
    middle = best[len(best) // 2]
    return float(thresholds[middle]), float((false_reject[middle] + false_accept[middle]) / 2)


def robustness() -> list[tuple[str, float]]:
    from tests.media_files import astronaut_photo

    original = astronaut_photo()
    base = descriptor(original)
    variants = {
        "scaled 0.5×": original.resize((256, 256), Image.Resampling.BILINEAR),
        "scaled 2×": original.resize((1024, 1024), Image.Resampling.BICUBIC),
        "brightness −30 %": ImageEnhance.Brightness(original).enhance(0.7),
        "brightness +30 %": ImageEnhance.Brightness(original).enhance(1.3),
        "rotated −10°": original.rotate(-10, resample=Image.Resampling.BICUBIC, fillcolor=(128, 128, 128)),
        "rotated +10°": original.rotate(10, resample=Image.Resampling.BICUBIC, fillcolor=(128, 128, 128)),
    }
    rows = []
    for name, image in variants.items():
        vector = descriptor(image)
        rows.append((name, float(np.linalg.norm(vector - base)) if vector is not None else float("nan")))
    return rows


def main() -> None:
    same, different, missed, _ = johns_distances()
    print(f"{len(same)} same-person and {len(different)} different-person pairs; photos without a face found: {missed}\n")
    print("| pairs | min | p5 | p25 | median | p75 | p95 | max |")
    print("|---|---|---|---|---|---|---|---|")
    for name, values in (("same person", same), ("different people", different)):
        cells = " | ".join(f"{v:.3f}" for v in (values.min(), *np.percentile(values, [5, 25, 50, 75, 95]), values.max()))
        print(f"| {name} | {cells} |")
    threshold, rate = equal_error(same, different)
    print(f"\nequal-error threshold {threshold:.3f} (error rate {rate:.3f}); the largest same-person distance is "
          f"{same.max():.3f}, the smallest different-person distance {different.min():.3f}\n")
    print("| threshold | precision | recall | different pairs below |")
    print("|---|---|---|---|")
    for candidate in CANDIDATES:
        true_pos = int((same < candidate).sum())
        false_pos = int((different < candidate).sum())
        precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
        print(f"| {candidate} | {precision:.3f} | {true_pos / len(same):.3f} | {false_pos} of {len(different)} |")
    print("\n| the astronaut | distance to the original |")
    print("|---|---|")
    for name, distance in robustness():
        print(f"| {name} | {distance:.3f} |")
    small_faces_table()


def small_faces_table() -> None:
    from workers.ml.faces import SAME_PERSON_DISTANCE

    print(f"\n| face height (median) | photos without a face | same-person recall at {SAME_PERSON_DISTANCE} | p95 same "
          "| closest different | different pairs below |")
    print("|---|---|---|---|---|---|")
    for scale in SMALL_SCALES:
        same, different, missed, height = johns_distances(scale)
        print(f"| {height:.0f} px | {missed} | {(same < SAME_PERSON_DISTANCE).mean():.3f} "
              f"| {np.percentile(same, 95):.3f} | {different.min():.3f} | {(different < SAME_PERSON_DISTANCE).sum()} of {len(different)} |")


if __name__ == "__main__":
    main()
