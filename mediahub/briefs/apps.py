from django.apps import AppConfig


class BriefsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mediahub.briefs"
    label = "briefs"
