"""Candidate search over the library's frame hashes (pgvector bit(256), HNSW, Hamming distance)."""

import uuid

import numpy as np
import pytest

from mediahub.assets.models import Asset
from mediahub.copies.models import Fingerprint, FrameHash
from mediahub.copies.selectors import candidate_fingerprints, hash_bits


def fingerprint_row(owner, hashes: np.ndarray, name: str) -> Fingerprint:
    asset = Asset.objects.create(title=name, owner=owner, kind="video", original=f"originals/{name}.mp4",
                                 original_filename=f"{name}.mp4", sha256=uuid.uuid4().hex * 2, size_bytes=1)
    row = Fingerprint.objects.create(asset=asset, run_id=asset.run_id, data=b"", frame_count=len(hashes), duration=0)
    FrameHash.objects.bulk_create(FrameHash(fingerprint=row, time=i * 0.5, hash=bits)
                                  for i, bits in enumerate(hash_bits(hashes)))
    return row


def flip_bits(hashes: np.ndarray, count: int, rng) -> np.ndarray:
    bits = np.unpackbits(hashes, axis=1)
    for row in bits:
        row[rng.choice(256, size=count, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


@pytest.mark.django_db
def test_the_asset_sharing_frames_gets_the_votes_and_the_query_asset_is_left_out(owner):
    rng = np.random.default_rng(8)
    shared = rng.integers(0, 256, size=(12, 32), dtype=np.uint8)
    source = fingerprint_row(owner, shared, "source")
    others = [fingerprint_row(owner, rng.integers(0, 256, size=(20, 32), dtype=np.uint8), f"other{i}") for i in range(5)]
    query = fingerprint_row(owner, flip_bits(shared[4:10], 20, rng), "query")  # re-encoded: 20 bits off

    found = candidate_fingerprints(hashes=flip_bits(shared[4:10], 20, rng), exclude_asset_id=query.asset_id)
    assert found == [(source.pk, 6)]  # random hashes are ~128 bits apart: never within 31
    assert all(row.pk not in dict(found) for row in others)
    assert candidate_fingerprints(hashes=flip_bits(shared[4:10], 60, rng), exclude_asset_id=query.asset_id) == []
    assert dict(candidate_fingerprints(hashes=shared[4:10]))[query.pk] == 6  # not excluded: it is found too
