"""Video DNA: each asset's fingerprint, its frames' hashes indexed for nearest-neighbour search, and
the copies found between assets.

The fingerprint (`workers.ml.dna.Fingerprint.to_bytes`) is what alignment reads; the frame hashes
are the same hashes one row each, in a pgvector `bit(256)` column with an HNSW index (Hamming
distance) that finds candidate assets. A copy is stored both ways (asset → other and other →
asset), so each side reads its own copies with one indexed filter.
"""

from django.db import models
from pgvector.django import BitField, HnswIndex

from mediahub.assets.models import Asset
from mediahub.core.models import TimeStampedModel

HASH_BITS = 256


class Fingerprint(TimeStampedModel):
    """The asset's DNA from one pipeline run: PDQ hashes of its kept frames with their times."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="fingerprint")
    run_id = models.UUIDField(help_text="The pipeline run that sampled it; a run that samples no frames keeps it.")
    data = models.BinaryField(help_text="workers.ml.dna.Fingerprint.to_bytes(): times, hashes, mirrored hashes.")
    frame_count = models.PositiveIntegerField()
    duration = models.FloatField(help_text="Seconds; 0 for an image.")

    def __str__(self) -> str:
        return f"fingerprint of asset {self.asset_id} ({self.frame_count} frames)"


class FrameHash(models.Model):
    """One kept frame's PDQ hash, for candidate search. No timestamps: there are millions of these
    rows (about 2 per second of video) and they are written and dropped with their fingerprint."""

    fingerprint = models.ForeignKey(Fingerprint, on_delete=models.CASCADE, related_name="frame_hashes")
    time = models.FloatField(help_text="Seconds from the first video frame; 0 for an image.")
    hash = BitField(length=HASH_BITS)

    class Meta:
        indexes = [
            HnswIndex(name="framehash_hash_hnsw", fields=["hash"], m=16, ef_construction=64,
                      opclasses=["bit_hamming_ops"]),
        ]

    def __str__(self) -> str:
        return f"hash at {self.time:.2f} s of fingerprint {self.fingerprint_id}"


class Match(TimeStampedModel):
    """`asset` contains footage that is also in `other`: aligned ranges, `start`/`end` in `asset`,
    `other_start`/`other_end` in `other`. Stored for both directions of each pair."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="copy_matches")
    other = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="0..1 (workers.ml.dna.copy_score).")
    segments = models.JSONField(help_text="[{start, end, other_start, other_end, flipped}], best first.")

    class Meta:
        ordering = ["asset", "-score", "other"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "other"], name="copies_match_unique_pair"),
            models.CheckConstraint(condition=~models.Q(asset=models.F("other")), name="copies_match_not_itself"),
        ]
        indexes = [models.Index(fields=["other"])]

    def __str__(self) -> str:
        return f"asset {self.asset_id} has footage of asset {self.other_id} (score {self.score:.2f})"
