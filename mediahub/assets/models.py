import uuid
from pathlib import PurePosixPath

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone

from mediahub.core.models import TimeStampedModel


def original_upload_path(instance: "Asset", filename: str) -> str:
    """Originals are stored under a generated name; the user's filename is kept in a field."""
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    if not suffix[1:].isalnum():
        suffix = ""
    return f"originals/{uuid.uuid4().hex}{suffix}"


def _search_text() -> models.Func:
    """Title, description, keywords and location joined with new lines (SQL function of migration 0009)."""
    return models.Func("title", "description", "keywords", "location", function="asset_search_text",
                       output_field=models.TextField())


class Asset(TimeStampedModel):
    class Kind(models.TextChoices):
        VIDEO = "video"
        IMAGE = "image"

    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    class Rights(models.TextChoices):
        CLEARED = "cleared", "Cleared"
        RESTRICTED = "restricted", "Restricted"
        DO_NOT_USE = "do_not_use", "Do not use"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="assets")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    original = models.FileField(upload_to=original_upload_path, max_length=300)
    original_filename = models.CharField(max_length=300)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    mime_type = models.CharField(max_length=100, blank=True)

    duration = models.FloatField(null=True, blank=True, help_text="Seconds from the first video frame.")
    width = models.PositiveIntegerField(null=True, blank=True, help_text="Display width, after rotation.")
    height = models.PositiveIntegerField(null=True, blank=True, help_text="Display height, after rotation.")
    fps = models.FloatField(null=True, blank=True)
    codec = models.CharField(max_length=50, blank=True)
    rotation = models.IntegerField(default=0, help_text="Degrees the stored picture is turned for display.")
    bitrate = models.BigIntegerField(null=True, blank=True, help_text="Bits per second.")
    container = models.CharField(max_length=100, blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    stage = models.CharField(max_length=20, blank=True, help_text="The pipeline step running or last run.")
    progress = models.FloatField(default=0.0)
    error = models.TextField(null=True, blank=True, help_text="Why processing failed, or what was skipped.")
    run_id = models.UUIDField(default=uuid.uuid4, help_text="The current pipeline run; older runs stop.")
    step_open = models.BooleanField(default=False, help_text="A step began and has not ended (yet, or ever: "
                                                             "its worker was killed).")
    crashes = models.PositiveSmallIntegerField(default=0, help_text="Steps begun again after one never ended, "
                                                                    "since the last reprocess.")
    poster_index = models.PositiveIntegerField(null=True, blank=True, help_text="The frame used as thumbnail.")
    processed_at = models.DateTimeField(null=True, blank=True)
    proxy = models.CharField(max_length=300, null=True, blank=True,
                             help_text="Storage name of the browser-playable rendition, when the original isn't one.")

    # Newsroom metadata, set by editors (EDITABLE_FIELDS); every change is kept as an AssetChange.
    keywords = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    location = models.CharField(max_length=200, blank=True, help_text="Where the footage was shot.")
    shot_date = models.DateField(null=True, blank=True, help_text="The day the footage was shot.")
    source = models.CharField(max_length=200, blank=True, help_text="Who supplied it: an agency, a stringer, staff.")
    credit = models.CharField(max_length=200, blank=True, help_text="The credit line to print or show on air.")
    rights_status = models.CharField(max_length=12, choices=Rights.choices, blank=True,
                                     help_text="Whether the footage may be used; blank until someone has checked.")
    rights_note = models.TextField(blank=True, help_text="Usage restrictions in words.")
    embargo_until = models.DateTimeField(null=True, blank=True, help_text="Not to be published before this moment.")
    notes = models.TextField(blank=True, help_text="The editors' notes.")

    # What text search reads (mediahub.search.selectors.text_match_query), kept by Postgres on every write
    # from the SQL functions of migration 0009, so a query reads columns instead of computing them per row.
    search_text = models.GeneratedField(expression=_search_text(), output_field=models.TextField(), db_persist=True)
    search_vector = models.GeneratedField(expression=SearchVector(_search_text(), config="simple"),
                                          output_field=SearchVectorField(), db_persist=True)
    search_bigrams = models.GeneratedField(expression=models.Func(_search_text(), function="unspaced_bigrams"),
                                           output_field=ArrayField(models.TextField()), db_persist=True)
    keywords_folded = models.GeneratedField(expression=models.Func("keywords", function="asset_keywords_folded"),
                                            output_field=ArrayField(models.TextField()), db_persist=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "status"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["source"]),
            models.Index(fields=["rights_status"]),
            models.Index(fields=["embargo_until"]),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="asset_title_trgm"),
            models.Index(Upper("source"), name="asset_source_upper"),  # the source filter: any case
            GinIndex(fields=["search_vector"], name="asset_search_fts"),
            GinIndex(fields=["search_text"], opclasses=["gin_trgm_ops"], name="asset_search_trgm"),
            GinIndex(fields=["search_bigrams"], name="asset_search_bigrams"),
            GinIndex(fields=["keywords_folded"], name="asset_keywords_folded"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__gte=0) & models.Q(progress__lte=1), name="asset_progress_0_1"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("assets:detail", args=[self.pk])

    @property
    def media_url(self) -> str:
        return reverse("assets:media", args=[self.pk])

    @property
    def original_url(self) -> str:
        return f"{self.media_url}?original=1"

    @property
    def thumbnail_url(self) -> str | None:
        return reverse("assets:thumbnail", args=[self.pk]) if self.poster_index is not None else None

    def embargoed(self, now: datetime | None = None) -> bool:
        return self.embargo_until is not None and self.embargo_until > (now or timezone.now())

    def publishable(self, now: datetime | None = None) -> bool:
        """Whether the footage may go on air now: no embargo running and not marked do not use."""
        return not self.embargoed(now) and self.rights_status != self.Rights.DO_NOT_USE

    def usage_warning(self, now: datetime | None = None) -> str | None:
        """What an editor must know before using the footage, in a sentence; None when nothing stops it."""
        warnings = []
        if self.embargoed(now):
            warnings.append(f"Embargoed until {self.embargo_until:%Y-%m-%d %H:%M} UTC.")
        if self.rights_status == self.Rights.DO_NOT_USE:
            warnings.append("Do not use" + (f": {self.rights_note}" if self.rights_note else "."))
        elif self.rights_status == self.Rights.RESTRICTED:
            warnings.append("Restricted" + (f": {self.rights_note}" if self.rights_note else "; check the rights note."))
        return " ".join(warnings) or None


