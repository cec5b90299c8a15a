"""Acceptance: a video of shuffled still photos of five real people yields one person per identity."""

import pytest
from django.core.files.storage import default_storage

from mediahub.assets.services import asset_reprocess
from mediahub.people.models import Face, face_chips_folder
from tests.people.photo_video import pairwise_precision_recall, photo_video, who
from tests.workers.test_pipeline import create, run_pipeline


@pytest.mark.django_db
def test_a_shuffled_photo_video_yields_one_person_per_identity(tmp_path, viewer_api):
    shown = photo_video(tmp_path / "people.mp4")
    asset = run_pipeline(create(tmp_path / "people.mp4"))
    assert asset.status == "ready", asset.error

    faces = viewer_api.get(f"/api/assets/{asset.pk}/faces").json()["faces"]
    truth = [who(shown, start=track["start"], box=track["box"]) for track in faces]
    assert None not in truth, "every track is one of the faces shown"
    assert len(faces) >= 0.9 * len(shown), "a track for (nearly) every photo on screen"

    precision, recall = pairwise_precision_recall(truth, [track["person_id"] for track in faces])
    print(f"tracks {len(faces)} of {len(shown)} faces shown, pairwise precision {precision:.3f} recall {recall:.3f}")
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)

    for track in faces:  # no person twice in one frame
        together = [other for other in faces if other is not track and other["person_id"] == track["person_id"]
                    and other["start"] < track["end"] and track["start"] < other["end"]]
        assert track["person_id"] is None or not together

    people = viewer_api.get("/api/people").json()
    assert people["count"] == len({s.person for s in shown})


@pytest.fixture
def photo_asset(tmp_path):
    shown = photo_video(tmp_path / "few.mp4", photos_each=2, seconds_each=2, pairs=1)
    return shown, run_pipeline(create(tmp_path / "few.mp4"))


@pytest.mark.django_db
def test_names_survive_a_reprocess(photo_asset, editor_api):
    shown, asset = photo_asset
    before = editor_api.get(f"/api/assets/{asset.pk}/faces").json()["faces"]
    named = next(track["person_id"] for track in before if track["person_id"])
    assert editor_api.patch(f"/api/people/{named}", {"name": "Wang Wei"}, format="json").status_code == 200
    before = editor_api.get(f"/api/assets/{asset.pk}/faces").json()["faces"]

    asset = run_pipeline(asset_reprocess(asset=asset))
    after = editor_api.get(f"/api/assets/{asset.pk}/faces").json()["faces"]
    assert [(t["start"], t["end"], t["box"]) for t in after] == [(t["start"], t["end"], t["box"]) for t in before]
    assert [(t["person_id"], t["person_name"]) for t in after] == [(t["person_id"], t["person_name"]) for t in before]
    assert "Wang Wei" in {t["person_name"] for t in after}


@pytest.mark.django_db
def test_with_faces_off_nothing_about_faces_is_stored(tmp_path, settings, viewer_api):
    settings.FACES_ENABLED = False
    photo_video(tmp_path / "off.mp4", photos_each=1, seconds_each=2, pairs=0)
    asset = run_pipeline(create(tmp_path / "off.mp4"))
    assert asset.status == "ready"
    assert viewer_api.get(f"/api/assets/{asset.pk}/faces").json() == {"faces": []}
    assert not Face.objects.exists() and not default_storage.exists(face_chips_folder(asset.pk))

