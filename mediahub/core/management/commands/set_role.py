from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from mediahub.core.roles import ROLES, role_set, with_article


class Command(BaseCommand):
    help = f"Give USERNAME one of the roles {', '.join(ROLES)} (CONTRACT.md section 6)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", help=" | ".join(ROLES))

    def handle(self, *args, username: str, role: str, **options):
        if role not in ROLES:
            raise CommandError(f"{role!r} is not a role; choose one of {', '.join(ROLES)}.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}; check the spelling or create the user first.")
        role_set(user=user, role=role)
        self.stdout.write(f"{username} is now {with_article(role)}.")
