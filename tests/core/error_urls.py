"""A test-only URLconf: the project's pages plus one that fails, for the friendly 500 page."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest
from django.urls import path

from mediahub.urls import *  # noqa: F401,F403  (the handlers too)
from mediahub.urls import urlpatterns as project_urlpatterns


class Broken(Exception):
    pass


def broken_page(request):
    raise Broken("a bug in a page")


def broken_api(request):
    raise Broken("a bug in an endpoint")


def bad_page(request):
    raise BadRequest("a request no page can answer")


urlpatterns = [
    path("bad/", login_not_required(bad_page)),
    path("broken/", login_not_required(broken_page)),
    path("api/broken", login_not_required(broken_api)),
    *project_urlpatterns,
]
