from django.apps import AppConfig


class ShotsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mediahub.shots"
    label = "shots"
