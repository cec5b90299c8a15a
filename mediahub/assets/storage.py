"""Files through Django's storage API, so originals and frames can live on a disk or in S3-style storage
(MEDIAHUB_STORAGE_URL; README, "Object storage")."""

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import botocore.exceptions
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.http import content_disposition_header

from workers.scratch import scratch_folder

# The object store did not answer (down, unreachable, cut off mid-transfer): worth another try later.
STORE_UNREACHABLE = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)


class StoreUnavailable(Exception):
    """The object store did not answer; nothing was kept."""


def _local_path(name: str) -> Path | None:
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:  # remote storage
        return None


def storage_is_local() -> bool:
    """Media is files on this machine's disk (MEDIA_ROOT), not objects in a bucket."""
    return _local_path("") is not None


@contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A local file path for a stored file: the file itself on disk storage, else a download into the
    worker's scratch dir, removed afterwards (also on failure; a full scratch disk raises ScratchFull)."""
    path = _local_path(name)
    if path is not None:
        yield path
        return
    with scratch_folder(settings.SCRATCH_DIR) as folder:
        copy = folder / Path(name).name
        with open(copy, "wb") as target:
            _download(name, target)
        yield copy


def _download(name: str, target) -> None:
    bucket = getattr(default_storage, "bucket", None)
    if bucket is not None:  # S3: straight into the file, in parallel parts (open() would spool it to /tmp first)
        bucket.download_fileobj(name, target, Config=default_storage.transfer_config)
        return
    with default_storage.open(name, "rb") as source:
        shutil.copyfileobj(source, target, 1 << 20)


def media_url(name: str, *, content_type: str, download_name: str) -> str:
    """A short-lived presigned URL of a stored object; the object store answers byte ranges itself."""
    return default_storage.url(name, parameters={
        "ResponseContentType": content_type,
        "ResponseContentDisposition": content_disposition_header(False, Path(download_name).name)})


def storage_folder_delete(folder: str) -> None:
    """Delete everything stored under `folder` (at any depth)."""
    path = _local_path(folder)
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
        return
    bucket = getattr(default_storage, "bucket", None)
    if bucket is not None:  # S3: list and delete by prefix, a thousand keys a request
        bucket.objects.filter(Prefix=f"{folder.rstrip('/')}/").delete()
        return
    folders, names = default_storage.listdir(folder)
    for name in names:
        default_storage.delete(f"{folder}/{name}")
    for child in folders:
        storage_folder_delete(f"{folder}/{child}")
