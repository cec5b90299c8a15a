"""The briefs pages: the list (with the new-brief form) and a brief's board, beats on the left and
their moments on the right.

Anyone with the viewer role opens any brief; only its owner changes it. Every change is a plain form
post that ends with a message and a redirect back to the board (app.js sends the beat changes through
the JSON API instead and refreshes the rows in place, but the pages work without it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from mediahub.assets.models import Asset
from mediahub.assets.selectors import RIGHTS_UNSET, asset_sources
from mediahub.briefs import exports, selectors, services
from mediahub.briefs.models import Beat, Brief
from mediahub.core.interface import kind_label
from mediahub.core.roles import page_requires, refusal, user_can
from mediahub.people.selectors import search_named_people
from mediahub.search.selectors import tag_labels_active
from mediahub.shots.selectors import description_language, image_descriptions
from workers.ml.clip import ModelUnavailable

LIST_PAGE_SIZE = 30
# How the export formats are named for people (the API names them by their short codes).
EXPORT_LABELS = {
    "edl": "EDL (CMX 3600)",
    "fcpxml": "Final Cut Pro 7 XML (Premiere Pro, DaVinci Resolve)",
    "otio": "OpenTimelineIO",
    "csv": "CSV",
}
# The new-brief form's fields as the page keeps them between a refusal and the next try.
RIGHTS_SHOWN = {**{value: label for value, label in Asset.Rights.choices}, RIGHTS_UNSET: gettext_lazy("not checked")}
NEW_BRIEF_FIELDS = ("title", "text", "per_beat", *services.FILTER_NAMES)


def _get_brief_for_user(request, pk: int, *, change: bool = False) -> Brief:
    """The brief, open to anyone who may see briefs; for a change, only to its owner (a 403 page otherwise)."""
    brief = Brief.objects.select_related("owner").filter(pk=pk).first()
    if brief is None:
        raise Http404(f"There is no brief {pk}; it may have been deleted.")
    if change and brief.owner_id != request.user.pk:
        owner = brief.owner.get_username() if brief.owner else "its former owner"
        raise PermissionDenied(f"Only the brief's owner ({owner}) can change or delete it; open it, or make your own.")
    return brief


def _get_beat_for_user(request, pk: int, index: int) -> Beat:
    beat = selectors.beat_get(brief=_get_brief_for_user(request, pk, change=True), index=index)
    if beat is None:
        raise Http404(f"Brief {pk} has no beat {index + 1}.")
    return beat


def _filter_choices(user) -> dict:
    """What the filter forms offer: kinds, the tag vocabulary, the named people (once faces exist), the sources."""
    people = search_named_people(user=user)
    return {"kinds": Asset.Kind.values, "tags": tag_labels_active().order_by("group", "name"),
            "person_choices": sorted(((p.id, p.name) for p in people), key=lambda c: (c[1].lower(), c[0])),
            "sources": asset_sources(user=user)}


def _submitted_filters(post) -> dict:
    return {name: post.get(name, "").strip() for name in services.FILTER_NAMES if post.get(name, "").strip()}


def _per_beat(raw: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= services.MAX_PER_BEAT:
        raise services.BriefRejected(f"Results per beat must be a whole number from 1 to {services.MAX_PER_BEAT}.")
    return int(raw)


def _list_page(request, *, new: dict, error: str = "", status: int = 200):
    page = Paginator(selectors.briefs_list(), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "briefs/list.html", {
        "page": page, "new": new, "error": error, "max_per_beat": services.MAX_PER_BEAT,
        "default_per_beat": services.DEFAULT_PER_BEAT, "max_beats": services.MAX_BEATS, **_filter_choices(request.user),
    }, status=status)


@require_http_methods(["GET", "POST"])
@page_requires("briefs.view_brief")
def brief_list(request):
    """Every brief, latest changed first; a POST makes a new one from the form and opens its board."""
    if request.method == "GET":
        return _list_page(request, new={})
    if not user_can(user=request.user, permission="briefs.add_brief"):
        raise PermissionDenied(refusal(user=request.user, permission="briefs.add_brief"))
    new = {name: request.POST.get(name, "") for name in NEW_BRIEF_FIELDS}
    try:
        brief = services.brief_create(owner=request.user, text=new["text"], title=new["title"],
                                      per_beat=_per_beat(new["per_beat"]), filters=_submitted_filters(request.POST))
    except services.BriefRejected as exc:
        return _list_page(request, new=new, error=gettext("The brief was not made. {reason}").format(reason=exc), status=400)
    except ModelUnavailable as exc:
        return _list_page(request, new=new, error=gettext("The brief was not made: search is unavailable ({reason}).").format(reason=exc), status=503)
    beats = brief.beats.count()
    messages.success(request, ngettext("“{title}”: {count} beat, searched.", "“{title}”: {count} beats, each searched.",
                                      beats).format(title=brief.title, count=beats))
    return redirect(brief.get_absolute_url())


@dataclass(frozen=True)
class Card:
    """A moment as the board shows it."""

    moment: selectors.BoardMoment
    proposed: bool
    picked: bool
    alt_text: str = ""

    @property
    def is_still(self) -> bool:
        return self.moment.asset.kind == Asset.Kind.IMAGE


@dataclass(frozen=True)
class Row:
    board_beat: selectors.BoardBeat
    cards: list[Card]
    similar_title: str = ""  # the asset whose moment the results look like ("more like this")

    @property
    def beat(self) -> Beat:
        return self.board_beat.beat

    @property
    def shared_with(self) -> str:
        """The other beats showing the same footage, numbered as on the page: "3", "2 and 4"."""
        numbers = [str(index + 1) for index in self.board_beat.shared_with]
        return " and ".join(filter(None, [", ".join(numbers[:-1]), numbers[-1]])) if numbers else ""


def _rows(board: selectors.Board) -> list[Row]:
    """Each beat's cards: its pick first when no search returned it, then its results (the proposal first)."""
    images = {m.asset.pk for bb in board.beats for m in [*bb.results, bb.pick] if m and m.asset.kind == Asset.Kind.IMAGE}
    alt_texts = image_descriptions(asset_ids=images, lang=description_language(translation.get_language())) if images else {}
    titles = {m.asset.pk: m.asset.title for bb in board.beats for m in [*bb.results, bb.pick] if m}
    rows = []
    for board_beat in board.beats:
        pick, similar_to = board_beat.pick, board_beat.beat.similar_to or {}
        moments = list(board_beat.results)
        if pick is not None and not any(pick.same_range(m) for m in moments):
            moments.insert(0, pick)
        rows.append(Row(board_beat=board_beat, cards=[
            Card(moment=m, proposed=m is board_beat.proposed, picked=m.same_range(pick),
                 alt_text=alt_texts.get(m.asset.pk, "")) for m in moments],
            similar_title=titles.get(similar_to.get("asset_id"), gettext("the moment you chose"))))
    return rows


