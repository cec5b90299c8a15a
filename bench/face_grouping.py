"""Grouping quality and speed on real face descriptors (not a test; figures go into the README).

Descriptors: dlib's ResNet on the aligned 150×150 photos of tests/data/faces/johns (5 people ×
11 photos). Each photo becomes a face track of one asset, of `--faces` faces (the photo and
slightly shifted, brightened copies, as consecutive video seconds would give). Photos are
shuffled, grouped by workers/ml/face_grouping.py at several same-person distances, and scored
by pairwise precision and recall of tracks. Speed: a regroup of a constructed library of
`--library` tracks.

    .venv/bin/python bench/face_grouping.py
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import sys
import time
from pathlib import Path

import dlib
import numpy as np
from PIL import Image, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from workers.ml.face_grouping import TrackFaces, distances, tracks_regroup  # noqa: E402

JOHNS = Path(__file__).resolve().parent.parent / "tests" / "data" / "faces" / "johns"


def descriptor_model():
    models = Path(importlib.util.find_spec("face_recognition_models").origin).parent / "models"
    return dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))


def variants(image: Image.Image, count: int) -> list[np.ndarray]:
    """The photo, then copies shifted by a few pixels and brightened a little."""
    out = [np.asarray(image)]
    for i in range(1, count):
        shifted = Image.new("RGB", image.size)
        shifted.paste(image, (i * 2, i))
        out.append(np.asarray(ImageEnhance.Brightness(shifted).enhance(1 + 0.08 * i)))
    return out


def pairwise(truth: list[str], found: list) -> tuple[float, float]:
    tp = fp = fn = 0
    for (t1, f1), (t2, f2) in itertools.combinations(zip(truth, found), 2):
        same_truth, same_found = t1 == t2, f1 is not None and f1 == f2
        tp += same_truth and same_found
        fp += same_found and not same_truth
        fn += same_truth and not same_found
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=3)
    parser.add_argument("--library", type=int, default=2000)
    args = parser.parse_args()
    model = descriptor_model()
    rng = np.random.default_rng(0)
    photos = sorted(JOHNS.glob("*/*.jpg"))
    rng.shuffle(photos)
    tracks, truth, singles = [], [], []
    for key, photo in enumerate(photos):
        image = Image.open(photo).convert("RGB")
        vectors = np.array([model.compute_face_descriptor(v) for v in variants(image, args.faces)], dtype=np.float32)
        tracks.append(TrackFaces(key=key, asset=key, start=0.0, end=float(args.faces - 1), vectors=vectors))
        truth.append(photo.parent.name)
        singles.append(vectors[0])
    singles = np.array(singles)
    d = distances(singles, singles)
    same = np.array([[a == b for b in truth] for a in truth])
    upper = np.triu(np.ones_like(same), 1).astype(bool)
    print(f"{len(photos)} photos of {len(set(truth))} people")
    print(f"same person:      median {np.median(d[same & upper]):.3f}, 95th pct {np.percentile(d[same & upper], 95):.3f}, "
          f"max {d[same & upper].max():.3f}")
    print(f"different people: min {d[~same & upper].min():.3f}, 5th pct {np.percentile(d[~same & upper], 5):.3f}, "
          f"median {np.median(d[~same & upper]):.3f}")
    print("threshold  precision  recall  people  unassigned")
    for threshold in (0.4, 0.45, 0.5, 0.55, 0.6):
        answer = tracks_regroup(tracks, threshold=threshold)
        found = [answer[t.key] for t in tracks]
        precision, recall = pairwise(truth, found)
        print(f"{threshold:9.2f}  {precision:9.3f}  {recall:6.3f}  {len({f for f in found if f is not None}):6d}  "
              f"{sum(f is None for f in found):10d}")

    # Speed: a library of constructed identities, 5 tracks each of `--faces` faces.
    centres = rng.normal(size=(args.library // 5, 128))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    library = []
    for key in range(args.library):
        noise = rng.normal(size=(args.faces, 128))
        noise *= 0.2 / np.linalg.norm(noise, axis=1, keepdims=True)
        library.append(TrackFaces(key=key, asset=key, start=0, end=2,
                                  vectors=(centres[key // 5] + noise).astype(np.float32)))
    started = time.perf_counter()
    tracks_regroup(library, threshold=0.5)
    print(f"regroup of {args.library} tracks ({args.library * args.faces} faces): {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
