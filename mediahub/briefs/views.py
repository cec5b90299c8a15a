"""The briefs pages: the list (with a new brief form) and a brief's board."""

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from mediahub.core.roles import page_requires


@require_GET
@page_requires("briefs.view_brief")
def brief_list(request):
    return HttpResponse("briefs")


@require_GET
@page_requires("briefs.view_brief")
def brief_board(request, pk: int):
    return HttpResponse("board")
