from django.db import models
from pgvector.django import VectorField

from mediahub.assets.models import Asset, Frame
from mediahub.core.models import TimeStampedModel


class EmbeddingModel(TimeStampedModel):
    """A CLIP model (name + weights) that made vectors. Vectors of different models are never compared."""

    key = models.CharField(max_length=200, unique=True, help_text="name@weights-identity, e.g. ViT-B-32@laion2b_s34b_b79k.")
    name = models.CharField(max_length=100)
    pretrained = models.CharField(max_length=500)
    dim = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.key

    @property
    def index_name(self) -> str:
        return f"search_frameemb_hnsw_{self.pk}"


class FrameEmbedding(TimeStampedModel):
    """The CLIP image vector of one frame, by one model.

    The vector column has no fixed dimension so that models of different sizes
    can live side by side; each model gets its own partial HNSW index over
    `embedding::vector(dim)` (created by search.services.vector_index_ensure).
    `asset` and `time` repeat the frame's so a search needs no join.
    """

    frame = models.ForeignKey(Frame, on_delete=models.CASCADE, related_name="embeddings")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="frame_embeddings")
    model = models.ForeignKey(EmbeddingModel, on_delete=models.PROTECT, related_name="frame_embeddings")
    time = models.FloatField()
    embedding = VectorField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["frame", "model"], name="frameemb_unique_frame_model")]
        indexes = [models.Index(fields=["model", "asset"])]

    def __str__(self) -> str:
        return f"{self.frame} by {self.model_id}"
