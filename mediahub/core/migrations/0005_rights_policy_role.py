"""Admins decide whether viewers see embargoed or do-not-use footage (issue 11): the admin role gets
the rights policy's change permission. A copy of what `mediahub.core.roles.ROLE_ADDS` gained, like
0003; its grant and revoke steps are reused from there."""

import importlib

from django.db import migrations

people_roles = importlib.import_module("mediahub.core.migrations.0003_people_roles")
ROLE_ADDS = {
    "viewer": (),
    "editor": (),
    "admin": ("assets.view_rightspolicy", "assets.add_rightspolicy", "assets.change_rightspolicy"),
}


def add_rights_policy_permissions(apps, schema_editor):
    people_roles.grant(apps, ROLE_ADDS)


def remove_rights_policy_permissions(apps, schema_editor):
    people_roles.revoke(apps, ROLE_ADDS)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_brief_roles"),
        ("assets", "0008_newsroom_metadata"),
    ]

    operations = [migrations.RunPython(add_rights_policy_permissions, remove_rights_policy_permissions)]
