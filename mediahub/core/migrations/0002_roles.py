"""The three roles of CONTRACT.md section 6 as groups with their permissions; existing users get a role.

Self-contained: the permission table is a copy of `mediahub.core.roles.ROLE_ADDS` (migrations don't
import application code; a test keeps the copies equal). Permissions are normally made after the
last migration, so the ones needed here are made now if missing, as Django would name them.
"""

from django.conf import settings
from django.db import migrations

ROLES = ("viewer", "editor", "admin")
ROLE_ADDS = {
    "viewer": ("assets.view_asset", "search.add_search", "search.add_feedback"),
    "editor": ("assets.add_asset", "assets.change_asset", "assets.delete_asset"),
    "admin": ("assets.view_taglabel", "assets.add_taglabel", "assets.change_taglabel", "assets.delete_taglabel",
              "auth.view_user", "auth.add_user", "auth.change_user", "auth.delete_user", "auth.view_group",
              "core.view_apitoken", "core.delete_apitoken"),
}
MODEL_NAMES = {"asset": "asset", "taglabel": "tag label", "search": "search", "feedback": "feedback",
               "user": "user", "group": "group", "apitoken": "API token"}


def _permission(apps, perm: str):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    app_label, codename = perm.split(".")
    action, model = codename.split("_", 1)
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": f"Can {action} {MODEL_NAMES[model]}"})
    return permission


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Asset = apps.get_model("assets", "Asset")
    groups, granted = {}, []
    for role in ROLES:
        granted.extend(ROLE_ADDS[role])
        groups[role], _ = Group.objects.get_or_create(name=role)
        groups[role].permissions.set([_permission(apps, perm) for perm in granted])

    # Existing users keep what they could do: superusers administer, those who could change
    # anyone's assets or had uploaded some edit, everyone else views.
    uploaders = set(Asset.objects.exclude(owner=None).values_list("owner_id", flat=True))
    for user in User.objects.all():
        if user.groups.filter(name__in=ROLES).exists():
            continue
        could_edit = user.user_permissions.filter(content_type__app_label="assets", codename="change_asset").exists()
        role = "admin" if user.is_superuser else "editor" if could_edit or user.pk in uploaders else "viewer"
        user.groups.add(groups[role])
        if role == "admin" and not user.is_staff:
            User.objects.filter(pk=user.pk).update(is_staff=True)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("assets", "0004_title_trigram_index"),
        ("search", "0003_half_precision_hnsw"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
