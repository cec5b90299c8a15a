"""JSON API for video DNA (CONTRACT.md section 3): an asset's copies, and checking a clip.

Seeing copies is seeing the library; checking a clip is open to every role too (a viewer who
received a clip may ask where it comes from), throttled because it decodes the clip here.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from mediahub.assets import selectors as asset_selectors
from mediahub.copies import selectors
from mediahub.core import roles
from mediahub.core.schema import error_response
from mediahub.core.throttling import UserScopedRateThrottle

SEGMENT = inline_serializer("CopySegment", {
    "start": serializers.FloatField(help_text="Where the shared footage begins here (seconds)."),
    "end": serializers.FloatField(help_text="Where it ends here."),
    "other_start": serializers.FloatField(help_text="Where it begins in the other asset."),
    "other_end": serializers.FloatField(help_text="Where it ends in the other asset."),
    "flipped": serializers.BooleanField(help_text="One side is the other mirrored left to right.")},
    many=True, help_text="The aligned time ranges, in time order.")
COPIES = inline_serializer("Copies", {"copies": inline_serializer("Copy", {
    "asset_id": serializers.IntegerField(help_text="The other asset holding the same footage."),
    "title": serializers.CharField(help_text="Its title."),
    "score": serializers.FloatField(help_text="How sure the match is, 0 to 1."),
    "url": serializers.URLField(help_text="Its page."),
    "segments": SEGMENT}, many=True, help_text="Best match first.")})


class CheckRefused(APIException):
    status_code = 400


def _copy_json(request, *, asset_id: int, title: str, score: float, segments: list[dict]) -> dict:
    return {"asset_id": asset_id, "title": title, "score": round(score, 4),
            "url": request.build_absolute_uri(reverse("assets:detail", args=[asset_id])), "segments": segments}


class CopiesApi(APIView):
    """Base of the copies endpoints, holding their one access check: every role."""

    permission_classes = [roles.RolePermission]
    required_permissions = {"GET": "assets.view_asset", "POST": "assets.view_asset"}


class AssetCopiesApi(CopiesApi):
    @extend_schema(summary="Other assets holding this asset's footage, with aligned ranges", responses=COPIES)
    def get(self, request, pk: int):
        asset = asset_selectors.asset_get(pk=pk, user=request.user)
        if asset is None:
            raise NotFound(f"There is no asset {pk}; it may have been deleted.")
        return Response({"copies": [
            _copy_json(request, asset_id=match.other.pk, title=match.other.title, score=match.score,
                       segments=match.segments)
            for match in selectors.asset_copies(asset=asset, user=request.user)]})


class CopyCheckApi(CopiesApi):
    throttle_classes = [UserScopedRateThrottle]
    throttle_scope = "copy_check"
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Where the library already holds a clip's footage (nothing is stored)",
                   request=inline_serializer("CopyCheck", {"file": serializers.FileField(help_text="A video or an image.")}),
                   responses={200: COPIES, 400: error_response("No file, an empty one, or one that can't be decoded."),
                              413: error_response("The clip is larger or longer than a check takes.")})
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"detail": "Attach the clip to check (a video or an image) as the multipart field 'file'."})
        try:
            found = selectors.copies_check(upload=upload, user=request.user)
        except selectors.CheckRefused as exc:
            refused = CheckRefused(str(exc))
            refused.status_code = exc.status
            raise refused from exc
        return Response({"copies": [
            _copy_json(request, asset_id=copy.asset_id, title=copy.title, score=copy.score,
                       segments=selectors.segment_rows(copy.segments))
            for copy in found]})

