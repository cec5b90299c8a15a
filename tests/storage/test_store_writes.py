"""Frames and face crops are saved on store threads while the step goes on (an object store's round trips
overlap the decode): every save has ended when the step does, and a save that failed fails the step."""

import pytest
from django.core.files.storage import default_storage

from mediahub.assets.storage import STORE_UNREACHABLE, StoreWrites, storage_folder_delete, store_map

FOLDER = "tests-store-writes"


def _content(number: int) -> bytes:
    return f"picture {number} ".encode() * 500


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


@pytest.fixture
def folder(s3_storage):
    yield FOLDER
    storage_folder_delete(FOLDER)


def test_every_save_is_in_the_bucket_when_the_block_ends_and_reads_come_back_in_order(s3_storage, folder):
    names = [f"{folder}/{number:03d}.jpg" for number in range(30)]
    with StoreWrites() as writes:
        for number, name in enumerate(names):
            writes.save(name, lambda number=number: _content(number))
    assert s3_storage.keys(f"{folder}/") == names
    assert store_map(_read, names) == [_content(number) for number in range(30)]


def test_a_store_that_stops_answering_fails_the_block_with_the_error_the_pipeline_retries(s3_storage, folder):
    s3_storage.stop()
    try:
        with pytest.raises(STORE_UNREACHABLE), StoreWrites() as writes:
            writes.save(f"{folder}/lost.jpg", lambda: _content(0))
    finally:
        s3_storage.start()


def test_a_picture_that_cannot_be_made_is_raised_and_the_saves_before_it_are_kept(s3_storage, folder):
    def broken() -> bytes:
        raise OSError("cannot write mode P as JPEG")

    with pytest.raises(OSError, match="mode P"), StoreWrites() as writes:
        writes.save(f"{folder}/first.jpg", lambda: _content(1))
        writes.save(f"{folder}/broken.jpg", broken)
        writes.save(f"{folder}/last.jpg", lambda: _content(2))  # refused when the failure is known by then
    stored = s3_storage.keys(f"{folder}/")
    assert f"{folder}/first.jpg" in stored and f"{folder}/broken.jpg" not in stored
