"""People pages (skeleton: filled in by the people app's pages)."""

from django.http import Http404


def people_list(request):
    raise Http404("The people page is not built yet.")


def person_detail(request, pk: int):
    raise Http404("The person page is not built yet.")


def face_chip(request, pk: int):
    raise Http404("Face crops are not served yet.")
