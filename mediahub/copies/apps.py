from django.apps import AppConfig


class CopiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mediahub.copies"
    label = "copies"
