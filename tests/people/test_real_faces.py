"""Grouping on real face descriptors through the ingest path: dlib's ResNet on dlib's example photos
(5 people × 11 aligned photos, tests/data/faces/johns), stored with `faces_replace` as the
pipeline would, scored by pairwise precision and recall of tracks: as 55 image assets, and as
one video of shuffled photos.
"""

import importlib.util
import itertools
from pathlib import Path

import dlib
import numpy as np
import pytest
from PIL import Image, ImageEnhance

from mediahub.people import services
from mediahub.people.models import FaceTrack
from tests.people.factories import Sighting, TrackResult, asset_with_faces

JOHNS = Path(__file__).resolve().parent.parent / "data" / "faces" / "johns"


@pytest.fixture(scope="module")
def describe():
    models = Path(importlib.util.find_spec("face_recognition_models").origin).parent / "models"
    return dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))


@pytest.fixture(scope="module")
def photos(describe):
    paths = sorted(JOHNS.glob("*/*.jpg"))
    np.random.default_rng(4).shuffle(paths)
    found = []
    for path in paths:
        chip = Image.open(path).convert("RGB")
        vector = np.array(describe.compute_face_descriptor(np.asarray(chip)), dtype=np.float32)
        found.append((path.parent.name, chip, vector))
    return found


def pairwise(truth: list, found: list) -> tuple[float, float]:
    tp = fp = fn = 0
    for (t1, f1), (t2, f2) in itertools.combinations(zip(truth, found), 2):
        same = f1 is not None and f1 == f2
        tp += t1 == t2 and same
        fp += same and t1 != t2
        fn += t1 == t2 and not same
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def test_real_photos_of_five_people_become_five_people(owner, photos):
    assets = []
    for number, (name, chip, vector) in enumerate(photos):
        sighting = Sighting(time=0.0, box=(10, 10, 150, 150), score=1.0, sharpness=100.0, vector=vector, chip=chip)
        assets.append(asset_with_faces(owner, TrackResult([sighting]), title=f"{name} {number}"))
    truth = [name for name, _, _ in photos]

    def people_now():
        return [FaceTrack.objects.get(asset=asset).person_id for asset in assets]

    precision, recall = pairwise(truth, people_now())
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    services.people_regroup()
    found = people_now()
    assert pairwise(truth, found) == (1.0, 1.0)
    assert len(set(found)) == 5


def test_one_video_of_shuffled_photos_makes_one_person_per_identity(owner, photos, describe):
    """Like the acceptance video (measured here: pairwise precision and recall 1.0): four photos of
    each person one after another for three seconds each (three sightings, the photo a little
    shifted and brightened each second), then two shots of two people side by side."""

    def seen(chip, start, x):
        sightings = []
        for second in range(3):
            moved = Image.new("RGB", chip.size)
            moved.paste(chip, (second * 2, second))
            moved = ImageEnhance.Brightness(moved).enhance(1 + 0.08 * second)
            vector = np.array(describe.compute_face_descriptor(np.asarray(moved)), dtype=np.float32)
            sightings.append(Sighting(time=float(start + second), box=(x, 100, 150, 150), score=1.0,
                                      sharpness=100.0, vector=vector, chip=moved))
        return TrackResult(sightings)

    by_person: dict[str, list] = {}
    for name, chip, _ in photos:
        by_person.setdefault(name, []).append(chip)
    singles = [(name, chip) for name, chips in sorted(by_person.items()) for chip in chips[:4]]
    np.random.default_rng(7).shuffle(singles)
    tracks, truth = [], []
    for number, (name, chip) in enumerate(singles):
        tracks.append(seen(chip, number * 3, 500))
        truth.append(name)
    names = sorted(by_person)
    for pair, (left, right) in enumerate([(names[0], names[1]), (names[2], names[3])]):
        start = (len(singles) + pair) * 3
        tracks += [seen(by_person[left][-1], start, 200), seen(by_person[right][-2], start, 800)]
        truth += [left, right]

    asset = asset_with_faces(owner, *tracks, title="Photo video")

    rows = list(FaceTrack.objects.filter(asset=asset).order_by("start", "box__0"))
    found = [row.person_id for row in rows]
    expected = [truth[i] for i in sorted(range(len(tracks)), key=lambda i: (tracks[i].sightings[0].time,
                                                                            tracks[i].sightings[0].box[0]))]
    precision, recall = pairwise(expected, found)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    assert len({p for p in found if p is not None}) == 5
