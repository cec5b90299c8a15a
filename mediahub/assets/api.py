"""JSON API for assets (CONTRACT.md section 3)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
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
from mediahub.assets.models import Asset
from mediahub.assets.uploads import OriginalUploadHandler, StoredUpload, upload_handlers_install
from mediahub.core import roles
from mediahub.core.throttling import UserScopedRateThrottle


class TagSerializer(serializers.Serializer):
    label = serializers.CharField(source="label.name")
    label_zh = serializers.CharField(source="label.name_zh")
    start = serializers.FloatField()
    end = serializers.FloatField()
    score = serializers.FloatField()


class AssetSerializer(serializers.ModelSerializer):
    tags = TagSerializer(many=True, read_only=True)
    thumbnail = serializers.SerializerMethodField()
    media = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    shots = serializers.SerializerMethodField(help_text="The asset's shots and their descriptions (GET).")
    owner = serializers.CharField(source="owner.username", default=None)
    rights = serializers.SerializerMethodField()
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


def get_asset_or_404(pk: int) -> Asset:
    asset = selectors.asset_get(pk=pk)
    if asset is None:
        raise NotFound(f"There is no asset {pk}; it may have been deleted.")
    return asset


class AssetApi(APIView):
    """Base of every asset endpoint, holding their one access check (CONTRACT.md section 6)."""

    permission_classes = [roles.RolePermission]
    required_permissions = {"GET": "assets.view_asset", "POST": "assets.add_asset",
                            "PATCH": "assets.change_asset", "DELETE": "assets.delete_asset"}


class AssetListApi(ListModelMixin, AssetApi, GenericAPIView):
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = AssetSerializer
    filter_backends = [SentenceFilterBackend]
    filterset_class = AssetFilter
    pagination_class = AssetPagination
    throttle_scope = "upload"

    def get_queryset(self):
        return selectors.asset_list()

    def get_throttles(self):
        return [UserScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(summary="List assets, newest first", operation_id="assets_list")
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Upload a video or image; processing starts when it is stored",
        request=inline_serializer("AssetUpload", {"file": serializers.FileField(), "title": serializers.CharField(required=False),
                                                  "description": serializers.CharField(required=False)}),
        responses={201: AssetSerializer, 200: AssetSerializer},
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
        body = AssetSerializer(result.asset, context={"request": request}).data
        body["duplicate"] = result.duplicate
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
        return Response(AssetSerializer(get_asset_or_404(pk), context={"request": request}).data)

    @extend_schema(summary="Change the asset's title, description or newsroom metadata (editors and admins)",
                   request=AssetMetadataSerializer, responses=AssetSerializer)
    def patch(self, request, pk: int):
        asset = get_asset_or_404(pk)
        edit = AssetMetadataSerializer(data=request.data)
        edit.is_valid(raise_exception=True)
        asset = services.asset_update(asset=asset, user=request.user, **edit.changes())
        return Response(AssetSerializer(asset, context={"request": request}).data)

    @extend_schema(summary="Delete the asset, its files and everything derived from it", responses={204: None})
    def delete(self, request, pk: int):
        asset = get_asset_or_404(pk)
        services.asset_delete(asset=asset)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssetReprocessApi(AssetApi):
    required_permissions = {"GET": "assets.view_asset", "POST": "assets.change_asset"}

    @extend_schema(summary="Run the whole pipeline again", request=None, responses={202: AssetSerializer})
    def post(self, request, pk: int):
        asset = get_asset_or_404(pk)
        asset = services.asset_reprocess(asset=asset)
        return Response(AssetSerializer(asset, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)
