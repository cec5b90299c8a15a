"""The OpenAPI schema's shared parts: the error answer, and the error answers each operation can give.

Every error under /api/ is `{"detail": "<a sentence>"}` (CONTRACT.md section 3). drf-spectacular documents
what the views declare; this schema class adds, per operation, the errors that DRF and mediahub's own
checks can answer there, so no view has to repeat them. Errors only some views give (a search's 503 when
the model can't be loaded, a shot edit's 409) are declared on those views with `error_response`.
"""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from mediahub.core import roles


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A sentence saying what went wrong and what to do about it.")

    class Meta:
        ref_name = "Error"


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


MODEL_UNAVAILABLE = error_response("The search model can't be loaded (the detail says why and what to do).")
BODY_METHODS = ("POST", "PUT", "PATCH")


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in self._error_codes().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(error_response(description), code, direction=direction)
        return responses

    def _error_codes(self) -> dict[str, str]:
        """The errors this operation can answer whatever the view does: bad input, credentials, role,
        a missing object, an unreadable body, throttling."""
        codes = {}
        has_body = self.method in BODY_METHODS and self.get_request_serializer() is not None
        if has_body or self._get_parameters_in("query"):
            codes["400"] = "A parameter or the body is not valid; the detail names it and what is expected."
        permissions = [permission.__class__ for permission in self.view.get_permissions()]
        if AllowAny not in permissions:
            codes["401"] = "Not signed in: send `Authorization: Token <token>` or a session cookie."
        if roles.RolePermission in permissions:
            codes["403"] = "Your role does not allow this; the detail names the role it needs."
        if self._get_parameters_in("path"):
            codes["404"] = "Nothing has this id (any more); the detail says what is missing."
        if has_body:
            codes["415"] = "The body is not one of the content types listed for this operation."
        if self.view.get_throttles():
            codes["429"] = "Too many requests from you; the detail says when to try again."
        return codes

    def _get_parameters_in(self, location: str) -> list:
        return [parameter for parameter in self._get_parameters() if parameter["in"] == location]
