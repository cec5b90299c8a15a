"""Media playback: handed to the front server when configured, bounded ranges from Django otherwise."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from mediahub.assets.models import Asset, Frame

CONTENT = bytes(range(256)) * 1024  # 256 KiB


@pytest.fixture
def stored_asset(owner):
    name = default_storage.save("originals/media-serving.mp4", ContentFile(CONTENT))
    asset = Asset.objects.create(owner=owner, title="m", original=name, original_filename="Flood at the bridge.mp4",
                                 size_bytes=len(CONTENT), sha256="f" * 64, kind="video", mime_type="video/mp4",
                                 poster_index=0)
    frame_name = default_storage.save(f"frames/{asset.pk}/000000.jpg", ContentFile(b"\xff\xd8jpeg"))
    Frame.objects.create(asset=asset, index=0, time=0.0, image=frame_name)
    yield asset
    default_storage.delete(name)
    default_storage.delete(frame_name)


@pytest.fixture
def nginx_sendfile(settings):
    settings.SENDFILE_BACKEND = "django_sendfile.backends.nginx"
    settings.SENDFILE_URL = "/protected-media"


def test_a_range_request_is_handed_to_the_front_server_when_configured(client, owner, stored_asset, nginx_sendfile):
    client.force_login(owner)
    response = client.get(f"/assets/{stored_asset.pk}/media", HTTP_RANGE="bytes=1000-")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{stored_asset.original.name}"
    assert response.content == b"" and response["Content-Length"] == "0"
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"] == 'inline; filename="Flood at the bridge.mp4"'


def test_frames_and_thumbnails_are_handed_over_too(client, owner, stored_asset, nginx_sendfile):
    client.force_login(owner)
    for path in (f"/assets/{stored_asset.pk}/frames/0.jpg", f"/assets/{stored_asset.pk}/thumbnail.jpg"):
        response = client.get(path)
        assert response.status_code == 200 and response.content == b""
        assert response["X-Accel-Redirect"] == f"/protected-media/frames/{stored_asset.pk}/000000.jpg"


def test_the_api_token_still_guards_handed_over_media(stored_asset, nginx_sendfile, client):
    assert client.get(f"/assets/{stored_asset.pk}/media", HTTP_RANGE="bytes=0-").status_code == 302  # to the login


def test_without_a_front_server_an_open_range_gets_a_bounded_206_the_player_continues_from(
        client, owner, stored_asset, settings):
    settings.RANGE_CHUNK_BYTES = 100 * 1024
    client.force_login(owner)
    received, start = b"", 0
    while start < len(CONTENT):
        response = client.get(f"/assets/{stored_asset.pk}/media", HTTP_RANGE=f"bytes={start}-")
        assert response.status_code == 206
        body = b"".join(response.streaming_content)
        assert len(body) <= settings.RANGE_CHUNK_BYTES
        end = start + len(body) - 1
        assert response["Content-Range"] == f"bytes {start}-{end}/{len(CONTENT)}"
        received, start = received + body, end + 1
    assert received == CONTENT


def test_a_huge_explicit_range_is_bounded_too(client, owner, stored_asset, settings):
    settings.RANGE_CHUNK_BYTES = 64 * 1024
    client.force_login(owner)
    response = client.get(f"/assets/{stored_asset.pk}/media", HTTP_RANGE="bytes=10-999999999")
    assert response.status_code == 206 and response["Content-Length"] == str(64 * 1024)
    assert response["Content-Range"] == f"bytes 10-{10 + 64 * 1024 - 1}/{len(CONTENT)}"
    suffix = client.get(f"/assets/{stored_asset.pk}/media", HTTP_RANGE="bytes=-200000")
    assert suffix.status_code == 206 and int(suffix["Content-Length"]) == 64 * 1024
    assert Path(settings.MEDIA_ROOT, stored_asset.original.name).exists()
