"""JSON API for briefs (CONTRACT.md sections 3 and 8). Anyone may make a brief and open any brief;
only its owner changes, picks in, renames or deletes it."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from mediahub.assets.filters import AssetPagination
from mediahub.assets.models import Asset
from mediahub.assets.selectors import RIGHTS_FILTER_VALUES
from mediahub.briefs import exports, selectors, services
from mediahub.briefs.models import Beat, Brief
from mediahub.core import roles
from mediahub.core.schema import MODEL_UNAVAILABLE
from mediahub.search.api import MomentFieldsSerializer
from mediahub.core.throttling import UserScopedRateThrottle
from workers.ml.clip import ModelUnavailable


class BriefApi(APIView):
    """Base of every brief endpoint, holding their one role check; owner checks are in _brief_for_user."""

    permission_classes = [roles.RolePermission]
    required_permissions = {"GET": "briefs.view_brief", "POST": "briefs.add_brief", "PATCH": "briefs.add_brief",
                            "DELETE": "briefs.add_brief"}
    parser_classes = [JSONParser]
    throttle_scopes: dict[str, str] = {}  # method -> throttle scope, for the methods that search

    def get_throttles(self):
        self.throttle_scope = self.throttle_scopes.get(self.request.method)  # DRF's scoped throttle reads it here
        return [UserScopedRateThrottle()] if self.throttle_scope else []


class SearchUnavailable(APIException):
    status_code = 503
    default_detail = "Search is unavailable right now."


def _brief_for_user(request, pk: int, *, change: bool = False) -> Brief:
    brief = Brief.objects.select_related("owner").filter(pk=pk).first()
    if brief is None:
        raise NotFound(f"There is no brief {pk}; it may have been deleted.")
    if change and brief.owner_id != request.user.pk:
        owner = brief.owner.username if brief.owner else "its former owner"
        raise PermissionDenied(f"Only the brief's owner ({owner}) can change or delete it; open it, or make your own.")
    return brief


def _beat_for_user(request, pk: int, index: int) -> Beat:
    brief = _brief_for_user(request, pk, change=True)
    beat = selectors.beat_get(brief=brief, index=index)
    if beat is None:
        raise NotFound(f"Brief {pk} has no beat {index}; beats are numbered from 0.")
    return beat


def _object(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError({"detail": "Send a JSON object."})
    return data


def _rejected(call):
    """Run a service call, turning its refusals into 400s and an unloadable model into a 503."""
    try:
        return call()
    except services.BriefRejected as exc:
        raise ValidationError({"detail": str(exc)}) from exc
    except ModelUnavailable as exc:
        raise SearchUnavailable(f"Search is unavailable: {exc}") from exc


def moment_json(request, moment: selectors.BoardMoment | None) -> dict | None:
    if moment is None:
        return None
    asset = moment.asset
    return {
        "asset_id": asset.pk, "title": asset.title, "kind": asset.kind, "start": moment.start, "end": moment.end,
        "score": moment.score, "thumbnail": request.build_absolute_uri(exports.frame_url(asset, moment.frame_index)),
        "media": request.build_absolute_uri(asset.media_url),
        "url": request.build_absolute_uri(f"{asset.get_absolute_url()}?t={moment.start:g}"),
        "usage_warning": moment.usage_warning,
    }


def beat_json(request, board_beat: selectors.BoardBeat) -> dict:
    beat = board_beat.beat
    return {
        "index": beat.index, "text": beat.text,
        "results": [moment_json(request, moment) for moment in board_beat.results],
        "pick": moment_json(request, board_beat.pick),
        "choice": moment_json(request, board_beat.choice),
        "weak": board_beat.weak, "shared_with": list(board_beat.shared_with),
        "search_id": str(beat.search_id) if beat.search_id else None, "similar_to": beat.similar_to,
    }


def brief_summary_json(request, brief: Brief) -> dict:
    body = {"id": brief.pk, "title": brief.title, "owner": brief.owner.username if brief.owner else None,
            "created_at": brief.created_at, "updated_at": brief.updated_at,
            "url": request.build_absolute_uri(brief.get_absolute_url())}
    for name in ("beat_count", "picked_count"):
        if hasattr(brief, name):
            body[name] = getattr(brief, name)
    return body


def brief_json(request, brief: Brief) -> dict:
    board = selectors.brief_board(brief=brief, user=request.user)
    return {**brief_summary_json(request, brief), "per_beat": brief.per_beat, "filters": brief.filters,
            "exports": {fmt: request.build_absolute_uri(reverse("api:brief-export", args=[brief.pk]) + f"?format={fmt}")
                        for fmt in exports.EXPORT_FORMATS},
            "beats": [beat_json(request, beat) for beat in board.beats]}


def _beat_answer(request, beat: Beat) -> Response:
    board = selectors.brief_board(brief=beat.brief, user=request.user)
    return Response(beat_json(request, board.beats[beat.index]))


class BriefFiltersSerializer(serializers.Serializer):
    """The search filters every beat is searched with, as GET /api/search takes them."""

    kind = serializers.ChoiceField(Asset.Kind.choices, required=False, help_text="Only videos, or only images.")
    tag = serializers.CharField(required=False, help_text="Only moments with this tag.")
    person = serializers.IntegerField(required=False, help_text="Only moments where this person is on screen.")
    asset = serializers.IntegerField(required=False, help_text="Only moments of this asset.")
    after = serializers.DateField(required=False, help_text="Only assets uploaded on or after this date.")
    before = serializers.DateField(required=False, help_text="Only assets uploaded on or before this date.")
    source = serializers.CharField(required=False, help_text="Only footage from this source (exact, any case).")
    rights = serializers.ChoiceField(RIGHTS_FILTER_VALUES, required=False, help_text=(
        "Only footage with this rights status, or unset for footage nobody has checked."))
    embargoed = serializers.BooleanField(required=False, help_text=(
        "true: only footage under embargo at the search; false: only footage free of any embargo."))

    class Meta:
        ref_name = "BriefFilters"


class BriefMomentSerializer(MomentFieldsSerializer):
    """One of a beat's moments, or its pick."""

    score = serializers.FloatField(allow_null=True, help_text="Its relevance to the beat; null for a range the "
                                                              "editor picked that no search returned.")

    class Meta:
        ref_name = "BriefMoment"


class BeatSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The beat's position in the brief, from 0.")
    text = serializers.CharField(help_text="What the beat says (searched like GET /api/search).")
    results = BriefMomentSerializer(many=True, help_text="Its moments: the board's proposal first, then best first.")
    pick = BriefMomentSerializer(allow_null=True, help_text="The moment the editor picked; null if none yet.")
    choice = BriefMomentSerializer(allow_null=True, help_text=(
        "What the timeline gets: the pick, else the board's proposal; null with no results."))
    weak = serializers.BooleanField(help_text="Nothing matches the beat well.")
    shared_with = serializers.ListField(child=serializers.IntegerField(), help_text=(
        "Other beats (indexes) whose choice shows the same footage."))
    search_id = serializers.CharField(allow_null=True, help_text=(
        "The beat's search, for POST /api/feedback; null for results of a more-like-this."))
    similar_to = inline_serializer("BeatSimilarTo", {
        "asset_id": serializers.IntegerField(help_text="The asset of the example second."),
        "time": serializers.FloatField(help_text="The example second.")},
        allow_null=True, help_text="When the results are moments like one second of an asset: which; else null.")

    class Meta:
        ref_name = "BriefBeat"


class BriefSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The brief's id.")
    title = serializers.CharField(help_text="Its title.")
    owner = serializers.CharField(allow_null=True, help_text="Who made it (the only one who may change it); "
                                                             "null if their account was deleted.")
    created_at = serializers.DateTimeField(help_text="When it was made.")
    updated_at = serializers.DateTimeField(help_text="When it last changed.")
    url = serializers.URLField(help_text="Its board page.")


class BriefListItemSerializer(BriefSummarySerializer):
    beat_count = serializers.IntegerField(help_text="Its beats.")
    picked_count = serializers.IntegerField(help_text="Its beats with a pick.")

    class Meta:
        ref_name = "BriefListItem"


