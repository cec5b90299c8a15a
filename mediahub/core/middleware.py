from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware

from mediahub.core.selectors import token_from_header, user_from_api_token


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page needs a login, except views marked `login_not_required`.

    The JSON API under /api/ authenticates itself (401 instead of a redirect);
    pages such as media and thumbnails also accept an API token header.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None
        if not request.user.is_authenticated:
            raw = token_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
            user = user_from_api_token(raw_token=raw) if raw else None
            if user is not None:
                request.user = user
        return super().process_view(request, view_func, view_args, view_kwargs)
