"""The API documented on two pages, Swagger UI and Redoc, for any signed-in user.

Their scripts and styles come from drf-spectacular-sidecar through our own static files (no CDN), and
both read the schema at /api/schema with the reader's session.
"""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework import exceptions


# Only this server's files: Redoc's sidebar asks cdn.redoc.ly for its logo, which the browser then never fetches.
# Swagger UI's settings are an inline script; Redoc's search index runs in a worker made from a blob.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
                           "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


class _SignInFirst:
    """A page under /api/: a signed-out visitor is sent to the login page, as on every other page."""

    url_name = "api:schema"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class ApiDocsPage(_SignInFirst, SpectacularSwaggerView):
    template_name = "api/swagger_ui.html"


class ApiRedocPage(_SignInFirst, SpectacularRedocView):
    template_name = "api/redoc.html"
