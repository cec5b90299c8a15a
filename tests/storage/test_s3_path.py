"""Media in a real S3-compatible server (rclone serve s3): upload, process, play a range and download through
presigned redirects, delete leaving nothing in the bucket."""

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from mediahub.assets.models import Frame
from mediahub.assets.services import rights_policy_update
from tests.conftest import wait_for_asset
from tests.storage.conftest import BUCKET, upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("tag_vocabulary")]


def fetch(url: str, **headers) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


def presigned(api, url: str) -> str:
    response = api.get(url)
    assert response.status_code == 302, response.content
    assert "X-Amz-Signature=" in response["Location"]
    return response["Location"]


def asset_keys(s3_server, asset) -> list[str]:
    prefixes = [asset.original.name, f"frames/{asset.pk}/", f"faces/{asset.pk}/",
                f"proxies/{asset.pk}.mp4"]
    return [key for prefix in prefixes for key in s3_server.keys(prefix)]


def test_an_upload_is_stored_processed_played_and_deleted_in_the_bucket(
        s3_storage, s3_worker, owner, owner_api, viewer_api, anonymous_api, two_scene_video):
    response = upload(owner_api, two_scene_video)
    assert response.status_code == 201, response.content
    created = response.json()
    asset = wait_for_asset(created["id"])
    assert asset.status == "ready", f"{asset.error}\n{s3_worker.log()}"
    original = two_scene_video.read_bytes()
    stored = s3_storage.client.get_object(Bucket=BUCKET, Key=asset.original.name)["Body"].read()
    assert stored == original
    assert not (Path(settings.MEDIA_ROOT) / asset.original.name).exists()
    assert not list((settings.DATA_DIR / "staging").glob("*")), "the upload's staging file is left behind"
    frames = list(Frame.objects.filter(asset=asset))
    assert len(frames) == 6
    assert {f"frames/{asset.pk}/{frame.index:06d}.jpg" for frame in frames} <= set(s3_storage.keys("frames/"))

    # Playing: the web side answers a redirect; the object store sends the bytes of the range.
    media = presigned(viewer_api, f"/assets/{asset.pk}/media")
    status, headers, body = fetch(media, Range="bytes=100-1099")
    assert status in (200, 206)  # rclone answers 200 with Content-Range (S3 itself: 206)
    assert headers["Content-Range"] == f"bytes 100-1099/{len(original)}"
    assert body == original[100:1100]
    status, _, body = fetch(presigned(viewer_api, f"/assets/{asset.pk}/media?original=1"))
    assert status == 200 and body == original
    status, headers, body = fetch(presigned(viewer_api, f"/assets/{asset.pk}/thumbnail.jpg"))
    assert status == 200 and body.startswith(b"\xff\xd8") and headers["Content-Type"] == "image/jpeg"
    tampered = media.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert fetch(tampered)[0] == 403
    assert anonymous_api.get(f"/assets/{asset.pk}/media").status_code in (401, 302)
    assert "X-Amz" not in anonymous_api.get(f"/assets/{asset.pk}/media").get("Location", "")
    # Footage the rights policy hides from viewers gets them no link to the bucket either.
    rights_policy_update(user=owner, viewers_see_embargoed=True, viewers_see_do_not_use=False)
    marked = owner_api.patch(f"/api/assets/{asset.pk}", {"rights": {"status": "do_not_use", "note": "legal"}},
                             format="json")
    assert marked.status_code == 200, marked.content
    assert viewer_api.get(f"/assets/{asset.pk}/media").status_code == 404
    assert viewer_api.get(f"/assets/{asset.pk}/thumbnail.jpg").status_code == 404
    assert owner_api.get(f"/assets/{asset.pk}/media").status_code == 302

    assert asset_keys(s3_storage, asset)
    assert owner_api.delete(f"/api/assets/{asset.pk}").status_code == 204
    assert asset_keys(s3_storage, asset) == []
