from django.contrib import admin

from mediahub.assets.models import Asset, AssetTag, RightsPolicy, TagLabel


@admin.register(TagLabel)
class TagLabelAdmin(admin.ModelAdmin):
    list_display = ["name", "name_zh", "vocabulary", "group", "enabled"]
    list_filter = ["vocabulary", "group", "enabled"]
    list_editable = ["enabled"]
    search_fields = ["name", "name_zh", "prompts"]


class AssetTagInline(admin.TabularInline):
    model = AssetTag
    extra = 0
    fields = ["label", "start", "end", "score"]
    readonly_fields = fields
    can_delete = False


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "kind", "status", "progress", "owner", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "description", "original_filename", "sha256"]
    readonly_fields = ["original", "original_filename", "size_bytes", "sha256", "kind", "mime_type", "duration",
                       "width", "height", "fps", "codec", "rotation", "bitrate", "container", "status", "stage",
                       "progress", "error", "run_id", "poster_index", "proxy", "processed_at", "created_at", "updated_at"]
    inlines = [AssetTagInline]


@admin.register(RightsPolicy)
class RightsPolicyAdmin(admin.ModelAdmin):
    """One row (pk 1), also set on /settings/rights/."""

    list_display = ["__str__", "viewers_see_embargoed", "viewers_see_do_not_use", "updated_by", "updated_at"]
    fields = ["viewers_see_embargoed", "viewers_see_do_not_use", "updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not RightsPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        obj.pk, obj.updated_by = 1, request.user
        super().save_model(request, obj, form, change)
