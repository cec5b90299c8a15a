"""JSON API for faces and people (CONTRACT.md section 3; editors edit, section 6).

Deleting a person is for editors, like deleting an asset: it is how a newsroom honours a
request to forget someone's face, and editors are the ones who handle the footage.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from mediahub.assets import selectors as asset_selectors
from mediahub.assets.filters import AssetPagination
from mediahub.core import roles
from mediahub.people import selectors, services
from mediahub.people.models import FaceTrack, Person


class PersonSerializer(serializers.ModelSerializer):
    face_count = serializers.IntegerField(read_only=True, help_text="Faces of theirs found, over all assets.")
    asset_count = serializers.IntegerField(read_only=True, help_text="Assets they appear in.")
    thumbnail = serializers.SerializerMethodField(help_text="Their cover face crop; null if none.")
    url = serializers.SerializerMethodField(help_text="Their page.")

    class Meta:
        model = Person
        fields = ["id", "name", "face_count", "asset_count", "thumbnail", "hidden", "url"]
        extra_kwargs = {"id": {"help_text": "The person's id."},
                        "name": {"help_text": "Their name; empty until someone names them."}}

    def _absolute(self, path: str | None) -> str | None:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if path and request else path

    def get_thumbnail(self, person: Person) -> str | None:
        cover = person.shown_cover_id  # None when the rights policy hides the cover's asset from the user
        return self._absolute(reverse("people:face_chip", args=[cover])) if cover else None

    def get_url(self, person: Person) -> str:
        return self._absolute(person.get_absolute_url())


class FaceTrackSerializer(serializers.ModelSerializer):
    person_id = serializers.IntegerField(allow_null=True, help_text="Whose face it is; null while nobody's.")
    person_name = serializers.SerializerMethodField(help_text="Their name (empty if unnamed); null with no person.")
    box = serializers.ListField(child=serializers.IntegerField(), min_length=4, max_length=4,
                                help_text="[x, y, w, h] in pixels of the track's first frame.")

    class Meta:
        model = FaceTrack
        fields = ["id", "person_id", "person_name", "start", "end", "box"]
        extra_kwargs = {"id": {"help_text": "The face track's id."}}

    def get_person_name(self, track: FaceTrack) -> str | None:
        return track.person.name if track.person_id else None


class PersonEditSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True, required=False, help_text="Their name.")
    hidden = serializers.BooleanField(required=False, help_text="Leave them out of the people page and search.")

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ValidationError({"detail": "Send a JSON object such as {\"name\": \"Wang Wei\"}."})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise ValidationError({"detail": f"{', '.join(unknown)}: cannot be changed here; send only name or hidden."})
        if not data:
            raise ValidationError({"detail": "Send the name or hidden flag to change, such as {\"name\": \"Wang Wei\"}."})
        return super().to_internal_value(data)


class OtherPersonSerializer(serializers.Serializer):
    other_id = serializers.IntegerField(min_value=1, help_text="The other person's id.", error_messages={
        "required": "Send {{\"other_id\": <person id>}} naming the other person.",  # DRF formats this
        "invalid": "other_id must be a person's id (a whole number)."})

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ValidationError({"detail": "Send a JSON object such as {\"other_id\": 12}."})
        return super().to_internal_value(data)


def _person_or_404(pk: int, *, what: str = "person", user=None) -> Person:
    person = selectors.person_get(pk=pk, user=user)
    if person is None:
        raise NotFound(f"There is no {what} {pk}; they may have been deleted or merged.")
    return person


def _person_answer(request, person: Person) -> dict:
    return PersonSerializer(selectors.person_with_counts(pk=person.pk, user=request.user),
                            context={"request": request}).data


def _person_and_other(request, pk: int) -> tuple[Person, Person]:
    """The person of the URL and the one named by the body's other_id."""
    person = _person_or_404(pk)
    body = OtherPersonSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    return person, _person_or_404(body.validated_data["other_id"], what="other person")


