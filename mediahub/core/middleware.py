from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from mediahub.core.logs import log_ids_bind, log_ids_reset, request_id_for
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


API_ERROR_SENTENCES = {
    400: "The request could not be understood; check its parameters and body.",
    401: "Sign in, or send the header Authorization: Token <token>.",
    403: "You do not have permission to do this.",
    404: "There is nothing at this address; check the URL.",
    405: "This address does not accept that method; see /api/schema for what it accepts.",
    413: "The request is larger than this server accepts.",
    500: "Something went wrong on the server; try again later.",
}


class ApiJsonErrorsMiddleware:
    """Under /api/, an error answer is always JSON {"detail": <sentence>}.

    Whatever did not come from the API's own handlers (a URL that resolves to
    nothing, Django's debug pages, a method refused outside DRF) is replaced by
    a fixed sentence, so no internals (URL patterns, file paths) can leak.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (request.path.startswith("/api/") and response.status_code >= 400
                and not response.get("Content-Type", "").startswith("application/json")):
            status = response.status_code
            detail = API_ERROR_SENTENCES.get(status) or API_ERROR_SENTENCES[500 if status >= 500 else 400]
            replacement = JsonResponse({"detail": detail}, status=status)
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response


class PageLanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware for the pages (the language switch's cookie, else Accept-Language, else
    English); the JSON API under /api/ always answers in English, so scripts see the same sentences
    whatever their client sends."""

    def process_request(self, request):
        if request.path.startswith("/api/"):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return
        super().process_request(request)

    def process_response(self, request, response):
        if request.path.startswith("/api/"):
            return response
        return super().process_response(request, response)


class RequestIdMiddleware:
    """Gives each request an id (a sane incoming X-Request-ID, else a new one) that every log line of the
    request carries, that the tasks it queues carry on (workers/celery.py), and that the answer returns
    in X-Request-ID, so a user's report can be matched to the logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_for(incoming=request.headers.get("X-Request-ID"))
        token = log_ids_bind(request_id=request.request_id)
        try:
            response = self.get_response(request)
        finally:
            log_ids_reset(token)
        response["X-Request-ID"] = request.request_id
        return response
