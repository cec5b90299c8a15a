"""Faces found in the library, face tracks within a shot, and the people they are grouped into.

A face track is one face followed through consecutive sampled seconds of one shot; a
person is a group of tracks across the library. Editors' decisions (names, merges,
splits, "not this person", hidden people) are rows of their own, so a regroup or a
reprocess can honour them instead of overwriting them.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext
from pgvector.django import HnswIndex, VectorField

from mediahub.assets.models import Asset
from mediahub.core.models import TimeStampedModel

DESCRIPTOR_DIM = 128  # dlib's ResNet face descriptor


def face_chips_folder(asset_id: int) -> str:
    return f"faces/{asset_id}"


def face_chip_path(asset_id: int, track_index: int, face_time: float) -> str:
    return f"{face_chips_folder(asset_id)}/{track_index:04d}-{round(face_time * 1000):09d}.jpg"


class Person(TimeStampedModel):
    """Someone seen in the library: a group of face tracks, named or not."""

    name = models.CharField(max_length=200, blank=True, db_index=True)
    hidden = models.BooleanField(default=False, help_text="Left out of the people page and person search.")
    named_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    merged_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged",
                                    help_text="Set when an editor merged this person into another (undone by un-merge).")
    cover = models.ForeignKey("Face", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              help_text="The face shown for this person (the sharpest, largest, unless chosen).")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or gettext("Unnamed person %(number)s") % {"number": self.pk}  # as the People page says

    def get_absolute_url(self) -> str:
        return reverse("people:detail", args=[self.pk])


class FaceTrack(TimeStampedModel):
    """One face followed through consecutive sampled seconds of one shot of an asset."""

    class Assignment(models.TextChoices):
        AUTO = "auto", "Grouped automatically"
        MANUAL = "manual", "Placed by an editor"  # never moved by a regroup

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="face_tracks")
    index = models.PositiveIntegerField(help_text="Position among the asset's tracks (by start, then left edge).")
    start = models.FloatField(help_text="Seconds from the first video frame; 0 for an image.")
    end = models.FloatField(help_text="Where the last sampled second with the face ends (like a tag); 0 for an image.")
    box = models.JSONField(help_text="[x, y, w, h] in source pixels in the track's first frame.")
    boxes = models.JSONField(default=list, help_text="[[time, x, y, w, h], ...]: the face in every sampled second.")
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="tracks")
    assignment = models.CharField(max_length=10, choices=Assignment.choices, default=Assignment.AUTO)
    merged_from = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                    help_text="The person this track belonged to before an editor's merge (for un-merge).")
    best_face = models.ForeignKey("Face", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["asset", "index"]
        constraints = [models.UniqueConstraint(fields=["asset", "index"], name="facetrack_unique_asset_index")]
        indexes = [models.Index(fields=["person", "asset"])]

    def __str__(self) -> str:
        return f"track {self.index} of asset {self.asset_id} ({self.start:.0f}–{self.end:.0f} s)"


class Face(TimeStampedModel):
    """A described face: one detection of a track with its aligned crop and 128-d descriptor."""

    track = models.ForeignKey(FaceTrack, on_delete=models.CASCADE, related_name="faces")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="faces")
    time = models.FloatField()
    box = models.JSONField(help_text="[x, y, w, h] in source pixels.")
    score = models.FloatField(help_text="The detector's confidence.")
    sharpness = models.FloatField(help_text="Variance of the crop's Laplacian: higher is sharper.")
    chip = models.CharField(max_length=300, help_text="Storage name of the aligned face crop (JPEG).")
    descriptor = VectorField(dimensions=DESCRIPTOR_DIM, help_text="dlib ResNet descriptor; same person within ~0.5 L2.")

    class Meta:
        ordering = ["track", "time"]
        constraints = [models.UniqueConstraint(fields=["track", "time"], name="face_unique_track_time")]
        indexes = [
            HnswIndex(name="face_descriptor_hnsw", fields=["descriptor"], m=16, ef_construction=64,
                      opclasses=["vector_l2_ops"]),
        ]

    def __str__(self) -> str:
        return f"face at {self.time:.1f} s of asset {self.asset_id}"

    @property
    def chip_url(self) -> str:
        return reverse("people:face_chip", args=[self.pk])


class TrackRejection(TimeStampedModel):
    """'Not this person': the track must never be grouped into the person again."""

    track = models.ForeignKey(FaceTrack, on_delete=models.CASCADE, related_name="rejections")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="rejections")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["track", "person"], name="trackrejection_unique")]

    def __str__(self) -> str:
        return f"{self.track} is not {self.person}"
