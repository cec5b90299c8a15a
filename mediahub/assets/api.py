"""JSON API for assets (CONTRACT.md section 3)."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from mediahub.assets import selectors, services
from mediahub.assets.models import Asset
from mediahub.core import roles

PAGE_SIZE = 50


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
    owner = serializers.CharField(source="owner.username", default=None)

    class Meta:
        model = Asset
        fields = [
            "id", "title", "description", "kind", "status", "progress", "error", "stage",
            "duration", "width", "height", "fps", "codec", "rotation", "bitrate", "container", "mime_type",
            "original_filename", "size_bytes", "sha256", "owner", "created_at", "updated_at", "processed_at",
            "tags", "thumbnail", "media", "url",
        ]

    def _absolute(self, path: str | None) -> str | None:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if path and request else path

    def get_thumbnail(self, asset: Asset) -> str | None:
        return self._absolute(asset.thumbnail_url)

    def get_media(self, asset: Asset) -> str:
        return self._absolute(asset.media_url)

    def get_url(self, asset: Asset) -> str:
        return self._absolute(asset.get_absolute_url())


def _choice(request, name: str, choices) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in choices.values:
        raise ValidationError({"detail": f"{name} must be one of {', '.join(choices.values)}, not {value!r}."})
    return value


def _page_number(request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError({"detail": f"page must be a whole number from 1, not {raw!r}."})
    return int(raw)


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


class AssetEditSerializer(serializers.Serializer):
    """The fields PATCH accepts today; the contract's other fields arrive with a later issue."""

    title = serializers.CharField(max_length=300, required=False)
    description = serializers.CharField(allow_blank=True, required=False)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ValidationError({"detail": "Send a JSON object with the fields to change, such as {\"title\": \"...\"}."})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise ValidationError({"detail": f"{', '.join(unknown)}: cannot be changed here; "
                                             f"send only {' or '.join(self.fields)}."})
        return super().to_internal_value(data)


class AssetListApi(AssetApi):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="List assets, newest first", operation_id="assets_list",
        parameters=[OpenApiParameter("status", str, enum=Asset.Status.values),
                    OpenApiParameter("kind", str, enum=Asset.Kind.values), OpenApiParameter("page", int)],
        responses=inline_serializer("AssetPage", {"count": serializers.IntegerField(),
                                                  "results": AssetSerializer(many=True)}),
    )
    def get(self, request):
        assets = selectors.asset_list(status=_choice(request, "status", Asset.Status),
                                      kind=_choice(request, "kind", Asset.Kind))
        page = _page_number(request)
        results = assets[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        data = AssetSerializer(results, many=True, context={"request": request}).data
        return Response({"count": assets.count(), "page": page, "page_size": PAGE_SIZE, "results": data})

    @extend_schema(
        summary="Upload a video or image; processing starts when it is stored",
        request=inline_serializer("AssetUpload", {"file": serializers.FileField(), "title": serializers.CharField(required=False),
                                                  "description": serializers.CharField(required=False)}),
        responses={201: AssetSerializer, 200: AssetSerializer},
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"detail": "Attach the video or image to upload as the multipart field 'file'."})
        if upload.size > settings.MAX_UPLOAD_BYTES:
            return Response({"detail": "The file is larger than the upload limit."}, status=413)
        try:
            result = services.asset_create(source=upload, filename=upload.name or "upload", owner=request.user,
                                           title=request.data.get("title", ""),
                                           description=request.data.get("description", ""))
        except services.UploadRejected as exc:
            return Response({"detail": str(exc)}, status=exc.status)
        body = AssetSerializer(result.asset, context={"request": request}).data
        body["duplicate"] = result.duplicate
        return Response(body, status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED)


class AssetDetailApi(AssetApi):
    parser_classes = [JSONParser]

    @extend_schema(summary="One asset with its processing state and tags", responses=AssetSerializer)
    def get(self, request, pk: int):
        return Response(AssetSerializer(get_asset_or_404(pk), context={"request": request}).data)

    @extend_schema(summary="Change the asset's title or description (editors and admins)",
                   request=AssetEditSerializer, responses=AssetSerializer)
    def patch(self, request, pk: int):
        asset = get_asset_or_404(pk)
        changes = AssetEditSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        asset = services.asset_update(asset=asset, **changes.validated_data)
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
