from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from mediahub.core.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (one line)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}; create it with `manage.py createsuperuser` first.")
        self.stdout.write(api_token_create(user=user))