def _filters_shown(brief: Brief, *, choices: dict, assets: dict[int, str]) -> list[tuple[str, str]]:
    """The brief's filters as (name, value) for people, in the form's order."""
    filters, shown = brief.filters, []
    if filters.get("kind"):
        shown.append((gettext("Kind"), kind_label(filters["kind"])))
    if filters.get("tag"):
        shown.append((gettext("Tag"), filters["tag"]))
    if filters.get("person") is not None:
        names = dict(choices["person_choices"])
        shown.append((gettext("Person"), names.get(filters["person"], f"person {filters['person']}")))
    if filters.get("asset") is not None:
        shown.append((gettext("Asset"), assets.get(filters["asset"], f"asset {filters['asset']} (deleted)")))
    for name, label in (("after", gettext("Uploaded after")), ("before", gettext("Uploaded before"))):
        if filters.get(name):
            shown.append((label, filters[name]))
    if filters.get("source"):
        shown.append((gettext("Source"), filters["source"]))
    if filters.get("rights"):
        shown.append((gettext("Rights"), RIGHTS_SHOWN.get(filters["rights"], filters["rights"])))
    if filters.get("embargoed") is not None:
        shown.append((gettext("Embargo"), gettext("under embargo") if filters["embargoed"] else gettext("not under embargo")))
    return shown


@require_http_methods(["GET"])
@page_requires("briefs.view_brief")
def brief_board(request, pk: int):
    brief = _get_brief_for_user(request, pk)
    board = selectors.brief_board(brief=brief, user=request.user)
    rows = _rows(board)
    # The asset filter offers the footage on the board (the assets an editor narrows a brief to).
    assets = {card.moment.asset.pk: card.moment.asset.title for row in rows for card in row.cards}
    wanted = brief.filters.get("asset")
    if wanted is not None and wanted not in assets:
        assets.update(Asset.objects.filter(pk=wanted).values_list("pk", "title"))
    choices = _filter_choices(request.user)
    export_url = reverse("api:brief-export", args=[brief.pk])
    return render(request, "briefs/board.html", {
        "brief": brief, "rows": rows, "is_owner": brief.owner_id == request.user.pk,
        "picked_count": sum(1 for row in rows if row.board_beat.pick is not None),
        "asset_choices": sorted(assets.items(), key=lambda item: (item[1].lower(), item[0])),
        "filters_shown": _filters_shown(brief, choices=choices, assets=assets),
        "exports": [(label, f"{export_url}?format={fmt}") for fmt, label in EXPORT_LABELS.items()
                    if fmt in exports.EXPORT_FORMATS],
        "max_per_beat": services.MAX_PER_BEAT, **choices,
    })


