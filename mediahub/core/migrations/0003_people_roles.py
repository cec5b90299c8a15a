"""The roles get the people app's permissions (issue 7): viewers see people, editors name, merge,
split, hide and delete them.

Self-contained like `0002_roles`: the additions are a copy of what `mediahub.core.roles.ROLE_ADDS`
gained (a test keeps 0002's table plus these equal to it). A role has what the roles before it have.
"""

from django.db import migrations

ROLES = ("viewer", "editor", "admin")
ROLE_ADDS = {
    "viewer": ("people.view_person",),
    "editor": ("people.change_person", "people.delete_person"),
    "admin": (),
}


def _permission(apps, perm: str):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    app_label, codename = perm.split(".")
    action, model = codename.split("_", 1)
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": f"Can {action} {model}"})
    return permission


def grant(apps, role_adds: dict) -> None:
    """Give each role group the permissions `role_adds` adds for it and for the roles before it."""
    Group = apps.get_model("auth", "Group")
    granted = []
    for role in ROLES:
        granted.extend(role_adds[role])
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*[_permission(apps, perm) for perm in granted])


def revoke(apps, role_adds: dict) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = [p.split(".") for adds in role_adds.values() for p in adds]
    taken = Permission.objects.none()
    for app_label, codename in perms:
        taken |= Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*taken)


def add_people_permissions(apps, schema_editor):
    grant(apps, ROLE_ADDS)


def remove_people_permissions(apps, schema_editor):
    revoke(apps, ROLE_ADDS)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_roles"),
        ("people", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_people_permissions, remove_people_permissions)]
