from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from mediahub.core.models import ApiToken, hash_token


def user_from_api_token(*, raw_token: str) -> AbstractBaseUser | None:
    """The active user a raw API token belongs to, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw_token), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or (timezone.now() - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def token_from_header(authorization: str) -> str | None:
    """The raw token of an `Authorization: Token <token>` header, or None."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "token" or not value.strip():
        return None
    return value.strip()
