"""The roles get the briefs app's permissions (issue 10): every role opens and makes briefs (a
brief's owner alone changes it, checked per brief). A copy of what `mediahub.core.roles.ROLE_ADDS`
gained, like 0003; its grant and revoke steps are reused from there."""

import importlib

from django.db import migrations

people_roles = importlib.import_module("mediahub.core.migrations.0003_people_roles")
ROLES = people_roles.ROLES
ROLE_ADDS = {
    "viewer": ("briefs.view_brief", "briefs.add_brief"),
    "editor": (),
    "admin": (),
}


def add_brief_permissions(apps, schema_editor):
    people_roles.grant(apps, ROLE_ADDS)


def remove_brief_permissions(apps, schema_editor):
    people_roles.revoke(apps, ROLE_ADDS)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_people_roles"),
        ("briefs", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_brief_permissions, remove_brief_permissions)]
