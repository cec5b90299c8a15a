"""JSON API for search and feedback (CONTRACT.md sections 3 and 4)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from PIL import Image, ImageOps, UnidentifiedImageError
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from mediahub.assets.models import Asset
from mediahub.assets.selectors import RIGHTS_FILTER_VALUES, asset_list
from mediahub.core import roles
from mediahub.core.throttling import UserScopedRateThrottle
from mediahub.search import selectors, services
from mediahub.search.forms import SearchFiltersForm, TextSearchForm
from mediahub.search.models import Feedback, Search
from workers.ml.clip import ModelUnavailable

class SearchApiView(APIView):
    """Base of every search endpoint, holding their one access check: every role searches and gives feedback."""

    permission_classes = [roles.RolePermission]
    required_permissions = {"GET": "search.add_search", "POST": "search.add_search"}


class SearchUnavailable(APIException):
    status_code = 503
    default_detail = "Search is unavailable right now."


def _valid(form):
    if not form.is_valid():
        raise ValidationError({"detail": form.first_error()})
    return form


def moment_json(request, card: selectors.MomentCard, *, explain: bool) -> dict:
    moment, asset = card.moment, card.asset
    body = {
        "asset_id": moment.asset_id, "title": asset.title, "kind": asset.kind,
        "start": moment.start, "end": moment.end, "score": round(moment.score, 4),
        "best": moment.best_time,
        "thumbnail": request.build_absolute_uri(reverse("assets:frame", args=[asset.pk, card.frame_index])),
        "media": request.build_absolute_uri(asset.media_url),
        "url": request.build_absolute_uri(f"{asset.get_absolute_url()}?t={moment.start:g}"),
        "feedback": "lifted" if moment.feedback > 0 else "lowered" if moment.feedback < 0 else None,
        "people": [{"id": person_id, "name": name} for person_id, name in card.people],
        "usage_warning": card.usage_warning,
    }
    if explain:
        body["explain"] = {
            "visual": round(moment.visual, 4), "text_match": round(moment.text, 4),
            "text_bonus": round(moment.parts["text_bonus"], 4), "tag_match": round(moment.tag, 4),
            "tag_bonus": round(moment.parts["tag_bonus"], 4),
            "description_match": round(moment.description, 4),
            "description_bonus": round(moment.parts.get("description_bonus", 0.0), 4),
            "described_by_editor": moment.described, "feedback": round(moment.feedback, 4),
            "total": round(moment.score, 4),
        }
    return body


def outcome_json(request, outcome: services.SearchOutcome, *, explain: bool) -> dict:
    cards = selectors.moment_cards(outcome.moments, assets=outcome.assets)
    body = {
        "search_id": str(outcome.search.pk),
        "query": outcome.search.query,
        "results": [moment_json(request, card, explain=explain) for card in cards],
        "weak": outcome.weak,
        "calibration": outcome.calibration,
        "notice": services.WEAK_NOTICE if outcome.weak and outcome.moments else None if outcome.moments else "Nothing matched.",
        "refined": outcome.refined,
        "feedback_applied": outcome.lifted,
    }
    if explain and outcome.person is not None:
        named = outcome.person
        body["explain"] = {"person": {"id": named.person.id, "name": named.person.name, "matched": named.matched},
                           "narrowed_to_person": True, "ranked_by": named.rest, "note": named.explain()}
    return body


def _session_key(request, params) -> str:
    """Browser searches group by login session; API clients may pass session=<a key of their own>."""
    if params.get("session"):
        return str(params["session"])[:64]
    session = getattr(request, "session", None)
    return (session.session_key or "") if session is not None else ""


def _image_from_upload(upload) -> Image.Image:
    try:
        with Image.open(upload) as image:
            image.draft("RGB", (448, 448))
            return ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError({"detail": "The example is not an image mediahub can read (JPEG, PNG, WebP, GIF, TIFF)."}) from exc


def run_search(request, *, form, vector_for=None, kind: str = Search.Kind.TEXT, query: str) -> Response:
    """Shared by text, image and more-like-this searches: encode, search, answer.
    Without `vector_for` the query is text (which may name a person)."""
    arguments = dict(user=request.user, query=query, filters=form.filters(), limit=form.result_limit,
                     session_key=_session_key(request, form.data))
    try:
        if vector_for is None:
            outcome = services.text_search(**arguments)
        else:
            outcome = services.search_with_active_model(vector_for=vector_for, kind=kind, **arguments)
    except ModelUnavailable as exc:
        raise SearchUnavailable(f"Search is unavailable: {exc}") from exc
    if outcome is None:
        raise NotFound("There is nothing to search with; wait until the asset is ready.")
    body = outcome_json(request, outcome, explain=form.cleaned_data["explain"])
    if not outcome.indexed:
        body["notice"] = services.NOT_INDEXED_NOTICE.format(model=selectors.active_clip_spec().key)
    return Response(body)


MOMENT = inline_serializer("Moment", {
    "asset_id": serializers.IntegerField(), "title": serializers.CharField(), "start": serializers.FloatField(),
    "end": serializers.FloatField(), "score": serializers.FloatField(), "thumbnail": serializers.URLField(),
    "usage_warning": serializers.CharField(
        allow_null=True, help_text="What to know before using the footage (embargo, do not use, restricted), or null."),
    "people": inline_serializer("PersonOnScreen", {"id": serializers.IntegerField(), "name": serializers.CharField()},
                                many=True)})
SEARCH_RESULT = inline_serializer("SearchResult", {
    "search_id": serializers.CharField(), "query": serializers.CharField(), "results": MOMENT.__class__(many=True),
    "weak": serializers.BooleanField(), "notice": serializers.CharField(allow_null=True),
    "calibration": serializers.ChoiceField(choices=["measured", "default"])})
FILTERS = [OpenApiParameter("limit", int), OpenApiParameter("kind", str, enum=Asset.Kind.values),
           OpenApiParameter("tag", str), OpenApiParameter("person", int), OpenApiParameter("asset", int),
           OpenApiParameter("after", dt.date), OpenApiParameter("before", dt.date),
           OpenApiParameter("source", str, description="who supplied the footage (exact, any case)"),
           OpenApiParameter("rights", str, enum=list(RIGHTS_FILTER_VALUES),
                            description="the rights status, or unset for footage nobody has checked"),
           OpenApiParameter("embargoed", bool, description="true: under embargo now; false: free of any embargo now"),
           OpenApiParameter("explain", bool, description="add each result's score parts")]


class SearchApi(SearchApiView):
    throttle_classes = [UserScopedRateThrottle]
    throttle_scope = "search"
    @extend_schema(summary="Find moments matching a sentence (English or Chinese)",
                   parameters=[OpenApiParameter("q", str, required=True), *FILTERS], responses=SEARCH_RESULT)
    def get(self, request):
        form = _valid(TextSearchForm(request.query_params))
        query = form.cleaned_data["q"]
        return run_search(request, form=form, query=query)


class ImageSearchApi(SearchApiView):
    throttle_classes = [UserScopedRateThrottle]
    throttle_scope = "search"
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Find moments that look like an uploaded image", parameters=FILTERS,
                   request=inline_serializer("ImageQuery", {"file": serializers.ImageField()}), responses=SEARCH_RESULT)
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"detail": "Attach the example image as the multipart field 'file'."})
        image = _image_from_upload(upload)
        params = request.query_params.copy()
        params.update({key: value for key, value in request.data.items() if key != "file"})
        form = _valid(SearchFiltersForm(params))
        return run_search(request, form=form, vector_for=lambda spec: selectors.image_query_vector(spec=spec, image=image),
                          kind=Search.Kind.IMAGE, query="")


class MoreLikeThisApi(SearchApiView):
    throttle_classes = [UserScopedRateThrottle]
    throttle_scope = "search"
    @extend_schema(summary="Find moments that look like one second of an asset",
                   parameters=[OpenApiParameter("t", float, description="seconds into the asset"), *FILTERS],
                   responses=SEARCH_RESULT)
    def get(self, request, pk: int):
        form = _valid(SearchFiltersForm(request.query_params))
        try:
            time = float(request.query_params.get("t", 0))
        except ValueError:
            raise ValidationError({"detail": "t must be a number of seconds."}) from None
        if not asset_list(user=request.user).filter(pk=pk).exists():
            raise NotFound(f"There is no asset {pk}; it may have been deleted.")

        def vector_for(spec):
            vector = selectors.second_vector(spec=spec, asset_id=pk, time=time)
            if vector is None:
                raise NotFound(f"Asset {pk} has no indexed frame near {time:g} s yet; wait until it is ready.")
            return vector

        return run_search(request, form=form, vector_for=vector_for, kind=Search.Kind.MOMENT, query="")


class FeedbackSerializer(serializers.Serializer):
    search_id = serializers.UUIDField()
    asset_id = serializers.IntegerField()
    start = serializers.FloatField()
    end = serializers.FloatField()
    action = serializers.ChoiceField(choices=Feedback.Action.values)


class FeedbackApi(SearchApiView):
    required_permissions = {"GET": "search.add_feedback", "POST": "search.add_feedback"}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(summary="Record a click or a relevance judgement on a search result", request=FeedbackSerializer,
                   responses={201: inline_serializer("FeedbackOk", {"ok": serializers.BooleanField()})})
    def post(self, request):
        data = FeedbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        search = Search.objects.filter(pk=values["search_id"]).first()
        if search is None:
            raise NotFound("There is no such search; send the search_id a search returned.")
        try:
            services.feedback_record(user=request.user, search=search, asset_id=values["asset_id"],
                                     start=values["start"], end=values["end"], action=values["action"])
        except services.FeedbackRejected as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response({"ok": True}, status=status.HTTP_201_CREATED)
