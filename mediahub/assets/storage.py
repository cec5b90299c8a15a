"""Files through Django's storage API, so originals and frames can live on a disk or in S3-style storage
(MEDIAHUB_STORAGE_URL; README, "Object storage")."""

import io
import shutil
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, TypeVar

import botocore.exceptions
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.http import content_disposition_header

from workers.scratch import scratch_folder

# The object store did not answer (down, unreachable, cut off mid-transfer): worth another try later.
STORE_UNREACHABLE = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)


# Requests to an object store in flight at once from one worker process: each waits on the store's round
# trip, not on this machine's CPU (README, "Object storage"). Local files get one thread: no waiting to hide.
OBJECT_STORE_THREADS = 8
RANGE_BYTES = 256 * 1024  # a ranged read of a stored object where a reader jumps to (a few to probe a video)
MAX_RANGE_BYTES = 8 * 1024 * 1024  # and the most one read on from there fetches at once
MAX_PENDING_SAVES = 64  # saves queued before the caller waits (a slow store doesn't pile up pictures in memory)
T = TypeVar("T")
R = TypeVar("R")
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


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


@contextmanager
def readable(name: str) -> Iterator[Path | BinaryIO]:
    """A stored file to read a part of: its path on disk storage; in a bucket, a seekable reader that GETs
    byte ranges only where it is read. Probing a video (its header, its index, which an MP4 may keep at the
    end, and one picture) then reads a few hundred kB of it, not all of it."""
    path = _local_path(name)
    bucket = getattr(default_storage, "bucket", None)
    if path is not None or bucket is None:
        with local_copy(name) as copy:
            yield copy
        return
    stored = bucket.Object(name)
    with io.BufferedReader(_RangedReader(stored, stored.content_length)) as reader:
        yield reader


class _RangedReader(io.RawIOBase):
    """A stored object read by ranged GETs: RANGE_BYTES where a reader jumps to, then twice as much as the
    last GET each time it reads on from there (up to MAX_RANGE_BYTES), so reading a whole photo takes a few
    GETs, not one a block."""

    def __init__(self, stored, size: int):
        self.stored, self.size, self.position = stored, size, 0
        self.fetched, self.fetched_at = b"", 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, start + offset)
        return self.position

    def readinto(self, buffer) -> int:
        if self.position >= self.size or not len(buffer):
            return 0
        if not 0 <= self.position - self.fetched_at < len(self.fetched):
            self._fetch()
        offset = self.position - self.fetched_at
        data = self.fetched[offset:offset + len(buffer)]
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)

    def _fetch(self) -> None:
        reads_on = bool(self.fetched) and self.position == self.fetched_at + len(self.fetched)
        length = min(2 * len(self.fetched), MAX_RANGE_BYTES) if reads_on else RANGE_BYTES
        last = min(self.position + length, self.size) - 1
        self.fetched = self.stored.get(Range=f"bytes={self.position}-{last}")["Body"].read()
        self.fetched_at = self.position


def _download(name: str, target) -> None:
    bucket = getattr(default_storage, "bucket", None)
    if bucket is not None:  # S3: straight into the file, in parallel parts (open() would spool it to /tmp first)
        bucket.download_fileobj(name, target, Config=default_storage.transfer_config)
        return
    with default_storage.open(name, "rb") as source:
        shutil.copyfileobj(source, target, 1 << 20)


def _store_pool() -> ThreadPoolExecutor:
    """This process's threads for store requests (made on first use, so a forked worker process makes its own)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            threads = 1 if storage_is_local() else OBJECT_STORE_THREADS
            _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store")
        return _pool


def store_submit(function: Callable[..., R], *args) -> Future:
    """`function(*args)` on the store threads."""
    return _store_pool().submit(function, *args)


def store_map(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`function` over `items` on the store threads, results in order: many reads of small stored files
    wait on one round trip's time rather than on one after another. The first error is raised."""
    return list(_store_pool().map(function, items))


class StoreWrites:
    """Files made and saved through the storage API while the caller goes on (the frames step's decode):
    on an object store each save is a request whose round trip would otherwise hold up the caller. A
    context manager: leaving it waits for every save and raises the first error (STORE_UNREACHABLE when
    the store stopped answering, as a save in line would have); a save that failed is raised by the next
    `save` already, so a decode doesn't run on for nothing."""

    def __init__(self):
        self.pending: deque[Future] = deque()

    def save(self, name: str, make: Callable[[], bytes]) -> None:
        """Store the bytes `make()` returns (called on a store thread: encode there) under `name`."""
        while self.pending and (self.pending[0].done() or len(self.pending) >= MAX_PENDING_SAVES):
            self.pending.popleft().result()
        self.pending.append(_store_pool().submit(lambda: default_storage.save(name, ContentFile(make()))))

    def __enter__(self) -> "StoreWrites":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        errors = []
        while self.pending:  # every save ends before the step does, also when it failed
            try:
                self.pending.popleft().result()
            except Exception as error:  # noqa: BLE001 - raised below, unless another error is on its way
                errors.append(error)
        if errors and exc_type is None:
            raise errors[0]


def multipart_uploads_abort(*, prefix: str, started_before: float) -> int:
    """Abort the bucket's unfinished multipart uploads under `prefix` begun before `started_before` (a Unix
    time): the parts of an upload whose web process died while it streamed in. S3 keeps them, unseen,
    until someone does."""
    bucket = getattr(default_storage, "bucket", None)
    if bucket is None:
        return 0
    key_prefix = default_storage._normalize_name(prefix)
    stale = [upload for upload in bucket.multipart_uploads.filter(Prefix=key_prefix)
             if upload.initiated.timestamp() < started_before]
    for upload in stale:
        upload.abort()
    return len(stale)


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
