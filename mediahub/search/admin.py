from django.contrib import admin

from mediahub.search.models import EmbeddingModel


@admin.register(EmbeddingModel)
class EmbeddingModelAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "dim", "created_at"]
    readonly_fields = ["key", "name", "pretrained", "dim", "created_at", "updated_at"]
