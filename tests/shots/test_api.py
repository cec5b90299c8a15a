"""GET /api/assets/{id}/shots as the contract says (section 3), and an editor's correction through
PATCH /api/assets/{id}/shots/{index}: who may, what a bad body gets, what the next reader sees."""

import pytest

from mediahub.shots.models import Shot
from tests.shots.described import IMAGE_DESCRIPTION, VIDEO_SHOTS, image_with_description, video_with_shots

pytestmark = pytest.mark.django_db


def test_a_videos_shots_come_in_time_order_with_both_descriptions_and_a_thumbnail(viewer_api, owner):
    video = video_with_shots(owner)
    response = viewer_api.get(f"/api/assets/{video.pk}/shots")
    assert response.status_code == 200
    shots = response.json()["shots"]
    assert [(shot["start"], shot["end"]) for shot in shots] == [span for span, _ in VIDEO_SHOTS]
    assert [shot["description"] for shot in shots] == [texts for _, texts in VIDEO_SHOTS]
    assert [shot["edited"] for shot in shots] == [False, False, False]
    for shot in shots:
        assert shot["thumbnail"].startswith("http://testserver/assets/")
        picture = viewer_api.get(shot["thumbnail"])  # the token opens thumbnails too
        assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg"


def test_an_image_is_one_shot_from_0_to_0(viewer_api, owner):
    image = image_with_description(owner)
    shots = viewer_api.get(f"/api/assets/{image.pk}/shots").json()["shots"]
    assert len(shots) == 1
    assert (shots[0]["start"], shots[0]["end"], shots[0]["description"]) == (0.0, 0.0, IMAGE_DESCRIPTION)


def test_the_asset_answer_links_its_shots(viewer_api, owner):
    video = video_with_shots(owner)
    asset = viewer_api.get(f"/api/assets/{video.pk}").json()
    assert asset["shots"] == f"http://testserver/api/assets/{video.pk}/shots"
    assert len(viewer_api.get(asset["shots"]).json()["shots"]) == len(VIDEO_SHOTS)
    listed = viewer_api.get("/api/assets").json()["results"]
    assert [a["shots"] for a in listed if a["id"] == video.pk] == [asset["shots"]]


def test_no_asset_no_shots_and_no_login_no_answer(viewer_api, anonymous_api, owner):
    missing = viewer_api.get("/api/assets/999999/shots")
    assert missing.status_code == 404 and "no asset 999999" in missing.json()["detail"]
    video = video_with_shots(owner)
    assert anonymous_api.get(f"/api/assets/{video.pk}/shots").status_code == 401
    no_shot = viewer_api.get(f"/api/assets/{video.pk}/shots/7")
    assert no_shot.status_code == 404 and no_shot.json()["detail"] == (
        f"Asset {video.pk} has no shot 7; it has shots 0 to 2.")


def test_a_viewer_cannot_correct_a_description(viewer_api, owner):
    video = video_with_shots(owner)
    response = viewer_api.patch(f"/api/assets/{video.pk}/shots/1", {"description": {"en": "A blue triangle"}},
                                format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Only editors and admins can")
    assert not Shot.objects.get(asset=video, index=1).edited


@pytest.mark.parametrize("role_api", ["editor_api", "admin_api"])
def test_an_editor_corrects_one_language_and_every_reader_sees_it(request, role_api, viewer_api, owner):
    video = video_with_shots(owner)
    response = request.getfixturevalue(role_api).patch(
        f"/api/assets/{video.pk}/shots/1", {"description": {"en": "  Wide of flood   waters over the bridge "}},
        format="json")
    assert response.status_code == 200
    shot = response.json()
    assert shot["index"] == 1 and shot["edited"] is True
    assert shot["description"] == {"en": "Wide of flood waters over the bridge", "zh": VIDEO_SHOTS[1][1]["zh"]}
    assert shot["generated"] == VIDEO_SHOTS[1][1]  # what the correction replaced stays beside it
    read = viewer_api.get(f"/api/assets/{video.pk}/shots").json()["shots"]
    assert read[1]["description"]["en"] == "Wide of flood waters over the bridge"
    assert [s["edited"] for s in read] == [False, True, False]


def test_an_empty_correction_brings_the_generated_text_back(editor_api, owner):
    video = video_with_shots(owner)
    url = f"/api/assets/{video.pk}/shots/0"
    editor_api.patch(url, {"description": {"en": "Flood", "zh": "洪水"}}, format="json")
    shot = editor_api.patch(url, {"description": {"en": ""}}, format="json").json()
    assert shot["description"] == {"en": VIDEO_SHOTS[0][1]["en"], "zh": "洪水"} and shot["edited"] is True
    shot = editor_api.patch(url, {"description": {"zh": ""}}, format="json").json()
    assert shot["description"] == VIDEO_SHOTS[0][1] and shot["edited"] is False


@pytest.mark.parametrize("body, sentence", [
    ({"en": "Flood"}, 'Send the corrected description as {"description": {"en": "...", "zh": "..."}}'),
    ({"description": "Flood"}, 'Send the corrected description as {"description": {"en": "...", "zh": "..."}}'),
    ({"description": {}}, 'Send the corrected description as {"en": "..."} and/or {"zh": "..."}.'),
    ({"description": {"fr": "Inondation"}}, 'Send the corrected description as {"en": "..."} and/or {"zh": "..."}.'),
    ({"description": {"en": 3}}, "en: the description must be text."),
    ({"description": {"zh": "洪" * 501}}, "zh: keep the description under 500 characters (it has 501)"),
])
def test_a_bad_correction_gets_a_sentence_and_changes_nothing(editor_api, owner, body, sentence):
    video = video_with_shots(owner)
    response = editor_api.patch(f"/api/assets/{video.pk}/shots/0", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(sentence)
    assert not Shot.objects.get(asset=video, index=0).edited

