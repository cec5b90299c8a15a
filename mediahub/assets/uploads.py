"""Uploads written once, straight to their final place in MEDIA_ROOT/originals (or, with object storage,
to a staging file for the probe, removed once the bucket holds the file, which is sent on as it arrives).

Django's default handlers spool a large upload to a temporary file, which the
service then copied to staging and again into storage: three copies of every
byte. `OriginalWriter` writes the bytes once, under their final generated name
(with `.part` until complete), hashing and counting as they pass, and refuses a
file over MAX_UPLOAD_BYTES while it streams. `OriginalUploadHandler` feeds the
multipart `file` part of a request into one; `manage.py ingest` feeds a file.

With object storage (MEDIAHUB_STORAGE_URL) the file is written once to
DATA_DIR/staging (the probe that refuses undecodable files reads it there) and,
as it arrives, sent on to the bucket as the parts of a multipart upload
(`_BucketStream`), which `store` completes before the asset exists, so a queued
asset's original is always in the bucket. A duplicate or a refused file has its
multipart upload aborted: the bucket never shows it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from concurrent.futures import Future
from pathlib import Path
from typing import BinaryIO

import botocore.exceptions
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from rest_framework.exceptions import APIException
from storages.utils import clean_name

from mediahub.assets.models import original_upload_path
from mediahub.assets.storage import STORE_UNREACHABLE, StoreUnavailable, storage_is_local, store_submit

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
PART_BYTES = 8 << 20  # a multipart upload's part while an upload streams on to the bucket (S3's least is 5 MiB)
PARTS_IN_FLIGHT = 4  # parts being sent while the request reads on: at most ~40 MiB held per upload
STORE_REFUSED = (*STORE_UNREACHABLE, botocore.exceptions.ClientError)


class UploadTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"The file is larger than the upload limit of {_human_size(limit)}; "
                         "trim or compress it, or ask an administrator to raise MEDIAHUB_MAX_UPLOAD_BYTES.")


def _human_size(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"


class OriginalWriter:
    """One original being written: `write` chunks, then `finish`, then `store`; `discard` removes whatever
    exists unless `keep` was called (an asset row now points at the file), and the staging file anyway."""

    def __init__(self, *, filename: str, limit: int | None = None):
        self.name = original_upload_path(None, filename)  # storage name, e.g. originals/<hex>.mp4
        self.remote = not storage_is_local()
        self.path = (settings.DATA_DIR / "staging" / Path(self.name).name if self.remote
                     else Path(settings.MEDIA_ROOT) / self.name)  # the bytes on this machine's disk
        self.stored = False  # in the object store
        self._part = self.path.with_name(self.path.name + ".part")
        self.limit = settings.MAX_UPLOAD_BYTES if limit is None else limit
        self.size = 0
        self.finished = False
        self._kept = False
        self._digest = hashlib.sha256()
        self._bucket = _BucketStream(self.name) if self.remote else None
        self._part.parent.mkdir(parents=True, exist_ok=True)
        self._handle: BinaryIO | None = open(self._part, "xb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.discard()
            raise UploadTooLarge(self.limit)
        self._digest.update(chunk)
        self._handle.write(chunk)
        if self._bucket is not None:
            self._bucket.write(chunk)

    def finish(self) -> None:
        """Flush to disk and give the file its final name."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._handle = None
        os.replace(self._part, self.path)
        self.finished = True

    def store(self) -> None:
        """Put the finished file in the object store (on disk storage it is there already).
        Raises StoreUnavailable when the store doesn't answer; a failed multipart upload is aborted."""
        if not self.remote or self.stored:
            return
        if self._bucket is not None and self._bucket.complete():
            self.stored = True
            return
        try:  # the stream broke off (the store went away meanwhile): the whole file once more
            with open(self.path, "rb") as handle:
                default_storage.save(self.name, File(handle))
        except STORE_UNREACHABLE as exc:
            raise StoreUnavailable("The media store is not answering, so the upload was not kept; "
                                   "send it again in a minute.") from exc
        self.stored = True

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def keep(self) -> None:
        self._kept = True

    def discard(self) -> None:
        """Remove the local file (a kept original on disk storage stays) and an unkept stored copy."""
        if self._kept and not self.remote:
            return
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._part.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
        if self._bucket is not None and not self.stored:
            self._bucket.abort()
        if self.stored and not self._kept:
            default_storage.delete(self.name)
            self.stored = False

    @classmethod
    def copy_from(cls, source: BinaryIO, *, filename: str) -> OriginalWriter:
        """Read `source` once and write it once (manage.py ingest)."""
        writer = cls(filename=filename)
        try:
            for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
                writer.write(chunk)
            writer.finish()
        except BaseException:
            writer.discard()
            raise
        return writer