class PeopleApi(APIView):
    """Base of every people endpoint, holding their one access check (CONTRACT.md section 6)."""

    permission_classes = [roles.RolePermission]
    required_permissions = {"GET": "people.view_person", "POST": "people.change_person",
                            "PATCH": "people.change_person", "DELETE": "people.delete_person"}
    parser_classes = [JSONParser]


class AssetFacesApi(PeopleApi):
    @extend_schema(summary="The asset's face tracks and who they are",
                   responses=inline_serializer("AssetFaces", {"faces": FaceTrackSerializer(
                       many=True, help_text="The asset's face tracks in time order.")}))
    def get(self, request, pk: int):
        asset = asset_selectors.asset_get(pk=pk, user=request.user)
        if asset is None:
            raise NotFound(f"There is no asset {pk}; it may have been deleted.")
        tracks = selectors.asset_face_tracks(asset=asset)
        return Response({"faces": FaceTrackSerializer(tracks, many=True).data})


class PeopleListApi(ListModelMixin, PeopleApi, GenericAPIView):
    serializer_class = PersonSerializer
    pagination_class = AssetPagination

    def get_queryset(self):
        return selectors.people_list(user=self.request.user)

    @extend_schema(summary="People, unnamed first, then by name", operation_id="people_list")
    def get(self, request):
        return self.list(request)


class PersonDetailApi(PeopleApi):
    @extend_schema(summary="One person with counts", responses=PersonSerializer)
    def get(self, request, pk: int):
        return Response(_person_answer(request, _person_or_404(pk, user=request.user)))

    @extend_schema(summary="Rename or hide a person (editors and admins)", request=PersonEditSerializer,
                   responses=PersonSerializer)
    def patch(self, request, pk: int):
        person = _person_or_404(pk)
        changes = PersonEditSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        if "name" in changes.validated_data:
            services.person_rename(person=person, name=changes.validated_data["name"], by=request.user)
        if "hidden" in changes.validated_data:
            services.person_hide(person=person, hidden=changes.validated_data["hidden"])
        return Response(_person_answer(request, person))

    @extend_schema(summary="Forget a person: their face tracks, faces and crops (editors and admins)",
                   responses={204: None})
    def delete(self, request, pk: int):
        services.person_delete(person=_person_or_404(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonMergeApi(PeopleApi):
    @extend_schema(summary="Merge another person into this one (editors and admins)",
                   request=OtherPersonSerializer, responses=PersonSerializer)
    def post(self, request, pk: int):
        person, other = _person_and_other(request, pk)
        person = services.person_merge(person=person, other=other, by=request.user)
        return Response(_person_answer(request, person))


class PersonUnmergeApi(PeopleApi):
    @extend_schema(summary="Undo merging another person into this one (editors and admins)",
                   request=OtherPersonSerializer, responses=PersonSerializer)
    def post(self, request, pk: int):
        person, other = _person_and_other(request, pk)
        other = services.person_unmerge(person=person, other=other)
        return Response(_person_answer(request, other))


def _track_or_404(pk: int) -> FaceTrack:
    track = FaceTrack.objects.filter(pk=pk).first()
    if track is None:
        raise NotFound(f"There is no face track {pk}; the asset may have been reprocessed or deleted.")
    return track


class TrackSplitApi(PeopleApi):
    @extend_schema(summary="Take a face track off its person into a new person (editors and admins)",
                   request=None, responses={201: PersonSerializer})
    def post(self, request, pk: int):
        person = services.track_split(track=_track_or_404(pk), by=request.user)
        return Response(_person_answer(request, person), status=status.HTTP_201_CREATED)


class TrackRejectApi(PeopleApi):
    @extend_schema(summary="Not this person: the face track leaves its person for good (editors and admins)",
                   request=None, responses=FaceTrackSerializer)
    def post(self, request, pk: int):
        track = services.track_reject(track=_track_or_404(pk), by=request.user)
        return Response(FaceTrackSerializer(track).data)
