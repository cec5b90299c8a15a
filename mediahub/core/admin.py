from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q

from mediahub.core import roles
from mediahub.core.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "last_used_at"]
    readonly_fields = ["user", "prefix", "key_hash", "created_at", "last_used_at"]
    search_fields = ["user__username", "prefix"]

    def has_add_permission(self, request):
        return False  # tokens are shown once at creation: use `manage.py create_api_token`


class RoleFilter(admin.SimpleListFilter):
    title = "role"
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [(role, role) for role in roles.ROLES]

    def queryset(self, request, queryset):
        if self.value() == roles.ADMIN:
            return queryset.filter(Q(groups__name=roles.ADMIN) | Q(is_superuser=True)).distinct()
        if self.value() in roles.ROLES:
            higher = roles.ROLES[roles.ROLES.index(self.value()) + 1:]
            return queryset.filter(groups__name=self.value(), is_superuser=False).exclude(groups__name__in=higher)
        return queryset


def _set_role_action(role: str):
    def action(modeladmin, request, queryset):
        for user in queryset:
            roles.role_set(user=user, role=role)
        modeladmin.message_user(request, f"{queryset.count()} user(s) are now {role}s.", messages.SUCCESS)

    action.__name__ = f"make_{role}"
    action.short_description = f"Give the selected users the {role} role"
    action.allowed_permissions = ("change",)
    return action


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class RoleUserAdmin(UserAdmin):
    """Users with their role; admins set roles with the actions (or `manage.py set_role`)."""

    list_display = ["username", "email", "role", "is_active", "last_login"]
    list_filter = [RoleFilter, "is_active"]
    actions = [_set_role_action(role) for role in roles.ROLES]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="role")
    def role(self, user) -> str:
        return roles.role_of(user) or "—"
