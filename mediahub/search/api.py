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
from mediahub.core.schema import MODEL_UNAVAILABLE, error_response
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


class PersonOnScreenSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The person's id (GET /api/people/{id}).")
    name = serializers.CharField(help_text="Their name; empty while nobody has named them.")

    class Meta:
        ref_name = "PersonOnScreen"


class MomentExplainSerializer(serializers.Serializer):
    visual = serializers.FloatField(help_text="How well the pictures match the query (the model's similarity).")
    text_match = serializers.FloatField(help_text="How well the asset's title and description match, 0 to 1.")
    text_bonus = serializers.FloatField(help_text="What the text match added to the score.")
    tag_match = serializers.FloatField(help_text="How well the moment's tags match the query, 0 to 1.")
    tag_bonus = serializers.FloatField(help_text="What the tags added to the score.")
    description_match = serializers.FloatField(help_text="How well the shot's description matches, 0 to 1.")
    description_bonus = serializers.FloatField(help_text="What the description added to the score.")
    described_by_editor = serializers.BooleanField(help_text="The matching description was written by an editor.")
    feedback = serializers.FloatField(help_text="What earlier feedback added (negative: took away).")
    total = serializers.FloatField(help_text="The score.")

    class Meta:
        ref_name = "MomentExplain"


class MomentFieldsSerializer(serializers.Serializer):
    """What every moment says, in search answers and in briefs' beats."""

    asset_id = serializers.IntegerField(help_text="The asset it is in.")
    title = serializers.CharField(help_text="The asset's title.")
    kind = serializers.ChoiceField(Asset.Kind.choices, help_text="The asset's kind.")
    start = serializers.FloatField(help_text="Seconds from the first frame where the moment begins.")
    end = serializers.FloatField(help_text="Seconds where it ends (start = end = 0 for an image).")
    score = serializers.FloatField(help_text="Relevance; higher is better, comparable within one search.")
    thumbnail = serializers.URLField(help_text="The frame that shows it best.")
    media = serializers.URLField(help_text="The playable file.")
    url = serializers.URLField(help_text="The asset's page, starting at the moment.")
    usage_warning = serializers.CharField(allow_null=True, help_text=(
        "What to know before using the footage (embargo, do not use, restricted), in a sentence; null if nothing."))


class MomentSerializer(MomentFieldsSerializer):
    """A moment: the contiguous seconds of one asset that match the query; an image is one from 0 to 0."""

    best = serializers.FloatField(help_text="The second that matches best (the thumbnail's).")
    feedback = serializers.ChoiceField(["lifted", "lowered"], allow_null=True,
                                       help_text="Whether feedback moved this moment; null if not.")
    people = PersonOnScreenSerializer(many=True, help_text="Known people on screen during the moment.")
    explain = MomentExplainSerializer(required=False, help_text="The score's parts (only with explain=true).")

    class Meta:
        ref_name = "Moment"


class SearchPersonExplainSerializer(serializers.Serializer):
    person = inline_serializer("NamedPerson", {
        "id": serializers.IntegerField(help_text="The person's id."),
        "name": serializers.CharField(help_text="Their name."),
        "matched": serializers.CharField(help_text="The query's words that named them, as typed.")},
        help_text="The person the query named.")
    narrowed_to_person = serializers.BooleanField(help_text="The results are only that person's appearances.")
    ranked_by = serializers.CharField(help_text="The rest of the query, which ranks them (empty: longest first).")
    note = serializers.CharField(help_text="The same in a sentence.")

    class Meta:
        ref_name = "SearchPersonExplain"


