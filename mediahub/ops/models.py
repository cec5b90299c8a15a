from django.db import models


class Operations(models.Model):
    """No table: the holder of the permission to open the operations page (admins, mediahub.core.roles).

    A model, not a bare permission row, so Django makes the permission again after a test's flush."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_operations", "Can open the operations page")]
