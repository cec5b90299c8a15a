from django.contrib import admin

from mediahub.core.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "last_used_at"]
    readonly_fields = ["user", "prefix", "key_hash", "created_at", "last_used_at"]
    search_fields = ["user__username", "prefix"]

    def has_add_permission(self, request):
        return False  # tokens are shown once at creation: use `manage.py create_api_token`
