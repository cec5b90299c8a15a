from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from mediahub.core.models import ApiToken, hash_token


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> str:
    """Create a token for `user` and return its raw value (shown once, never stored)."""
    raw = ApiToken.generate_raw()
    ApiToken.objects.create(user=user, key_hash=hash_token(raw), prefix=raw[:8])
    return raw
