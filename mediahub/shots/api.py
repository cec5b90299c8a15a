"""JSON API for shots (CONTRACT.md section 3): an asset's shots, and an editor's correction of one.

Reading shots is reading the library (every role); correcting a description is editing the asset
(editors and admins).
"""

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from mediahub.assets.api import get_asset_or_404
from mediahub.core import roles
from mediahub.core.schema import error_response
from mediahub.shots import selectors, services
from mediahub.shots.models import LANGUAGES, Shot

TEXTS = inline_serializer("ShotTexts", {lang: serializers.CharField(help_text=f"In {name}.")
                                        for lang, name in {"en": "English", "zh": "Chinese"}.items()})


class ShotSerializer(serializers.ModelSerializer):
    """The contract's start, end, description and thumbnail; beside them the shot's index, whether an
    editor corrected it, and the generated text (what a correction replaced)."""

    description = serializers.SerializerMethodField(help_text="What is seen, in English and Chinese (an editor's "
                                                              "correction where there is one).")
    generated = serializers.SerializerMethodField(help_text="The generated description, which a correction replaces.")
    edited = serializers.BooleanField(read_only=True, help_text="An editor corrected the description.")
    thumbnail = serializers.SerializerMethodField(help_text="A frame from the shot; null if none.")

    class Meta:
        model = Shot
        fields = ["index", "start", "end", "description", "generated", "edited", "thumbnail"]

    @extend_schema_field(TEXTS)
    def get_description(self, shot: Shot) -> dict[str, str]:
        return shot.descriptions

    @extend_schema_field(TEXTS)
    def get_generated(self, shot: Shot) -> dict[str, str]:
        return {lang: getattr(shot, f"description_{lang}") for lang in LANGUAGES}

    def get_thumbnail(self, shot: Shot) -> str | None:
        request = self.context.get("request")
        url = shot.thumbnail_url
        return request.build_absolute_uri(url) if url and request else url


class ShotConflict(APIException):
    status_code = 409
    default_code = "conflict"


SHOTS = inline_serializer("Shots", {"shots": ShotSerializer(many=True, help_text="In time order.")})
EDIT = inline_serializer("ShotEdit", {"description": inline_serializer(
    "ShotTextsEdit", {lang: serializers.CharField(required=False, allow_blank=True, help_text=f"The text in {lang}.")
                      for lang in LANGUAGES},
    help_text="The corrected text in either language or both; an empty text brings the generated one back.")})
EDIT_EXAMPLE = '{"description": {"en": "...", "zh": "..."}}'


class ShotsApi(APIView):
    """Base of the shots endpoints, holding their one access check."""

    permission_classes = [roles.RolePermission]
    required_permissions = {"GET": "assets.view_asset", "PATCH": "assets.change_asset"}
    parser_classes = [JSONParser]


class AssetShotsApi(ShotsApi):
    """The asset's shots, covering it without gaps or overlaps; an image is one shot from 0 to 0."""

    @extend_schema(summary="The asset's shots in time order, each described in English and Chinese",
                   operation_id="asset_shots_list", responses=SHOTS)
    def get(self, request, pk: int):
        asset = get_asset_or_404(pk, user=request.user)
        shots = selectors.asset_shots(asset=asset)
        return Response({"shots": ShotSerializer(shots, many=True, context={"request": request}).data})


class ShotDetailApi(ShotsApi):
    """One shot, by its index in the asset (from 0); editors correct its description here."""

    @extend_schema(summary="One shot of the asset", operation_id="asset_shot_retrieve", responses=ShotSerializer)
    def get(self, request, pk: int, index: int):
        return Response(ShotSerializer(self._shot(request, pk, index), context={"request": request}).data)

    @extend_schema(summary="Correct a shot's description, in either language or both (editors and admins); "
                           "an empty text brings the generated one back",
                   operation_id="asset_shot_update", request=EDIT,
                   responses={200: ShotSerializer, 409: error_response("The asset was reprocessed meanwhile; "
                                                                       "reload its shots and correct again.")})
    def patch(self, request, pk: int, index: int):
        shot = self._shot(request, pk, index)
        data = request.data
        if not isinstance(data, dict) or set(data) != {"description"} or not isinstance(data["description"], dict):
            raise ValidationError({"detail": f"Send the corrected description as {EDIT_EXAMPLE} (either language "
                                             f"or both)."})
        try:
            shot = services.shot_description_edit(shot=shot, user=request.user, texts=data["description"])
        except services.ShotStale as exc:
            raise ShotConflict(str(exc)) from exc
        except services.ShotEditRefused as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(ShotSerializer(shot, context={"request": request}).data)

    @staticmethod
    def _shot(request, pk: int, index: int) -> Shot:
        asset = get_asset_or_404(pk, user=request.user)
        shot = selectors.shot_get(asset=asset, index=index)
        if shot is None:
            count = len(selectors.asset_shots(asset=asset))
            having = f"shots 0 to {count - 1}" if count else "no shots yet"
            raise NotFound(f"Asset {pk} has no shot {index}; it has {having}.")
        return shot
