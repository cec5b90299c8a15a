"""Acceptance: a video of shuffled still photos of five real people yields one person per identity."""

import pytest

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
    assert len(faces) == len(shown), "one track per photo on screen"

    precision, recall = pairwise_precision_recall(truth, [track["person_id"] for track in faces])
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)

    for track in faces:  # no person twice in one frame
        together = [other for other in faces if other is not track and other["person_id"] == track["person_id"]
                    and other["start"] <= track["end"] and track["start"] <= other["end"]]
        assert track["person_id"] is None or not together

    people = viewer_api.get("/api/people").json()
    assert people["count"] == len({s.person for s in shown})
