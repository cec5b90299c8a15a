"""JSON API for assets (CONTRACT.md section 3)."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from mediahub.assets import selectors, services
from mediahub.assets.filters import AssetFilter, AssetPagination, SentenceFilterBackend
from mediahub.assets.metadata import AssetMetadataSerializer, RightsSerializer
from mediahub.assets.models import Asset, AssetChange
from mediahub.assets.uploads import OriginalUploadHandler, StoredUpload, upload_handlers_install
from mediahub.core import roles
from mediahub.core.schema import error_response
from mediahub.core.throttling import UserScopedRateThrottle


class TagSerializer(serializers.Serializer):
    label = serializers.CharField(source="label.name", help_text="What is seen, in English.")
    label_zh = serializers.CharField(source="label.name_zh", help_text="The same label in Chinese.")
    start = serializers.FloatField(help_text="Seconds from the first frame where it is first seen (0 for an image).")
    end = serializers.FloatField(help_text="Seconds where it is last seen.")
    score = serializers.FloatField(help_text="How sure the model is (its similarity to the label, higher is surer).")


class AssetSerializer(serializers.ModelSerializer):
    tags = TagSerializer(many=True, read_only=True, help_text="What the model recognises, and where.")
    thumbnail = serializers.SerializerMethodField(help_text="The poster frame's image; null until one is made.")
    media = serializers.SerializerMethodField(help_text="The playable file (a proxy for formats browsers can't play).")
    url = serializers.SerializerMethodField(help_text="The asset's page.")
    shots = serializers.SerializerMethodField(help_text="The asset's shots and their descriptions (GET).")
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True,
                                  help_text="Who uploaded it; null for an ingest or a deleted user.")
    rights = serializers.SerializerMethodField(help_text="Who may use the footage: a status and a note.")
    embargoed = serializers.SerializerMethodField(help_text="True while the embargo has not passed.")
    usage_warning = serializers.SerializerMethodField(
        help_text="What to know before using the footage (embargo, do not use, restricted), or null.")

    class Meta:
        model = Asset
        fields = [
            "id", "title", "description", "kind", "status", "progress", "error", "stage",
            "duration", "width", "height", "fps", "codec", "rotation", "bitrate", "container", "mime_type",
            "original_filename", "size_bytes", "sha256", "owner", "created_at", "updated_at", "processed_at",
            "keywords", "location", "shot_date", "source", "credit", "rights", "embargo_until", "embargoed",
            "usage_warning", "notes", "tags", "thumbnail", "media", "url", "shots",
        ]
        extra_kwargs = {
            "id": {"help_text": "The asset's id."},
            "keywords": {"help_text": "Words the footage is found by."},
            "title": {"help_text": "The title (the file's name unless one was given)."},
            "description": {"help_text": "Free text; may be empty."},
            "kind": {"help_text": "`video` or `image`."},
            "status": {"help_text": "Processing state: queued, processing, ready or failed."},
            "progress": {"help_text": "How far processing is, 0 to 1."},
            "fps": {"help_text": "Frames per second; null for an image."},
            "codec": {"help_text": "The video (or image) codec; empty if unknown."},
            "container": {"help_text": "The file format, as probed."},
            "mime_type": {"help_text": "The uploaded file's media type."},
            "original_filename": {"help_text": "The uploaded file's name."},
            "size_bytes": {"help_text": "The original file's size."},
            "sha256": {"help_text": "The original's SHA-256 (identical bytes are one asset)."},
            "created_at": {"help_text": "When it was uploaded."},
            "updated_at": {"help_text": "When it last changed."},
            "processed_at": {"help_text": "When processing last finished; null before."},
        }

    def _absolute(self, path: str | None) -> str | None:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if path and request else path

    @extend_schema_field(RightsSerializer)
    def get_rights(self, asset: Asset) -> dict:
        return {"status": asset.rights_status or None, "note": asset.rights_note}

    def get_embargoed(self, asset: Asset) -> bool:
        return asset.embargoed()

    def get_usage_warning(self, asset: Asset) -> str | None:
        return asset.usage_warning()

    def get_thumbnail(self, asset: Asset) -> str | None:
        return self._absolute(asset.thumbnail_url)

    def get_media(self, asset: Asset) -> str:
        return self._absolute(asset.media_url)

    def get_url(self, asset: Asset) -> str:
        return self._absolute(asset.get_absolute_url())

    def get_shots(self, asset: Asset) -> str:
        return self._absolute(reverse("api:asset-shots", args=[asset.pk]))


def get_asset_or_404(pk: int, *, user) -> Asset:
    """The asset, if `user` may see it (the rights policy may hide it from viewers: then it is a 404 too)."""
    asset = selectors.asset_get(pk=pk, user=user)
    if asset is None:
        raise NotFound(f"There is no asset {pk}; it may have been deleted.")
    return asset


class AssetApi(APIView):
    """Base of every asset endpoint, holding their one access check (CONTRACT.md section 6)."""

    permission_classes = [roles.RolePermission]
    required_permissions = {"GET": "assets.view_asset", "POST": "assets.add_asset",
                            "PATCH": "assets.change_asset", "DELETE": "assets.delete_asset"}


class AssetUploadedSerializer(AssetSerializer):
    """The answer to an upload: the asset, and whether it was already in the library."""

    duplicate = serializers.BooleanField(help_text="True when identical bytes were uploaded before: this is that "
                                                   "asset, and nothing new was created.")

    class Meta(AssetSerializer.Meta):
        fields = [*AssetSerializer.Meta.fields, "duplicate"]


class AssetListApi(ListModelMixin, AssetApi, GenericAPIView):
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = AssetSerializer
    filter_backends = [SentenceFilterBackend]
    filterset_class = AssetFilter
    pagination_class = AssetPagination
    throttle_scope = "upload"

    def get_queryset(self):
        return selectors.asset_list(user=self.request.user)

    def get_throttles(self):
        return [UserScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(summary="List assets, newest first", operation_id="assets_list")
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Upload a video or image; processing starts when it is stored",
        request=inline_serializer("AssetUpload", {
            "file": serializers.FileField(help_text="The video or image."),
            "title": serializers.CharField(required=False, help_text="Default: the file's name."),
            "description": serializers.CharField(required=False, help_text="Free text.")}),
        responses={201: OpenApiResponse(AssetUploadedSerializer, description="Stored; processing is queued."),
                   200: OpenApiResponse(AssetUploadedSerializer, description="A duplicate: the existing asset."),
                   400: error_response("No file, or an empty one."),
                   413: error_response("The file is larger than this server accepts."),
                   415: error_response("Not a video or image mediahub can read; the detail says why."),
                   503: error_response("The media store is not answering; nothing was kept.")},
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if not isinstance(upload, StoredUpload):
            raise ValidationError({"detail": "Attach the video or image to upload as the multipart field 'file'."})
        try:
            result = services.asset_create_from_original(
                original=upload.writer, filename=upload.name or "upload", owner=request.user,
                title=request.data.get("title", ""), description=request.data.get("description", ""))
        except services.UploadRejected as exc:
            return Response({"detail": str(exc)}, status=exc.status)
        result.asset.duplicate = result.duplicate
        body = AssetUploadedSerializer(result.asset, context={"request": request}).data
        return Response(body, status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED)

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body (SessionAuthentication's CSRF check reads request.POST),
        # so a POST's file is streamed once to its final place instead of Django's temp file.
        if request.method == "POST":
            upload_handlers_install(request)
        return super().initialize_request(request, *args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # A refused, duplicate or interrupted upload (client gone, limit hit) leaves nothing behind.
            for handler in getattr(request, "_upload_handlers", ()):
                if isinstance(handler, OriginalUploadHandler):
                    handler.discard()


class AssetDetailApi(AssetApi):
    parser_classes = [JSONParser]

    @extend_schema(summary="One asset with its processing state and tags", responses=AssetSerializer)
    def get(self, request, pk: int):
        return Response(AssetSerializer(get_asset_or_404(pk, user=request.user), context={"request": request}).data)

    @extend_schema(summary="Change the asset's title, description or newsroom metadata (editors and admins)",
                   request=AssetMetadataSerializer, responses=AssetSerializer)
    def patch(self, request, pk: int):
        asset = get_asset_or_404(pk, user=request.user)
        edit = AssetMetadataSerializer(data=request.data)
        edit.is_valid(raise_exception=True)
        asset = services.asset_update(asset=asset, user=request.user, **edit.changes())
        return Response(AssetSerializer(asset, context={"request": request}).data)

    @extend_schema(summary="Delete the asset, its files and everything derived from it", responses={204: None})
    def delete(self, request, pk: int):
        asset = get_asset_or_404(pk, user=request.user)
        services.asset_delete(asset=asset)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}], "nullable": True})
class ChangedValueField(serializers.JSONField):
    """A metadata field's value in the history: text, an ISO date or date-time, the keywords' list, or null."""


class AssetChangeSerializer(serializers.ModelSerializer):
    at = serializers.DateTimeField(source="created_at", help_text="When the change was saved.")
    user = serializers.CharField(source="username", help_text="Who made it (kept when the user is deleted).")
    via = serializers.ChoiceField(choices=AssetChange.Via.choices, help_text="Where it was made.")
    changes = serializers.DictField(
        child=inline_serializer("FieldChange", {
            "from": ChangedValueField(allow_null=True, help_text="The value before (text, ISO date, keywords' list or null)."),
            "to": ChangedValueField(allow_null=True, help_text="The value after.")}),
        help_text='Each changed field\'s value before and after: {field: {"from": old, "to": new}}; field names are '
                  "the model's (rights_status, rights_note), values as the API writes them.")

    class Meta:
        model = AssetChange
        fields = ["at", "user", "via", "changes"]


class AssetHistoryApi(ListModelMixin, AssetApi, GenericAPIView):
    serializer_class = AssetChangeSerializer
    pagination_class = AssetPagination

    def get_queryset(self):
        return selectors.asset_history(asset=get_asset_or_404(self.kwargs["pk"], user=self.request.user))

    @extend_schema(summary="Who changed the asset's metadata, when, how and what; newest first")
    def get(self, request, pk: int):
        return self.list(request)


class AssetReprocessApi(AssetApi):
    required_permissions = {"GET": "assets.view_asset", "POST": "assets.change_asset"}

    @extend_schema(summary="Run the whole pipeline again", request=None, responses={202: AssetSerializer})
    def post(self, request, pk: int):
        asset = get_asset_or_404(pk, user=request.user)
        asset = services.asset_reprocess(asset=asset)
        return Response(AssetSerializer(asset, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)