class _BucketStream:
    """An upload's bytes sent on to the bucket while they arrive: from PART_BYTES on, as the parts of a
    multipart upload (on the store threads, while the request reads on), which `complete` completes; S3
    shows no object before that, and `abort` discards the parts, so nothing of a duplicate or a refused
    file appears in the bucket. A smaller file is one PUT at `complete`. When the store fails on the way
    the stream stops, and `complete` says so (the caller then sends the staging file whole)."""

    def __init__(self, name: str):
        self.client = default_storage.bucket.meta.client
        self.bucket = default_storage.bucket_name
        self.key = default_storage._normalize_name(clean_name(name))  # where django-storages would put `name`
        self.parameters = default_storage._get_write_parameters(self.key)  # its content type and object parameters
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[Future] = []
        self.broken = False

    def write(self, chunk: bytes) -> None:
        if self.broken:
            return
        self.buffer += chunk
        if len(self.buffer) >= PART_BYTES:
            self._guarded(self._send)

    def _guarded(self, action) -> bool:
        try:
            action()
            return True
        except STORE_REFUSED as exc:
            logger.warning("streaming %s to the bucket stopped (%s); it is sent whole once it has arrived",
                           self.key, exc)
            self.abort()
            self.broken = True
            return False

    def _send(self) -> None:
        if self.upload_id is None:
            self.upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, **self.parameters)["UploadId"]
        while len([part for part in self.parts if not part.done()]) >= PARTS_IN_FLIGHT:
            next(part for part in self.parts if not part.done()).result()
        for part in self.parts:
            if part.done():
                part.result()  # a failed part stops the stream now
        number, body = len(self.parts) + 1, bytes(self.buffer)
        self.buffer.clear()
        self.parts.append(store_submit(self._upload_part, number, body))

    def _upload_part(self, number: int, body: bytes) -> dict:
        answer = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                         PartNumber=number, Body=body)
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def complete(self) -> bool:
        """Make the object; False when the stream broke off on the way (nothing of it is kept)."""
        return not self.broken and self._guarded(self._complete)

    def _complete(self) -> None:
        if self.upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer), **self.parameters)
            return
        if self.buffer:
            self._send()
        parts = [part.result() for part in self.parts]
        self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                              MultipartUpload={"Parts": parts})
        self.upload_id = None

    def abort(self) -> None:
        """Discard the parts sent (safe to call more than once)."""
        for part in self.parts:
            with contextlib.suppress(Exception):
                part.result()
        self.parts, self.buffer = [], bytearray()
        if self.upload_id is not None:
            with contextlib.suppress(*STORE_REFUSED):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            self.upload_id = None


class StoredUpload(UploadedFile):
    """What request.FILES["file"] holds after OriginalUploadHandler: the original, already in place."""

    def __init__(self, writer: OriginalWriter, *, name: str, content_type: str | None):
        super().__init__(file=None, name=name, content_type=content_type, size=writer.size)
        self.writer = writer

    def open(self, mode=None):
        return open(self.writer.path, mode or "rb")

    def close(self):
        pass


class PayloadTooLarge(APIException):
    status_code = 413
    default_code = "too_large"


class OriginalUploadHandler(FileUploadHandler):
    """Streams the multipart field `file` into an OriginalWriter; other file fields are ignored."""

    field_name_for_original = "file"
    chunk_size = CHUNK_SIZE

    def __init__(self, request=None):
        super().__init__(request)
        self.writer: OriginalWriter | None = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # Form fields besides the file are at most DATA_UPLOAD_MAX_MEMORY_SIZE, so a body longer
        # than the limit plus that certainly carries a file over the limit: refuse before reading.
        allowance = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        if content_length and content_length > settings.MAX_UPLOAD_BYTES + allowance:
            raise PayloadTooLarge(str(UploadTooLarge(settings.MAX_UPLOAD_BYTES)))
        return None

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if field_name != self.field_name_for_original or self.writer is not None:
            raise StopFutureHandlers()  # nothing else of the body is kept
        self.writer = OriginalWriter(filename=file_name or "upload")
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        if self.writer is not None and not self.writer.finished and self.field_name == self.field_name_for_original:
            try:
                self.writer.write(raw_data)
            except UploadTooLarge as exc:
                raise PayloadTooLarge(str(exc)) from exc
        return None

    def file_complete(self, file_size):
        if self.writer is None or self.writer.finished or self.field_name != self.field_name_for_original:
            return None
        self.writer.finish()
        return StoredUpload(self.writer, name=self.file_name, content_type=self.content_type)

    def upload_interrupted(self):
        self.discard()

    def discard(self) -> None:
        """Remove the file unless it became an asset's original (safe to call more than once)."""
        if self.writer is not None:
            self.writer.discard()


class UploadInterrupted(APIException):
    status_code = 400
    default_code = "interrupted"
    default_detail = "The upload was cut off before the whole file arrived; send it again."


class CompleteBodyStream:
    """Wraps a request body of known length: reaching its end early means the client went away.

    Django's multipart parser would otherwise take a cut-off body for a shorter file.
    """

    def __init__(self, stream, length: int):
        self._stream = stream
        self._remaining = length

    def read(self, size=-1, /):
        data = self._stream.read(size)
        self._remaining -= len(data)
        if not data and self._remaining > 0 and size != 0:
            raise UploadInterrupted()
        return data

    def readline(self, size=-1, /):
        line = self._stream.readline(size)
        self._remaining -= len(line)
        return line


def upload_handlers_install(request) -> OriginalUploadHandler:
    """Make `request` stream its `file` part to its final place, and notice a cut-off body."""
    handler = OriginalUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length and hasattr(request, "_stream"):
        request._stream = CompleteBodyStream(request._stream, length)
    return handler
