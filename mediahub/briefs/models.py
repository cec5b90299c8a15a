"""Briefs: a script or creative brief cut into beats, each with the moments found for it and the
editor's pick, exported as a timeline.

A beat's results are stored as searched (asset, range, score; best first) so the board opens
without searching again; the search that found them is kept too, so a pick is feedback on the
beat's text. Results whose asset was deleted since are left out when read; a pick on a deleted
asset goes with it (the board proposes again).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from mediahub.assets.models import Asset
from mediahub.core.models import TimeStampedModel
from mediahub.search.models import Feedback, Search


class Brief(TimeStampedModel):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="briefs")
    title = models.CharField(max_length=200)
    text = models.TextField(help_text="The brief as pasted.")
    per_beat = models.PositiveSmallIntegerField(default=5, help_text="Results kept per beat.")
    filters = models.JSONField(default=dict, blank=True, help_text="Search filters for every beat, as the search API takes them.")

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "updated_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("briefs:board", args=[self.pk])


class Beat(TimeStampedModel):
    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="beats")
    index = models.PositiveIntegerField(help_text="Position in the brief, from 0.")
    text = models.TextField()
    search = models.ForeignKey(Search, on_delete=models.SET_NULL, null=True, related_name="brief_beats",
                               help_text="The text search of the beat: picks are feedback on it.")
    results = models.JSONField(default=list, help_text="[{asset_id, start, end, score}] best first, as searched.")
    weak = models.BooleanField(default=False, help_text="No result cleared the relevance floor.")
    similar_to = models.JSONField(null=True, blank=True,
                                  help_text="{asset_id, time} when the results are 'more like this' of a moment.")
    pick_asset = models.ForeignKey(Asset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    pick_start = models.FloatField(null=True, blank=True)
    pick_end = models.FloatField(null=True, blank=True)
    pick_feedback = models.ForeignKey(Feedback, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    picked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    picked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["brief", "index"]
        constraints = [
            models.UniqueConstraint(fields=["brief", "index"], name="beat_unique_brief_index"),
            models.CheckConstraint(condition=models.Q(pick_end__gte=models.F("pick_start")) | models.Q(pick_start__isnull=True),
                                   name="beat_pick_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"beat {self.index} of brief {self.brief_id}: {self.text[:40]}"

    @property
    def picked(self) -> bool:
        return self.pick_asset_id is not None
