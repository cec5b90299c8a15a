from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save


class CoreConfig(AppConfig):
    name = "mediahub.core"
    label = "core"
    verbose_name = "mediahub core"

    def ready(self):
        from mediahub.core.roles import give_new_user_a_role

        post_save.connect(give_new_user_a_role, sender=settings.AUTH_USER_MODEL, dispatch_uid="core.new_user_role")

