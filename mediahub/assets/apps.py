from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "mediahub.assets"
    label = "assets"
    verbose_name = "Assets"
