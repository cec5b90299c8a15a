"""An upload is sent on to the bucket while it arrives (a multipart upload completed only once it became an
asset), against the real rclone S3 server: the object is exact, nothing shows before it is kept, a
discarded upload leaves nothing, and a store that goes away mid-way costs a second send, not the file."""

import os

import pytest

from mediahub.assets.services import staging_prune
from mediahub.assets.uploads import PART_BYTES, OriginalWriter

pytestmark = pytest.mark.django_db


def _written(chunks: list[bytes]) -> OriginalWriter:
    writer = OriginalWriter(filename="rushes.mp4")
    for chunk in chunks:
        writer.write(chunk)
    return writer


def _chunks(total: int, size: int = 1 << 20) -> list[bytes]:
    return [os.urandom(min(size, total - start)) for start in range(0, total, size)]


def _object(s3_storage, key: str) -> bytes:
    return s3_storage.client.get_object(Bucket="media", Key=key)["Body"].read()


def test_a_large_upload_is_in_the_bucket_exactly_once_kept_and_not_before(s3_storage):
    chunks = _chunks(2 * PART_BYTES + 12345)  # three parts, the last a short one
    writer = _written(chunks)
    writer.finish()
    assert writer.name not in s3_storage.keys("originals/")  # parts sent, but no object yet
    writer.store()
    writer.keep()
    writer.discard()
    assert _object(s3_storage, writer.name) == b"".join(chunks)
    assert not writer.path.exists()  # the staging file is gone
    s3_storage.client.delete_object(Bucket="media", Key=writer.name)


def test_a_small_upload_is_one_object_too(s3_storage):
    writer = _written([b"small file"])
    writer.finish()
    writer.store()
    writer.keep()
    writer.discard()
    assert _object(s3_storage, writer.name) == b"small file"
    s3_storage.client.delete_object(Bucket="media", Key=writer.name)


def test_a_discarded_upload_leaves_no_object_and_no_parts(s3_storage):
    writer = _written(_chunks(PART_BYTES + 1000))
    writer.finish()
    writer.discard()  # a duplicate, or a file the probe refused
    assert writer.name not in s3_storage.keys("originals/")
    uploads = s3_storage.client.list_multipart_uploads(Bucket="media").get("Uploads", [])
    assert not [upload for upload in uploads if upload["Key"] == writer.name]


def test_a_store_gone_mid_upload_and_back_gets_the_whole_file_sent_again(s3_storage):
    first, second = _chunks(PART_BYTES + 1000), _chunks(PART_BYTES)
    writer = _written(first)
    s3_storage.stop()
    try:
        for chunk in second:
            writer.write(chunk)  # the stream breaks off; the file still arrives in staging
    finally:
        s3_storage.start()
    writer.finish()
    writer.store()
    writer.keep()
    writer.discard()
    assert _object(s3_storage, writer.name) == b"".join(first + second)
    s3_storage.client.delete_object(Bucket="media", Key=writer.name)


def test_the_parts_of_an_upload_cut_off_by_a_crash_are_aborted_by_housekeeping(s3_storage):
    writer = _written(_chunks(PART_BYTES + 1000))  # its multipart upload has begun; the web process dies here

    def unfinished() -> list:
        uploads = s3_storage.client.list_multipart_uploads(Bucket="media").get("Uploads", [])
        return [upload for upload in uploads if upload["Key"] == writer.name]

    assert unfinished()
    staging_prune(older_than_hours=0)
    assert not unfinished()