# What editors may change on an asset (the page's form, bulk edit, PATCH /api/assets/{id}), in display order.
EDITABLE_FIELDS = ("title", "description", "keywords", "location", "shot_date", "source", "credit",
                   "rights_status", "rights_note", "embargo_until", "notes")
# What bulk edit sets on several assets at once.
BULK_EDITABLE_FIELDS = ("source", "credit", "rights_status", "rights_note", "embargo_until")


class AssetChange(TimeStampedModel):
    """One edit of an asset's metadata: who made it, when, how, and each field's value before and after."""

    class Via(models.TextChoices):
        PAGE = "page", "asset page"
        BULK = "bulk", "bulk edit"
        API = "api", "API"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    username = models.CharField(max_length=150, help_text="Kept when the user is deleted.")
    via = models.CharField(max_length=10, choices=Via.choices)
    changes = models.JSONField(help_text='{field: {"from": old, "to": new}}, values as the API writes them.')

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["asset", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.username} changed {', '.join(self.changes)} of asset {self.asset_id}"


class RightsPolicy(TimeStampedModel):
    """The newsroom's rule, set by admins, on whether viewers see footage nobody may publish yet.
    One row (pk 1); editors and admins always see everything, badged."""

    viewers_see_embargoed = models.BooleanField(default=True, help_text="Viewers see footage under embargo.")
    viewers_see_do_not_use = models.BooleanField(default=True, help_text="Viewers see footage marked do not use.")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "rights policy"

    def __str__(self) -> str:
        return "Rights policy"


def proxy_path(asset_id: int) -> str:
    return f"proxies/{asset_id}.mp4"


def frames_folder(asset_id: int) -> str:
    return f"frames/{asset_id}"


def frame_image_path(asset_id: int, index: int) -> str:
    return f"{frames_folder(asset_id)}/{index:06d}.jpg"


class Frame(TimeStampedModel):
    """One sampled frame per interval (a second by default) of an asset; an image has one, at 0."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="frames")
    index = models.PositiveIntegerField(help_text="Position in the sampling grid: time ≈ index × interval.")
    time = models.FloatField(help_text="Seconds from the first video frame to this frame.")
    image = models.CharField(max_length=300, help_text="Storage name of the frame's JPEG.")

    class Meta:
        ordering = ["asset", "index"]
        constraints = [models.UniqueConstraint(fields=["asset", "index"], name="frame_unique_asset_index")]

    def __str__(self) -> str:
        return f"{self.asset_id}@{self.time:.2f}s"

    @property
    def image_url(self) -> str:
        return reverse("assets:frame", args=[self.asset_id, self.index])


class TagLabel(TimeStampedModel):
    """An entry of a zero-shot tag vocabulary. Labels in one group compete with each other.

    Two vocabularies live side by side: the test-pattern world's colours and shapes for the
    demo model, and the newsroom labels for real models; only the active model's is used.
    """

    class Vocabulary(models.TextChoices):
        DEMO = "demo", "Test-pattern world (demo model)"
        NEWSROOM = "newsroom", "Newsroom (real models)"

    vocabulary = models.CharField(max_length=20, choices=Vocabulary.choices, default=Vocabulary.NEWSROOM, db_index=True,
                                  help_text="The set this label belongs to: only the active model's set is used for tagging and search.")
    name = models.CharField(max_length=100, help_text="English label shown to users.")
    name_zh = models.CharField(max_length=100, blank=True, help_text="Chinese label.")
    group = models.CharField(max_length=50, default="scene", help_text="Labels of a group are alternatives to each other.")
    prompts = models.TextField(help_text="One text prompt per line; their mean embedding describes the label.")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["group", "name"]
        constraints = [models.UniqueConstraint(fields=["vocabulary", "name"], name="taglabel_unique_vocabulary_name")]

    def __str__(self) -> str:
        return self.name

    def prompt_list(self) -> list[str]:
        return [line.strip() for line in self.prompts.splitlines() if line.strip()] or [self.name]


class AssetTag(TimeStampedModel):
    """A vocabulary label found in a time range of an asset."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="tags")
    label = models.ForeignKey(TagLabel, on_delete=models.CASCADE, related_name="asset_tags")
    start = models.FloatField()
    end = models.FloatField()
    score = models.FloatField(help_text="Mean probability of the label over the range, 0..1.")

    class Meta:
        ordering = ["asset", "start", "label__name"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "label", "start"], name="assettag_unique_range"),
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="assettag_end_after_start"),
        ]
        indexes = [models.Index(fields=["label", "asset"])]

    def __str__(self) -> str:
        return f"{self.label} {self.start:.0f}-{self.end:.0f}s"
