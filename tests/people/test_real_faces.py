"""Grouping on real face descriptors through the ingest path: dlib's ResNet on dlib's example photos.

Each of the 55 aligned photos (5 people × 11, tests/data/faces/johns) is an image asset of its own
with one face track, stored with `faces_replace` in shuffled order as the pipeline would; the
people formed are scored by pairwise precision and recall of tracks, then again after a regroup.
"""

import importlib.util
import itertools
from pathlib import Path

import dlib
import numpy as np
import pytest
from PIL import Image

from mediahub.people import services
from mediahub.people.models import FaceTrack
from tests.people.factories import Sighting, TrackResult, asset_with_faces

JOHNS = Path(__file__).resolve().parent.parent / "data" / "faces" / "johns"


@pytest.fixture(scope="module")
def photos():
    models = Path(importlib.util.find_spec("face_recognition_models").origin).parent / "models"
    describe = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
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
