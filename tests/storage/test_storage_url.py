"""MEDIAHUB_STORAGE_URL: which storage it gives, and a sentence at start for a malformed one."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from mediahub.storage_url import storage_from_url
from tests.conftest import REPO


def options(url: str) -> dict:
    storage = storage_from_url(url)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    return storage["OPTIONS"]


def test_unset_means_files_under_the_media_root():
    assert storage_from_url("")["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_a_server_with_keys_over_https_or_plain_http():
    secure = options("s3://AKIA1:se%2Fcret@minio.internal:9000/newsroom-media")
    assert (secure["endpoint_url"], secure["bucket_name"]) == ("https://minio.internal:9000", "newsroom-media")
    assert (secure["access_key"], secure["secret_key"]) == ("AKIA1", "se/cret")
    plain = options("s3+http://key:secret@127.0.0.1:8333/media?region=eu-central-1")
    assert (plain["endpoint_url"], plain["region_name"]) == ("http://127.0.0.1:8333", "eu-central-1")
    config = plain["client_config"]
    assert config.signature_version == "s3v4" and config.s3 == {"addressing_style": "path"}


def test_a_bare_bucket_is_aws_with_the_standard_credential_chain():
    aws = options("s3://newsroom-media?region=us-west-2")
    assert aws["bucket_name"] == "newsroom-media" and aws["region_name"] == "us-west-2"
    assert aws["endpoint_url"] is None and aws["access_key"] is None and aws["secret_key"] is None


@pytest.mark.parametrize("url", [
    "ftp://key:hunter2@host/bucket", "s3://key:hunter2@host:notaport/bucket", "s3://key:hunter2@host:9000",
    "s3://key:hunter2@host:9000/a/b", "s3://key@host:9000/bucket", "s3://key:hunter2@host:9000/b?style=virtual",
])
def test_a_malformed_url_is_refused_with_a_sentence_that_hides_the_secret(url):
    with pytest.raises(ImproperlyConfigured) as refused:
        storage_from_url(url)
    message = str(refused.value)
    assert message.startswith("MEDIAHUB_STORAGE_URL") and "s3+http://KEY:SECRET@HOST:PORT/BUCKET" in message
    assert "hunter2" not in message


def test_the_app_does_not_start_with_a_malformed_url():
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=REPO, capture_output=True, text=True,
        env={"DJANGO_SETTINGS_MODULE": "mediahub.settings", "MEDIAHUB_STORAGE_URL": "s3://key:secret@host:9000",
             "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "REDIS_URL": "redis://127.0.0.1:1/0",
             "PATH": "/usr/bin:/bin"})
    assert started.returncode != 0
    assert "MEDIAHUB_STORAGE_URL 's3://host:9000' is malformed: it must name one bucket" in started.stderr
