import uuid

from django.conf import settings
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
        """The model's HNSW index (over half-precision copies of its vectors)."""
        return f"search_frameemb_hnswh_{self.pk}"


class ModelCalibration(TimeStampedModel):
    """How one model's similarities read, measured on this library by `manage.py calibrate`
    (workers/ml/calibration.py says how each figure is obtained)."""

    model = models.OneToOneField(EmbeddingModel, on_delete=models.CASCADE, related_name="calibration")
    match_floor = models.FloatField()
    spread = models.FloatField()
    feedback_radius = models.FloatField()
    tag_floor = models.FloatField()
    shot_continuity = models.FloatField()
    frames = models.PositiveIntegerField(help_text="Frames of the library the figures were measured on.")
    library_frames = models.PositiveIntegerField(help_text="Frames the library held for this model at the time.")
    measured_at = models.DateTimeField()
    details = models.JSONField(default=dict, help_text="The percentiles behind each figure.")

    def __str__(self) -> str:
        return f"calibration of {self.model} ({self.frames} frames)"


class PromptVector(TimeStampedModel):
    """A tag prompt's text vector by one model, kept so a new worker process doesn't encode the
    whole vocabulary again (minutes on a CPU for a multilingual text tower)."""

    model = models.ForeignKey(EmbeddingModel, on_delete=models.CASCADE, related_name="prompt_vectors")
    text = models.TextField()
    vector = VectorField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "text"], name="promptvector_unique_model_text")]

    def __str__(self) -> str:
        return self.text


class FrameEmbedding(TimeStampedModel):
    """The CLIP image vector of one frame, by one model.

    The vector column has no fixed dimension so that models of different sizes
    can live side by side; each model gets its own partial HNSW index over
    `embedding::halfvec(dim)` (created by search.services.vector_index_ensure).
    `asset` and `time` repeat the frame's so a search needs no join.
    """

    frame = models.ForeignKey(Frame, on_delete=models.CASCADE, related_name="embeddings")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="frame_embeddings")
    model = models.ForeignKey(EmbeddingModel, on_delete=models.PROTECT, related_name="frame_embeddings")
    time = models.FloatField()
    embedding = VectorField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["frame", "model"], name="frameemb_unique_frame_model")]
        indexes = [models.Index(fields=["model", "asset", "time"])]

    def __str__(self) -> str:
        return f"{self.frame} by {self.model_id}"


class Search(TimeStampedModel):
    """One search as run: what was asked, the vector used, the filters and the moments shown with their ranks."""

    class Kind(models.TextChoices):
        TEXT = "text"
        IMAGE = "image"
        MOMENT = "moment"  # "more like this" from one second of an asset

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="searches")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    query = models.TextField(blank=True)
    model = models.ForeignKey(EmbeddingModel, on_delete=models.CASCADE, related_name="searches")
    vector = VectorField(help_text="The query vector as searched (after refinement by feedback).")
    session_key = models.CharField(max_length=64, blank=True, db_index=True,
                                   help_text="Groups a user's searches for query refinement.")
    filters = models.JSONField(default=dict)
    results = models.JSONField(default=list, help_text="[{asset_id, start, end, score, rank}] as shown.")
    duration_ms = models.FloatField(null=True, blank=True,
                                    help_text="How long the search took, from encoding the query to storing this row.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["model", "created_at"]), models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.query[:50]}"


class Feedback(TimeStampedModel):
    """A click or judgement on a moment a search returned; shared by everyone searching the library."""

    class Action(models.TextChoices):
        CLICK = "click"
        RELEVANT = "relevant"
        IRRELEVANT = "irrelevant"

    search = models.ForeignKey(Search, on_delete=models.CASCADE, related_name="feedback")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="feedback")
    start = models.FloatField()
    end = models.FloatField()
    action = models.CharField(max_length=12, choices=Action.choices)

    class Meta:
        indexes = [models.Index(fields=["asset", "action"])]
        constraints = [models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="feedback_end_after_start")]

    def __str__(self) -> str:
        return f"{self.action} {self.asset_id}@{self.start:.0f}-{self.end:.0f}"