class SearchResultSerializer(serializers.Serializer):
    search_id = serializers.CharField(help_text="This search's id, for POST /api/feedback.")
    query = serializers.CharField(help_text="The query as searched (empty for an image or a second as example).")
    results = MomentSerializer(many=True, help_text="The moments, best first.")
    weak = serializers.BooleanField(help_text="True when no result clears the relevance floor: nothing matches "
                                              "well and the results are only the closest.")
    calibration = serializers.ChoiceField(["measured", "default"], help_text=(
        "Whether the relevance floor was measured on this library (manage.py calibrate) or is the model's default."))
    notice = serializers.CharField(allow_null=True, help_text="A sentence to show above the results, if any.")
    refined = serializers.BooleanField(help_text="Feedback earlier in the session moved the query.")
    feedback_applied = serializers.BooleanField(help_text="Feedback on earlier searches changed this ranking.")
    explain = SearchPersonExplainSerializer(required=False, help_text=(
        "With explain=true, when the query named a known person: how the results were narrowed."))

    class Meta:
        ref_name = "SearchResult"


SEARCH_RESPONSES = {200: SearchResultSerializer, 503: MODEL_UNAVAILABLE}
FILTERS = [
    OpenApiParameter("limit", int, description="At most this many moments (default 20, at most 100)."),
    OpenApiParameter("kind", str, enum=Asset.Kind.values, description="Only videos, or only images."),
    OpenApiParameter("tag", str, description="Only moments tagged with this label (English or Chinese name)."),
    OpenApiParameter("person", int, description="Only moments where this person (an id) is on screen."),
    OpenApiParameter("asset", int, description="Only moments of this asset (an id)."),
    OpenApiParameter("after", dt.date, description="Only assets uploaded on or after this date (YYYY-MM-DD)."),
    OpenApiParameter("before", dt.date, description="Only assets uploaded on or before this date (YYYY-MM-DD)."),
    OpenApiParameter("source", str, description="Only footage from this source (exact, any case), such as Reuters."),
    OpenApiParameter("rights", str, enum=list(RIGHTS_FILTER_VALUES),
                     description="Only footage with this rights status, or unset for footage nobody has checked."),
    OpenApiParameter("embargoed", bool, description="true: only footage under embargo now; false: only footage free "
                                                     "of any embargo now."),
    OpenApiParameter("explain", bool, description="Add each result's score parts."),
    OpenApiParameter("session", str, description=("A key of your own grouping your searches: feedback in one "
                                                  "session refines its later searches (browsers use their login)."))]


class SearchApi(SearchApiView):
    throttle_classes = [UserScopedRateThrottle]
    throttle_scope = "search"
    @extend_schema(summary="Find moments matching a sentence (English or Chinese)",
                   parameters=[OpenApiParameter("q", str, required=True, description=(
                       "What to find, in English or Chinese; may name a known person.")), *FILTERS],
                   responses=SEARCH_RESPONSES)
    def get(self, request):
        form = _valid(TextSearchForm(request.query_params))
        query = form.cleaned_data["q"]
        return run_search(request, form=form, query=query)


class ImageSearchApi(SearchApiView):
    throttle_classes = [UserScopedRateThrottle]
    throttle_scope = "search"
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Find moments that look like an uploaded image", parameters=FILTERS,
                   request=inline_serializer("ImageQuery", {"file": serializers.ImageField(help_text=(
                       "The example image; the filters may also be sent as form fields."))}),
                   responses=SEARCH_RESPONSES)
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
                   parameters=[OpenApiParameter("t", float, description="Seconds into the asset (default 0)."), *FILTERS],
                   responses=SEARCH_RESPONSES)
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
    search_id = serializers.UUIDField(help_text="The search_id the search answered.")
    asset_id = serializers.IntegerField(help_text="The moment's asset.")
    start = serializers.FloatField(help_text="The moment's start, as the search returned it.")
    end = serializers.FloatField(help_text="The moment's end, as the search returned it.")
    action = serializers.ChoiceField(choices=Feedback.Action.values, help_text=(
        "click (opened it), relevant or irrelevant (a judgement, which counts more)."))


class FeedbackApi(SearchApiView):
    required_permissions = {"GET": "search.add_feedback", "POST": "search.add_feedback"}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(summary="Record a click or a relevance judgement on a search result", request=FeedbackSerializer,
                   responses={201: inline_serializer("FeedbackOk", {"ok": serializers.BooleanField(help_text="Always true.")}),
                              404: error_response("There is no search with that search_id.")})
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
