"""Where a step reads an original: in place on local storage, a scratch copy for the step's duration with S3."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from mediahub.assets.storage import local_copy

BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64


def test_on_local_storage_a_step_reads_the_original_in_place(settings, tmp_path):
    settings.SCRATCH_DIR = tmp_path / "scratch"
    name = default_storage.save("originals/in-place.mp4", ContentFile(BYTES))
    with local_copy(name) as path:
        assert path == Path(settings.MEDIA_ROOT) / name
    assert not settings.SCRATCH_DIR.exists()
    default_storage.delete(name)


def test_with_s3_a_step_reads_a_scratch_copy_removed_afterwards_even_on_failure(s3_storage, settings, tmp_path):
    settings.SCRATCH_DIR = tmp_path / "scratch"
    name = default_storage.save("originals/fetched.mp4", ContentFile(BYTES))
    with local_copy(name) as path:
        assert path.is_relative_to(settings.SCRATCH_DIR) and path.read_bytes() == BYTES
    assert list(settings.SCRATCH_DIR.iterdir()) == []
    with pytest.raises(ValueError), local_copy(name) as path:
        raise ValueError("the step failed")
    assert not path.exists() and list(settings.SCRATCH_DIR.iterdir()) == []
    default_storage.delete(name)