class BriefSerializer(BriefSummarySerializer):
    per_beat = serializers.IntegerField(help_text="Moments searched per beat.")
    filters = BriefFiltersSerializer(help_text="The filters every beat is searched with.")
    exports = serializers.DictField(child=serializers.URLField(), help_text=(
        "The timeline in each export format (edl, fcpxml, otio, csv): its address."))
    beats = BeatSerializer(many=True, help_text="In order.")

    class Meta:
        ref_name = "Brief"


BRIEF_PAGE = inline_serializer("PaginatedBriefList", {
    "count": serializers.IntegerField(help_text="Briefs in all pages."),
    "page": serializers.IntegerField(help_text="This page's number, from 1."),
    "page_size": serializers.IntegerField(help_text="Briefs per page."),
    "results": BriefListItemSerializer(many=True, help_text="Latest changed first.")})
NEW_BRIEF = inline_serializer("NewBrief", {
    "text": serializers.CharField(help_text="The brief or script: a beat per line (a line of several sentences "
                                            "may become several beats), English or Chinese."),
    "title": serializers.CharField(required=False, help_text="Default: the first beat."),
    "per_beat": serializers.IntegerField(required=False, min_value=1, max_value=services.MAX_PER_BEAT,
                                         help_text="Moments per beat (default 5)."),
    "filters": BriefFiltersSerializer(required=False, help_text="Filters for every beat's search.")})
SEARCHING = {503: MODEL_UNAVAILABLE}


class BriefListApi(BriefApi, GenericAPIView):
    pagination_class = AssetPagination
    throttle_scopes = {"POST": "brief"}

    @extend_schema(summary="List briefs, latest changed first",
                   parameters=[OpenApiParameter("page", int, description="The page, from 1 (50 briefs a page).")],
                   responses=BRIEF_PAGE, operation_id="briefs_list")
    def get(self, request):
        page = self.paginate_queryset(selectors.briefs_list())
        return self.get_paginated_response([brief_summary_json(request, brief) for brief in page])

    @extend_schema(summary="Make a brief: every line (and sentence) a beat, each searched", request=NEW_BRIEF,
                   responses={201: BriefSerializer, **SEARCHING})
    def post(self, request):
        data = _object(request.data)
        brief = _rejected(lambda: services.brief_create(
            owner=request.user, text=data.get("text"), title=data.get("title", ""), per_beat=data.get("per_beat"),
            filters=_object(data.get("filters") or {})))
        return Response(brief_json(request, brief), status=status.HTTP_201_CREATED)


