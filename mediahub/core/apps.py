from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mediahub.core"
    label = "core"
    verbose_name = "mediahub core"
