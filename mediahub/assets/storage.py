"""Files through Django's storage API, so originals and frames can live on a disk or in S3-style storage."""

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from django.core.files.storage import default_storage


def _local_path(name: str) -> Path | None:
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:  # remote storage
        return None


@contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A local file path for a stored file: the file itself on disk storage, else a temporary download."""
    path = _local_path(name)
    if path is not None:
        yield path
        return
    with default_storage.open(name, "rb") as source, tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as copy:
        shutil.copyfileobj(source, copy, 1 << 20)
        copy.flush()
        yield Path(copy.name)


def storage_folder_delete(folder: str) -> None:
    path = _local_path(folder)
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
        return
    _, names = default_storage.listdir(folder)
    for name in names:
        default_storage.delete(f"{folder}/{name}")
