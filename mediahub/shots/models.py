"""Shots: the stretches of an asset between two cuts, each with its descriptions.

An asset's shots cover it from 0 to its duration with no gaps or overlaps (an image is one shot
0–0). The frames step writes them from its decode (`workers.media.shots`); a later step fills the
generated descriptions; an editor's correction is kept beside them and wins, and survives a
reprocess (`services.shots_replace` carries it to the new shot that overlaps it most).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from mediahub.assets.models import Asset
from mediahub.core.models import TimeStampedModel

LANGUAGES = ("en", "zh")


class Shot(TimeStampedModel):
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="shots")
    index = models.PositiveIntegerField(help_text="Position in the asset, from 0.")
    start = models.FloatField(help_text="Seconds from the first video frame.")
    end = models.FloatField(help_text="Seconds; the next shot's start, or the asset's duration.")
    thumbnail_index = models.PositiveIntegerField(
        null=True, blank=True, help_text="The sampled frame (Frame.index) that shows the shot.")
    description_en = models.TextField(blank=True, help_text="Generated from what the models recognise.")
    description_zh = models.TextField(blank=True, help_text="Generated, in Chinese.")
    edited_en = models.TextField(blank=True, help_text="An editor's correction; wins over the generated text.")
    edited_zh = models.TextField(blank=True)
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asset", "index"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "index"], name="shot_unique_asset_index"),
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="shot_end_after_start"),
            models.CheckConstraint(condition=models.Q(start__gte=0), name="shot_start_not_negative"),
        ]

    def __str__(self) -> str:
        return f"shot {self.index} of asset {self.asset_id} ({self.start:.2f}–{self.end:.2f} s)"

    def get_absolute_url(self) -> str:
        return f"{reverse('assets:detail', args=[self.asset_id])}?t={self.start}"

    @property
    def edited(self) -> bool:
        return bool(self.edited_en or self.edited_zh)

    def description(self, lang: str) -> str:
        """What users see: the editor's text in that language, else the generated one."""
        return getattr(self, f"edited_{lang}") or getattr(self, f"description_{lang}")

    @property
    def descriptions(self) -> dict[str, str]:
        return {lang: self.description(lang) for lang in LANGUAGES}

    @property
    def thumbnail_url(self) -> str | None:
        if self.thumbnail_index is None:
            return None
        return reverse("assets:frame", args=[self.asset_id, self.thumbnail_index])
