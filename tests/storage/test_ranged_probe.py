"""A reprocess probes an original in the bucket by reading only the byte ranges the probe needs (all of a
photo, in a few requests), and a store that fails in the middle of those reads is not taken for a damaged
file."""

import dataclasses
import io
from unittest import mock

import botocore.exceptions
import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from mediahub.assets.models import Asset
from mediahub.assets.services import asset_create
from tests.conftest import RED_CIRCLE
from workers import tasks
from workers.media.probe import probe

pytestmark = pytest.mark.django_db


@pytest.fixture
def bytes_fetched():
    """The bytes the object store sent in answer to GETs of objects, as the store's client counted them."""
    counted = []

    def count(http_response, **_):
        counted.append(int(http_response.headers.get("Content-Length", 0)))

    events = default_storage.connection.meta.client.meta.events
    events.register("after-call.s3.GetObject", count)
    yield counted
    events.unregister("after-call.s3.GetObject", count)


def test_a_reprocess_probes_a_stored_original_from_a_few_ranges_of_it(s3_storage, bytes_fetched, make_video):
    # ~5 MB (the world's noise at 640×360), its MP4 index written at the end, as PyAV writes it
    video = make_video([dataclasses.replace(RED_CIRCLE, duration=10.0)], name="long.mp4", width=640, height=360)
    size = video.stat().st_size
    with open(video, "rb") as source, mock.patch("mediahub.assets.services.pipeline_start"):
        asset = asset_create(source=source, filename=video.name, owner=None).asset
    Asset.objects.filter(pk=asset.pk).update(duration=None, width=None, height=None, codec="")

    tasks.asset_probe.apply(args=(asset.pk, str(asset.run_id)))

    asset.refresh_from_db()
    assert (asset.width, asset.height, asset.codec) == (640, 360, "h264")
    assert asset.duration == pytest.approx(10.0, abs=0.1)
    assert size > 4_000_000 and 0 < sum(bytes_fetched) < size / 4, (sum(bytes_fetched), size)
    default_storage.delete(asset.original.name)


class StoreCutOff(io.RawIOBase):
    """A stored file whose store stops answering after `good` bytes."""

    def __init__(self, data: bytes, good: int):
        self.data, self.good, self.position = data, good, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: len(self.data)}[whence] + offset
        return self.position

    def readinto(self, buffer):
        if self.position + len(buffer) > self.good:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url="http://store")
        chunk = self.data[self.position:self.position + len(buffer)]
        buffer[:len(chunk)] = chunk
        self.position += len(chunk)
        return len(chunk)


@pytest.mark.parametrize("share", [0.0, 0.1, 0.6])  # the header, the pictures, the index at the end
def test_a_store_cut_off_mid_probe_is_an_unreachable_store_not_a_damaged_file(two_scene_video, share):
    data = two_scene_video.read_bytes()
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        probe(io.BufferedReader(StoreCutOff(data, int(share * len(data))), 4096))


def test_a_stored_photo_is_read_whole_in_a_few_requests(s3_storage, bytes_fetched, tmp_path):
    photo = tmp_path / "noise.png"  # ~12 MB that no compression shrinks
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)).save(photo)
    size = photo.stat().st_size
    with open(photo, "rb") as source, mock.patch("mediahub.assets.services.pipeline_start"):
        asset = asset_create(source=source, filename=photo.name, owner=None).asset
    Asset.objects.filter(pk=asset.pk).update(width=None, height=None)

    tasks.asset_probe.apply(args=(asset.pk, str(asset.run_id)))

    asset.refresh_from_db()
    assert (asset.kind, asset.width, asset.height) == ("image", 2000, 2000)
    assert sum(bytes_fetched) == size and len(bytes_fetched) <= 8, (len(bytes_fetched), sum(bytes_fetched), size)
    default_storage.delete(asset.original.name)
