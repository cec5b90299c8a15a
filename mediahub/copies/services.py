"""Writes of video DNA: an asset's fingerprint (with its frame hashes) and the copies found.

Ordering that keeps concurrent ingests safe: the frames step stores an asset's fingerprint (and
drops its old matches) before the copies step searches, so of two copies ingested at the same
time at least the later search sees the other's fingerprint. Match writes take one advisory lock
(short transactions) so two steps storing the same pair don't collide on its unique constraint,
and they only store matches computed from fingerprints that are still current.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Q

from mediahub.assets.models import Asset
from mediahub.copies.models import Fingerprint, FrameHash, Match
from mediahub.copies.selectors import FoundCopy, hash_bits, segment_rows
from workers.ml import dna

_MATCH_LOCK = 0x636F70  # pg_advisory_xact_lock key of match writes ("cop")
INSERT_BATCH = 5000


def _lock_matches() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_MATCH_LOCK])


@transaction.atomic
def fingerprint_save(*, asset: Asset, fingerprint: dna.Fingerprint) -> Fingerprint:
    """Make `fingerprint` the asset's (replacing an earlier run's, its frame hashes and the asset's
    matches both ways: they were computed from the old one; the copies step finds them again)."""
    _lock_matches()
    Match.objects.filter(Q(asset=asset) | Q(other=asset)).delete()
    Fingerprint.objects.filter(asset=asset).delete()
    row = Fingerprint.objects.create(asset=asset, run_id=asset.run_id, data=fingerprint.to_bytes(),
                                     frame_count=len(fingerprint.times), duration=fingerprint.duration)
    FrameHash.objects.bulk_create(
        (FrameHash(fingerprint=row, time=float(time), hash=bits)
         for time, bits in zip(fingerprint.times.tolist(), hash_bits(fingerprint.hashes))),
        batch_size=INSERT_BATCH)
    return row


@transaction.atomic
def matches_store(*, asset: Asset, fingerprint_id: int, found: list[FoundCopy]) -> int:
    """Store the copies found for the asset's fingerprint `fingerprint_id`, both ways (replacing those
    pairs' earlier rows). Copies found with a fingerprint replaced meanwhile (the asset or the other
    was reprocessed) are skipped: that run's copies step stores them. Returns the pairs stored."""
    _lock_matches()
    current = set(Fingerprint.objects.filter(pk__in=[fingerprint_id, *(copy.fingerprint_id for copy in found)])
                  .values_list("pk", flat=True))
    if fingerprint_id not in current:
        return 0
    found = [copy for copy in found if copy.fingerprint_id in current]
    others = [copy.asset_id for copy in found]
    Match.objects.filter(Q(asset=asset, other_id__in=others) | Q(other=asset, asset_id__in=others)).delete()
    rows = []
    for copy in found:
        rows.append(Match(asset=asset, other_id=copy.asset_id, score=copy.score,
                          segments=segment_rows(copy.segments, swap=False)))
        rows.append(Match(asset_id=copy.asset_id, other=asset, score=copy.score,
                          segments=segment_rows(copy.segments, swap=True)))
    Match.objects.bulk_create(rows)
    return len(found)
