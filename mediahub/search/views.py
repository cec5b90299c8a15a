"""The search page: moments as cards, playable inline, with feedback buttons."""

from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from mediahub.assets.models import Asset
from mediahub.assets.selectors import asset_list, asset_sources
from mediahub.core.roles import page_requires
from mediahub.people.selectors import search_named_people
from mediahub.search import selectors, services
from mediahub.search.forms import MAX_LIMIT, SearchFiltersForm, TextSearchForm
from workers.ml.clip import ModelUnavailable

PAGE_SIZE = 20


@require_GET
@page_requires("search.add_search")  # every role searches
def search_page(request):
    """A text search (?q=) or a "more like this" search (?similar=<asset id>&t=<seconds>)."""
    context = {"tags": selectors.tag_labels_active().order_by("group", "name"), "kinds": Asset.Kind.values,
               "named_people": search_named_people(user=request.user), "sources": asset_sources(user=request.user), "chosen": request.GET}  # read once: the person filter's choices, and names in queries
    context["person_choices"] = sorted(((p.id, p.name) for p in context["named_people"]), key=lambda c: (c[1].lower(), c[0]))
    similar = _similar_target(request)
    if not request.GET.get("q") and similar is None:
        return render(request, "search/results.html", {**context, "form": TextSearchForm()})
    form = SearchFiltersForm(request.GET) if similar else TextSearchForm(request.GET)
    context.update(form=form, similar_to=similar and similar[0], similar_time=similar and similar[1])
    if not form.is_valid():
        return render(request, "search/results.html", {**context, "error": form.first_error()}, status=400)
    if not request.session.session_key:
        request.session.save()
    page = _page_number(request)
    try:
        outcome = _run(request, form, similar, limit=min(page * PAGE_SIZE, MAX_LIMIT), people=context["named_people"])
    except ModelUnavailable as exc:
        return render(request, "search/results.html", {**context, "error": gettext("Search is unavailable: {reason}").format(reason=exc)}, status=503)
    if outcome is None or not outcome.indexed:
        return render(request, "search/results.html", {**context, "notice": gettext(services.NOT_INDEXED_NOTICE).format(
            model=selectors.active_clip_spec().key)})
    moments = outcome.moments[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return render(request, "search/results.html", {
        **context, "outcome": outcome, "cards": selectors.moment_cards(moments, assets=outcome.assets), "page": page,
        "weak_notice": gettext(services.WEAK_NOTICE),
        "has_next": len(outcome.moments) == page * PAGE_SIZE and page * PAGE_SIZE < MAX_LIMIT,
        "first_rank": (page - 1) * PAGE_SIZE + 1, "query_string": _without_page(request),
    })


def _similar_target(request) -> tuple[Asset, float] | None:
    raw_asset, raw_time = request.GET.get("similar", ""), request.GET.get("t", "0")
    if not raw_asset.isdigit():
        return None
    asset = asset_list(user=request.user).filter(pk=int(raw_asset)).first()
    try:
        return (asset, float(raw_time)) if asset else None
    except ValueError:
        return asset, 0.0


def _run(request, form, similar, *, limit: int, people):
    if similar:
        asset, time = similar
        return services.search_with_active_model(
            user=request.user, vector_for=lambda spec: selectors.second_vector(spec=spec, asset_id=asset.pk, time=time),
            kind="moment", query="", filters=form.filters(), limit=limit, session_key=request.session.session_key)
    return services.text_search(user=request.user, query=form.cleaned_data["q"], filters=form.filters(), limit=limit,
                                session_key=request.session.session_key, people=people)


def _page_number(request) -> int:
    raw = request.GET.get("page", "1")
    return max(1, min(int(raw), MAX_LIMIT // PAGE_SIZE)) if raw.isdigit() else 1


def _without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
