"""The upload path: bytes written once to their final place, the size limit enforced while streaming."""

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from PIL import Image

from mediahub.assets.models import Asset
from mediahub.assets.uploads import CHUNK_SIZE
from tests import factories


class CountingInput(io.BytesIO):
    """A request body that counts what the server read of it; `cut` ends it early (a client gone)."""

    def __init__(self, data: bytes, cut: int | None = None):
        super().__init__(data if cut is None else data[:cut])
        self.consumed = 0

    def read(self, size=-1, /):
        data = super().read(size)
        self.consumed += len(data)
        return data


def multipart(name: str, content: bytes, **fields) -> bytes:
    return encode_multipart(BOUNDARY, {"file": factories.upload_file(name, content), **fields})


def post_body(client, body: bytes, *, cut: int | None = None, content_length: int | None = None, **extra):
    stream = CountingInput(body, cut=cut)
    response = client.generic("POST", "/api/assets", body, content_type=MULTIPART_CONTENT, **{
        "wsgi.input": stream, "CONTENT_LENGTH": str(len(body) if content_length is None else content_length), **extra})
    return response, stream


def leftovers() -> set[str]:
    """Every file an upload could have left: originals (final or .part), staging, the temp dir."""
    found = {str(p) for p in (Path(settings.MEDIA_ROOT) / "originals").glob("*")}
    found |= {str(p) for p in (settings.DATA_DIR / "staging").glob("*")}
    found |= {str(p) for p in Path(tempfile.gettempdir()).glob("*")}
    return found


@pytest.fixture
def nothing_left_behind():
    before = leftovers()
    yield
    assert leftovers() - before == set()


@pytest.fixture
def small_limit(settings):
    settings.MAX_UPLOAD_BYTES = 300 * 1024
    return settings.MAX_UPLOAD_BYTES


def test_an_upload_over_the_limit_is_refused_while_streaming_and_nothing_is_left(owner_api, small_limit, nothing_left_behind):
    body = multipart("big.mp4", os.urandom(small_limit + 6 * CHUNK_SIZE))
    response, stream = post_body(owner_api, body, HTTP_AUTHORIZATION=owner_api._credentials["HTTP_AUTHORIZATION"])
    assert response.status_code == 413
    assert "larger than the upload limit of 300 KB" in response.json()["detail"]
    assert stream.consumed <= small_limit + 2 * CHUNK_SIZE  # stopped reading soon after the limit, not at the end
    assert Asset.objects.count() == 0


def test_a_declared_length_over_the_limit_is_refused_before_reading_the_body(owner_api, small_limit, settings, nothing_left_behind):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    body = multipart("big.mp4", os.urandom(2 * small_limit))
    response, stream = post_body(owner_api, body, HTTP_AUTHORIZATION=owner_api._credentials["HTTP_AUTHORIZATION"])
    assert response.status_code == 413 and "upload limit" in response.json()["detail"]
    assert stream.consumed == 0


def test_a_session_upload_over_the_limit_is_refused_during_the_csrf_check(owner, small_limit, nothing_left_behind):
    """SessionAuthentication reads request.POST for the CSRF token: the streaming handler is already in place."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    token = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    body = multipart("big.mp4", os.urandom(small_limit + 6 * CHUNK_SIZE))
    response, stream = post_body(client, body, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 413
    assert stream.consumed <= small_limit + 2 * CHUNK_SIZE


def test_a_session_upload_with_the_csrf_token_is_stored(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    token = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    response, _ = post_body(client, multipart("a.png", factories.png_bytes()), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.json()
    assert Asset.objects.get().owner == owner


def test_a_client_that_goes_away_mid_upload_leaves_nothing(owner_api, nothing_left_behind):
    body = multipart("clip.mp4", os.urandom(2 * 1024 * 1024))
    response, _ = post_body(owner_api, body, cut=1024 * 1024,
                            HTTP_AUTHORIZATION=owner_api._credentials["HTTP_AUTHORIZATION"])
    assert response.status_code == 400 and "cut off" in response.json()["detail"]
    assert Asset.objects.count() == 0


def _process_write_bytes() -> int:
    """Bytes this process caused to be written to storage (Linux /proc/self/io)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise AssertionError("no write_bytes in /proc/self/io")


def test_the_original_is_written_to_disk_once(owner_api):
    noise = np.random.default_rng(6).integers(0, 256, size=(1400, 1400, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG", compress_level=0)
    content = buffer.getvalue()
    assert len(content) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE  # large enough for Django to have spooled it
    body = multipart("noise.png", content)
    before, written = leftovers(), _process_write_bytes()
    response, _ = post_body(owner_api, body, HTTP_AUTHORIZATION=owner_api._credentials["HTTP_AUTHORIZATION"])
    written = _process_write_bytes() - written
    assert response.status_code == 201, response.json()
    assert len(content) <= written < 1.3 * len(content)  # one copy (three before: temp, staging, storage)
    asset = Asset.objects.get()
    assert leftovers() - before == {str(Path(settings.MEDIA_ROOT) / asset.original.name)}
    assert (Path(settings.MEDIA_ROOT) / asset.original.name).read_bytes() == content


def test_a_duplicate_upload_deletes_its_new_copy(owner_api, editor_api):
    content = factories.png_bytes(size=(90, 70))
    before = leftovers()
    first, _ = post_body(owner_api, multipart("a.png", content),
                         HTTP_AUTHORIZATION=owner_api._credentials["HTTP_AUTHORIZATION"])
    again, _ = post_body(editor_api, multipart("b.png", content),
                         HTTP_AUTHORIZATION=editor_api._credentials["HTTP_AUTHORIZATION"])
    assert (again.status_code, again.json()["id"], again.json()["duplicate"]) == (200, first.json()["id"], True)
    assert leftovers() - before == {str(Path(settings.MEDIA_ROOT) / Asset.objects.get().original.name)}


def test_ingest_writes_an_over_the_limit_file_nowhere(tmp_path, small_limit, db, nothing_left_behind):
    from django.core.management import CommandError, call_command

    source = tmp_path / "big.mp4"
    source.write_bytes(os.urandom(2 * small_limit))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ingest", str(source), stdout=out)
    assert "upload limit" in out.getvalue()
