"""POST /api/assets and friends: storing uploads, duplicates, bad files, listing, deleting, reprocessing."""

from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from mediahub.assets.models import Asset
from tests import factories
from tests.media_files import truncated_copy, write_audio_only


def stored_originals() -> set[str]:
    return set(default_storage.listdir("originals")[1]) if default_storage.exists("originals") else set()


def upload(client, path_or_name, content=None, **fields):
    if content is None:
        path = Path(path_or_name)
        content, name = path.read_bytes(), path.name
    else:
        name = path_or_name
    return client.post("/api/assets", {"file": factories.upload_file(name, content), **fields}, format="multipart")


def test_a_video_upload_is_stored_under_a_generated_name_and_queued(owner_api, owner, two_scene_video,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(owner_api, two_scene_video, title="Bridge flood", description="River at dawn")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["duplicate"] is False
    assert (body["title"], body["description"], body["kind"]) == ("Bridge flood", "River at dawn", "video")
    assert body["duration"] == pytest.approx(6.0, abs=0.05)
    assert (body["width"], body["height"], body["codec"]) == (320, 240, "h264")
    asset = Asset.objects.get(pk=body["id"])
    assert asset.owner == owner and asset.original_filename == "clip.mp4"
    assert "clip" not in asset.original.name and asset.original.name.endswith(".mp4")
    assert default_storage.open(asset.original.name).read() == two_scene_video.read_bytes()
    assert len(callbacks) == 1  # the pipeline is enqueued once the row is committed


def test_the_title_defaults_to_the_file_name(owner_api, two_scene_video):
    assert upload(owner_api, two_scene_video).json()["title"] == "clip"


def test_identical_bytes_return_the_existing_asset_and_create_nothing(owner_api, editor_api, two_scene_video):
    first = upload(owner_api, two_scene_video).json()
    files = stored_originals()
    again = upload(editor_api, two_scene_video, title="another name")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["duplicate"] is True
    assert Asset.objects.count() == 1
    assert stored_originals() == files


def test_an_image_is_an_asset_of_kind_image(owner_api):
    response = upload(owner_api, "still.png", factories.png_bytes(size=(80, 60)))
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["width"], response.json()["height"]) == ("image", 80, 60)


@pytest.mark.parametrize("name, make, status, words", [
    ("empty.mp4", lambda tmp: b"", 400, "empty"),
    ("clip.mp4", lambda tmp: bytes(range(256)) * 200, 415, "neither a video nor an image"),
    ("song.m4a", lambda tmp: write_audio_only(tmp / "a.m4a").read_bytes(), 415, "no video stream"),
    ("notes.txt", lambda tmp: b"Flood waters cover the main bridge.\n" * 40, 415, "text file"),
])
def test_unusable_files_are_refused_with_a_sentence_and_nothing_is_kept(owner_api, tmp_path, name, make, status, words):
    files = stored_originals()
    response = upload(owner_api, name, make(tmp_path))
    assert response.status_code == status
    assert words in response.json()["detail"] and name in response.json()["detail"]
    assert Asset.objects.count() == 0
    assert stored_originals() == files


def test_a_truncated_mp4_is_refused_and_other_assets_are_untouched(owner_api, two_scene_video, tmp_path):
    good = upload(owner_api, two_scene_video).json()
    cut = truncated_copy(two_scene_video, tmp_path / "cut.mp4", 0.5)
    response = upload(owner_api, cut)
    assert response.status_code == 415 and "truncated" in response.json()["detail"]
    assert list(Asset.objects.values_list("pk", flat=True)) == [good["id"]]


def test_a_missing_file_field_is_a_400_with_a_hint(owner_api):
    response = owner_api.post("/api/assets", {"title": "x"}, format="multipart")
    assert response.status_code == 400
    assert "'file'" in response.json()["detail"]


def test_list_filters_by_status_and_kind_and_pages(owner_api):
    for index in range(3):
        upload(owner_api, f"s{index}.png", factories.png_bytes(colour=(index, 0, 0)))
    Asset.objects.filter(title="s0").update(status="ready")
    assert owner_api.get("/api/assets").json()["count"] == 3
    assert [a["title"] for a in owner_api.get("/api/assets?status=ready").json()["results"]] == ["s0"]
    assert owner_api.get("/api/assets?kind=video").json()["count"] == 0
    assert owner_api.get("/api/assets?page=2").json()["results"] == []
    bad = owner_api.get("/api/assets?status=done")
    assert bad.status_code == 400 and "status must be one of" in bad.json()["detail"]
    assert owner_api.get("/api/assets?page=zero").status_code == 400


def test_list_costs_a_fixed_number_of_queries(owner_api, django_assert_max_num_queries):
    for index in range(5):
        upload(owner_api, f"s{index}.png", factories.png_bytes(colour=(0, index, 0)))
    with django_assert_max_num_queries(6):
        assert len(owner_api.get("/api/assets").json()["results"]) == 5


def test_get_one_asset_and_404_for_unknown(owner_api):
    created = upload(owner_api, "a.png", factories.png_bytes()).json()
    body = owner_api.get(f"/api/assets/{created['id']}").json()
    for field in ("id", "title", "description", "kind", "status", "progress", "error", "duration", "width",
                  "height", "fps", "codec", "created_at", "tags", "thumbnail"):
        assert field in body
    missing = owner_api.get("/api/assets/999999")
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]


def test_delete_removes_the_row_and_files_but_only_for_editors(owner_api, viewer_api, editor_api,
                                                                        django_capture_on_commit_callbacks):
    first = upload(owner_api, "a.png", factories.png_bytes(colour=(1, 2, 3))).json()
    second = upload(owner_api, "b.png", factories.png_bytes(colour=(4, 5, 6))).json()
    stored = Asset.objects.get(pk=first["id"]).original.name
    refused = viewer_api.delete(f"/api/assets/{first['id']}")
    assert refused.status_code == 403 and "editors and admins" in refused.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_api.delete(f"/api/assets/{first['id']}").status_code == 204
    assert not Asset.objects.filter(pk=first["id"]).exists()
    assert not default_storage.exists(stored)
    assert editor_api.delete(f"/api/assets/{second['id']}").status_code == 204
    assert owner_api.delete(f"/api/assets/{first['id']}").status_code == 404


def test_reprocess_starts_a_new_run(owner_api, viewer_api, django_capture_on_commit_callbacks):
    created = upload(owner_api, "a.png", factories.png_bytes()).json()
    asset = Asset.objects.get(pk=created["id"])
    Asset.objects.filter(pk=asset.pk).update(status="failed", error="boom", progress=0.5)
    assert viewer_api.post(f"/api/assets/{asset.pk}/reprocess").status_code == 403
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_api.post(f"/api/assets/{asset.pk}/reprocess")
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["error"], response.json()["progress"]) == ("queued", None, 0.0)
    assert Asset.objects.get(pk=asset.pk).run_id != asset.run_id
    assert len(callbacks) == 1


def test_session_uploads_need_the_csrf_token(owner, two_scene_video):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/api/assets", {"file": factories.upload_file("a.png", factories.png_bytes())})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