class BriefDetailApi(BriefApi):
    throttle_scopes = {"PATCH": "brief"}  # new filters search every beat again
    @extend_schema(summary="A brief with every beat's moments and picks", responses=BriefSerializer)
    def get(self, request, pk: int):
        return Response(brief_json(request, _brief_for_user(request, pk)))

    @extend_schema(summary="Rename a brief, or change its filters or results per beat (its owner)",
                   request=inline_serializer("BriefChange", {
                       "title": serializers.CharField(required=False, help_text="The new title."),
                       "filters": BriefFiltersSerializer(required=False, help_text="Every beat is searched again."),
                       "per_beat": serializers.IntegerField(required=False, help_text="Every beat is searched again.")}),
                   responses={200: BriefSerializer, **SEARCHING})
    def patch(self, request, pk: int):
        brief = _brief_for_user(request, pk, change=True)
        data = _object(request.data)
        unknown = sorted(set(data) - {"title", "filters", "per_beat"})
        if unknown:
            raise ValidationError({"detail": f"{', '.join(unknown)}: cannot be changed; send title, filters or per_beat."})
        filters = data.get("filters")
        brief = _rejected(lambda: services.brief_update(
            brief=brief, user=request.user, title=data.get("title"), per_beat=data.get("per_beat"),
            filters=None if filters is None else _object(filters)))
        return Response(brief_json(request, brief))

    @extend_schema(summary="Delete a brief (its owner)", responses={204: None})
    def delete(self, request, pk: int):
        services.brief_delete(brief=_brief_for_user(request, pk, change=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BeatApi(BriefApi):
    throttle_scopes = {"PATCH": "search"}
    @extend_schema(summary="Change a beat's text and search it again (the brief's owner)",
                   request=inline_serializer("BeatChange", {"text": serializers.CharField(help_text="The beat's new text.")}),
                   responses={200: BeatSerializer, **SEARCHING})
    def patch(self, request, pk: int, index: int):
        beat = _beat_for_user(request, pk, index)
        data = _object(request.data)
        if "text" not in data:
            raise ValidationError({"detail": "Send the beat's new text as {\"text\": \"...\"}."})
        beat = _rejected(lambda: services.beat_text_edit(beat=beat, user=request.user, text=data["text"]))
        return _beat_answer(request, beat)


def _number(data: dict, name: str, kind=float):
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not float(value).is_integer()):
        raise ValidationError({"detail": f"{name} must be a number."})
    return kind(value)


class BeatPickApi(BriefApi):
    @extend_schema(summary="Pick the beat's moment (counts as relevant feedback for the beat's text)",
                   request=inline_serializer("BeatPick", {
                       "asset_id": serializers.IntegerField(help_text="The asset (one of the beat's results, or any)."),
                       "start": serializers.FloatField(help_text="Seconds where the picked range begins."),
                       "end": serializers.FloatField(help_text="Seconds where it ends.")}),
                   responses=BeatSerializer)
    def post(self, request, pk: int, index: int):
        beat = _beat_for_user(request, pk, index)
        data = _object(request.data)
        asset_id, start, end = _number(data, "asset_id", int), _number(data, "start"), _number(data, "end")
        try:
            beat = services.beat_pick(beat=beat, user=request.user, asset_id=asset_id, start=start, end=end)
        except services.AssetGone as exc:
            raise NotFound(str(exc)) from exc
        except services.BriefRejected as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return _beat_answer(request, beat)

    @extend_schema(summary="Take the beat's pick back", request=None, responses={200: BeatSerializer})
    def delete(self, request, pk: int, index: int):
        beat = services.beat_unpick(beat=_beat_for_user(request, pk, index))
        return _beat_answer(request, beat)


class BeatSimilarApi(BriefApi):
    throttle_scopes = {"POST": "search"}
    @extend_schema(summary="Replace the beat's results with moments that look like one second of an asset",
                   request=inline_serializer("BeatSimilar", {
                       "asset_id": serializers.IntegerField(help_text="The asset of the example second."),
                       "time": serializers.FloatField(help_text="The example second.")}),
                   responses={200: BeatSerializer, **SEARCHING})
    def post(self, request, pk: int, index: int):
        beat = _beat_for_user(request, pk, index)
        data = _object(request.data)
        asset_id, time = _number(data, "asset_id", int), _number(data, "time")
        beat = _rejected(lambda: services.beat_search_similar(beat=beat, user=request.user, asset_id=asset_id, time=time))
        return _beat_answer(request, beat)


class _JsonOnly(BaseContentNegotiation):
    """DRF reads ?format= as the renderer to use; here it names the timeline format, and errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return JSONRenderer(), JSONRenderer.media_type


class BriefExportApi(BriefApi):
    content_negotiation_class = _JsonOnly

    @extend_schema(summary="The brief as a timeline an editing application opens",
                   parameters=[OpenApiParameter("format", str, enum=list(exports.EXPORT_FORMATS), required=True,
                                                description="edl (CMX 3600), fcpxml (Final Cut Pro 7 XML, what "
                                                            "Premiere Pro and DaVinci Resolve import), otio or csv.")],
                   responses={(200, "application/octet-stream"): OpenApiResponse(
                       bytes, description="The timeline file, named after the brief (Content-Disposition).")})
    def get(self, request, pk: int):
        brief = _brief_for_user(request, pk)
        fmt = request.query_params.get("format", "")
        if fmt not in exports.EXPORT_FORMATS:
            raise ValidationError({"detail": f"format must be one of {', '.join(exports.EXPORT_FORMATS)}, not {fmt!r}."})
        try:
            export = exports.brief_export(request=request, brief=brief, fmt=fmt)
        except ValueError as exc:  # a brief the format can't carry (the sentence says why)
            raise ValidationError({"detail": str(exc)}) from exc
        response = HttpResponse(export.content, content_type=export.content_type)
        response["Content-Disposition"] = export.content_disposition
        return response
