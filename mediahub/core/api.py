"""API plumbing shared by every app: errors as JSON sentences, and health."""

import logging
import math

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from mediahub.search.selectors import text_model_state
from workers.celery import app as celery_app
from workers.heartbeat import live_workers

logger = logging.getLogger(__name__)


def _sentence(detail) -> str:
    """Flatten DRF's nested error details into one readable sentence."""
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = _sentence(value)
            parts.append(text if field in ("detail", "non_field_errors") else f"{field}: {text}")
        return " ".join(parts)
    if isinstance(detail, list):
        return " ".join(_sentence(item) for item in detail)
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "You do not have permission to do this.")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(" ".join(exc.messages))
    elif isinstance(exc, exceptions.MethodNotAllowed) and context.get("view") is not None:
        allowed = ", ".join(m for m in context["view"].allowed_methods if m not in ("OPTIONS", "HEAD"))
        exc = exceptions.MethodNotAllowed(context["request"].method,
                                          detail=f"{context['request'].method} is not accepted here; use {allowed}.")
    elif isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        exc = exceptions.Throttled(exc.wait, detail=f"Too many requests; try again in {math.ceil(exc.wait)} seconds.")
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"detail": _sentence(response.data)}
    return response


def json_error_or(page_handler, status_code: int, default_detail: str):
    """A Django error handler answering JSON under /api/ and `page_handler`'s page elsewhere."""

    def handler(request, exception=None, **kwargs):
        if request.path.startswith("/api/"):
            # A fixed sentence: the exception's text can hold the URL resolver's patterns and file paths.
            return JsonResponse({"detail": default_detail}, status=status_code)
        args = (request,) if exception is None and status_code == 500 else (request, exception)
        return page_handler(*args, **kwargs)

    return handler


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - health reports any failure
        logger.warning("health: database check failed: %s", exc)
        return f"unreachable: {exc.__class__.__name__}"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        logger.warning("health: broker check failed: %s", exc)
        return f"unreachable: {exc.__class__.__name__}"


def _count_workers() -> int:
    """Workers whose heartbeat (workers/heartbeat.py) is fresh: one read, no broadcast to the workers."""
    try:
        return len(live_workers(celery_app))
    except Exception:  # noqa: BLE001
        return 0


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(["ok", "error"], help_text="ok when the database and the broker answer.")
    database = serializers.CharField(help_text="ok, or `unreachable: <error>`.")
    broker = serializers.CharField(help_text="The Celery broker (Redis): ok, or `unreachable: <error>`.")
    workers = serializers.IntegerField(help_text="Celery workers whose heartbeat is fresh.")
    search_model = serializers.ChoiceField(
        ["loaded", "loading", "unavailable", "not_loaded"],
        help_text="Whether the web worker that answered has the search model: web workers load it as they start "
                  "(a search meanwhile waits for it); unavailable when it can't be loaded (a search says why).")

    class Meta:
        ref_name = "Health"


@extend_schema(
    summary="Service health: database, broker, live worker count and the search model",
    responses={200: HealthSerializer,
               503: OpenApiResponse(HealthSerializer, description="The database or the broker does not answer.")},
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request):
    database = _check_database()
    broker = _check_broker()
    workers = _count_workers() if broker == "ok" else 0
    healthy = database == "ok" and broker == "ok"
    body = {"status": "ok" if healthy else "error", "database": database, "broker": broker, "workers": workers,
            "search_model": text_model_state()}
    return Response(body, status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE)
