"""Admins open the operations page (issue 12). A copy of what `mediahub.core.roles.ROLE_ADDS` gained,
like 0003; its grant and revoke steps are reused from there."""

import importlib

from django.db import migrations

people_roles = importlib.import_module("mediahub.core.migrations.0003_people_roles")
ROLE_ADDS = {
    "viewer": (),
    "editor": (),
    "admin": ("ops.view_operations",),
}


def add_operations_permission(apps, schema_editor):
    people_roles.grant(apps, ROLE_ADDS)


def remove_operations_permission(apps, schema_editor):
    people_roles.revoke(apps, ROLE_ADDS)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0005_rights_policy_role"),
        ("ops", "0001_operations_permission"),
    ]

    operations = [migrations.RunPython(add_operations_permission, remove_operations_permission)]
