from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from mediahub.core.selectors import token_from_header, user_from_api_token


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>` with tokens from `manage.py create_api_token`."""

    keyword = "Token"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        raw = token_from_header(header)
        if raw is None:
            return None
        user = user_from_api_token(raw_token=raw)
        if user is None:
            raise exceptions.AuthenticationFailed("The API token is not valid; create a new one with `manage.py create_api_token USERNAME`.")
        return user, None

    def authenticate_header(self, request):
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <token>`; create one with `manage.py create_api_token USERNAME`."}