def _board(brief_or_beat, *, anchor: str = ""):
    brief_id = brief_or_beat.brief_id if isinstance(brief_or_beat, Beat) else brief_or_beat.pk
    return redirect(reverse("briefs:board", args=[brief_id]) + (f"#{anchor}" if anchor else ""))


def _attempt(request, refused: str, call) -> bool:
    """Run a service call; a refusal or an unavailable model becomes an error message on the board."""
    try:
        call()
    except services.BriefRejected as exc:
        messages.error(request, f"{refused} {exc}")
    except ModelUnavailable as exc:
        messages.error(request, gettext("{refused} Search is unavailable right now ({reason}).").format(refused=refused, reason=exc))
    else:
        return True
    return False


def _number(post, name: str, kind=float):
    """A number from the form, or None when missing, malformed or not finite."""
    try:
        value = kind(post.get(name, ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@require_POST
@page_requires("briefs.add_brief")
def brief_rename(request, pk: int):
    brief = _get_brief_for_user(request, pk, change=True)
    title = request.POST.get("title", "")
    if not title.strip():
        messages.error(request, gettext("The title was not changed: type the new title."))
    elif _attempt(request, gettext("The title was not changed."),
                  lambda: services.brief_update(brief=brief, user=request.user, title=title)):
        messages.success(request, gettext("Renamed “{title}”.").format(title=brief.title))
    return _board(brief)


@require_POST
@page_requires("briefs.add_brief")
def brief_filter(request, pk: int):
    """New filters (and results per beat) for the whole brief: every beat is searched again."""
    brief = _get_brief_for_user(request, pk, change=True)
    if _attempt(request, gettext("The filters were not changed."), lambda: services.brief_update(
            brief=brief, user=request.user, filters=_submitted_filters(request.POST),
            per_beat=_per_beat(request.POST.get("per_beat", "")))):
        messages.success(request, gettext("Filters saved; every beat was searched again."))
    return _board(brief)


@require_POST
@page_requires("briefs.add_brief")
def brief_delete(request, pk: int):
    brief = _get_brief_for_user(request, pk, change=True)
    title = brief.title
    services.brief_delete(brief=brief)
    messages.success(request, gettext("Deleted the brief “{title}”.").format(title=title))
    return redirect("briefs:list")


@require_POST
@page_requires("briefs.add_brief")
def beat_edit(request, pk: int, index: int):
    """The beat's new text, searched again."""
    beat = _get_beat_for_user(request, pk, index)
    if _attempt(request, gettext("Beat {number} was not changed.").format(number=index + 1),
                lambda: services.beat_text_edit(beat=beat, user=request.user, text=request.POST.get("text", ""))):
        messages.success(request, gettext("Beat {number} was searched again.").format(number=index + 1))
    return _board(beat, anchor=f"beat-{index}")


@require_POST
@page_requires("briefs.add_brief")
def beat_pick(request, pk: int, index: int):
    beat = _get_beat_for_user(request, pk, index)
    asset_id, start, end = (_number(request.POST, "asset_id", int), _number(request.POST, "start"),
                            _number(request.POST, "end"))
    if None in (asset_id, start, end):
        messages.error(request, gettext("Nothing was picked for beat {number}: choose one of its moments.").format(
            number=index + 1))
    elif _attempt(request, gettext("Nothing was picked for beat {number}.").format(number=index + 1), lambda: services.beat_pick(
            beat=beat, user=request.user, asset_id=asset_id, start=start, end=end)):
        messages.success(request, gettext("Beat {number}: picked “{title}”.").format(number=index + 1,
                                                                                    title=beat.pick_asset.title))
    return _board(beat, anchor=f"beat-{index}")


@require_POST
@page_requires("briefs.add_brief")
def beat_unpick(request, pk: int, index: int):
    beat = services.beat_unpick(beat=_get_beat_for_user(request, pk, index))
    messages.success(request, gettext("Beat {number}: the pick was taken back; the board proposes again.").format(
        number=index + 1))
    return _board(beat, anchor=f"beat-{index}")


@require_POST
@page_requires("briefs.add_brief")
def beat_similar(request, pk: int, index: int):
    """The beat's results replaced by moments that look like one second of an asset ("more like this")."""
    beat = _get_beat_for_user(request, pk, index)
    asset_id, time = _number(request.POST, "asset_id", int), _number(request.POST, "time")
    if None in (asset_id, time):
        messages.error(request, gettext("Beat {number} was not searched again: choose a moment to look like.").format(
            number=index + 1))
    elif _attempt(request, gettext("Beat {number} was not searched again.").format(number=index + 1), lambda: services.beat_search_similar(
            beat=beat, user=request.user, asset_id=asset_id, time=time)):
        messages.success(request, gettext("Beat {number} shows moments that look like the one you chose.").format(
            number=index + 1))
    return _board(beat, anchor=f"beat-{index}")
