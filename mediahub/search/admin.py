from django.contrib import admin

from mediahub.search.models import EmbeddingModel, ModelCalibration


@admin.register(EmbeddingModel)
class EmbeddingModelAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "dim", "created_at"]
    readonly_fields = ["key", "name", "pretrained", "dim", "created_at", "updated_at"]


@admin.register(ModelCalibration)
class ModelCalibrationAdmin(admin.ModelAdmin):
    """Read-only: the figures come from `manage.py calibrate`."""

    list_display = ["model", "match_floor", "spread", "feedback_radius", "tag_floor", "shot_continuity", "frames",
                    "measured_at"]
    readonly_fields = [f.name for f in ModelCalibration._meta.fields]
