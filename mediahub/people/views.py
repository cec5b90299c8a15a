"""People pages: everyone seen in the library, one person's appearances, editors' changes, face crops."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mediahub.assets.views import stored_jpeg_response
from mediahub.core.roles import page_requires, user_can
from mediahub.people import selectors, services
from mediahub.people.models import FaceTrack, Person

PEOPLE_PAGE_SIZE = 60
APPEARANCES_PAGE_SIZE = 120


def _get_person_for_user(request, pk: int) -> Person:
    """The person, readable by anyone who may see people (the view checks that first) unless the rights
    policy hides every appearance of theirs from the user."""
    person = selectors.person_get(pk=pk, user=request.user)
    if person is None:
        raise Http404("There is no such person; they may have been deleted.")
    return person


def _get_track_for_user(request, pk: int) -> FaceTrack:
    track = FaceTrack.objects.select_related("person").filter(pk=pk).first()
    if track is None:
        raise Http404("There is no such face track; the asset may have been reprocessed or deleted.")
    return track


def _back(request, default: str):
    """Where the form came from (a page of this site), else `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


@require_GET
@page_requires("people.view_person")
def people_list(request):
    show_hidden = bool(request.GET.get("hidden")) and user_can(user=request.user, permission="people.change_person")
    people = selectors.people_list(include_hidden=show_hidden, user=request.user)
    page = Paginator(people, PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "people/list.html", {"page": page, "show_hidden": show_hidden})


@require_GET
@page_requires("people.view_person")
def person_detail(request, pk: int):
    person = _get_person_for_user(request, pk)
    appearances = Paginator(selectors.person_appearances(person=person, user=request.user), APPEARANCES_PAGE_SIZE)
    return render(request, "people/detail.html", {
        "person": person,
        "appearances": appearances.get_page(request.GET.get("page")),
        "merged": selectors.person_merged(person=person),
        "candidates": selectors.merge_candidates(person=person) if user_can(
            user=request.user, permission="people.change_person") else [],
    })


@require_POST
@page_requires("people.change_person")
def rename(request, pk: int):
    person = _get_person_for_user(request, pk)
    name = request.POST.get("name", "")
    try:
        services.person_rename(person=person, name=name, by=request.user)
        messages.success(request, _("Named “{name}”.").format(name=person.name) if person.name else _("The name was removed."))
    except ValidationError as exc:
        messages.error(request, _("Nothing was saved. {reason}").format(reason=" ".join(exc.messages)))
    return _back(request, person.get_absolute_url())


@require_POST
@page_requires("people.change_person")
def hide(request, pk: int):
    person = _get_person_for_user(request, pk)
    hidden = request.POST.get("hidden", "1") == "1"
    services.person_hide(person=person, hidden=hidden)
    messages.success(request, (_("{person} is hidden from the people page.") if hidden else
                              _("{person} is shown on the people page.")).format(person=person))
    return _back(request, person.get_absolute_url())


@require_POST
@page_requires("people.change_person")
def merge(request, pk: int):
    """Merge this person into the one chosen (who keeps their id and name)."""
    person = _get_person_for_user(request, pk)
    target_id = request.POST.get("into", "")
    target = selectors.person_get(pk=int(target_id)) if target_id.isdigit() else None
    if target is None:
        messages.error(request, _("Choose the person to merge into."))
        return redirect(person.get_absolute_url())
    try:
        services.person_merge(person=target, other=person, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(person.get_absolute_url())
    messages.success(request, _("Merged into {person}; un-merge there if this was a mistake.").format(person=target))
    return redirect(target.get_absolute_url())


@require_POST
@page_requires("people.change_person")
def unmerge(request, pk: int, other: int):
    person = _get_person_for_user(request, pk)
    other_person = _get_person_for_user(request, other)
    try:
        services.person_unmerge(person=person, other=other_person)
        messages.success(request, _("{person} is a person of their own again.").format(person=other_person))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(person.get_absolute_url())


@require_POST
@page_requires("people.delete_person")
def delete(request, pk: int):
    person = _get_person_for_user(request, pk)
    label = str(person)
    services.person_delete(person=person)
    messages.success(request, _("{person} and their faces were deleted.").format(person=label))
    return redirect("people:list")


@require_POST
@page_requires("people.change_person")
def track_split(request, pk: int):
    track = _get_track_for_user(request, pk)
    was = track.person
    person = services.track_split(track=track, by=request.user)
    messages.success(request, _("The face is a new person of its own; name them here."))
    return redirect(person.get_absolute_url() if was is None else was.get_absolute_url())


@require_POST
@page_requires("people.change_person")
def track_reject(request, pk: int):
    track = _get_track_for_user(request, pk)
    was = track.person
    try:
        services.track_reject(track=track, by=request.user)
        messages.success(request, _("That face will not be grouped with {person} again.").format(person=was))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(was.get_absolute_url() if was else reverse("people:list"))


@require_GET
@page_requires("people.view_person")
def face_chip(request, pk: int):
    face = selectors.face_get(pk=pk, user=request.user)
    if face is None or not default_storage.exists(face.chip):
        raise Http404("There is no such face crop.")
    return stored_jpeg_response(request, face.chip, download_name=f"face-{pk}.jpg")
