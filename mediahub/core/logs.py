"""Log records carry the ids of what they are about: the request, the asset and the pipeline run.

The ids live in a context variable, bound for a request by RequestIdMiddleware and for a Celery task by
the task signals in workers/celery.py; LogIdsFilter, on the log handler, copies the known ones onto each
record, which the JSON formatter (settings.LOGGING) then writes as fields of the line.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

_log_ids: contextvars.ContextVar[dict] = contextvars.ContextVar("mediahub_log_ids", default={})
# An incoming X-Request-ID is kept if it looks like an id (a proxy's UUID or hex, a trace id), else replaced.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")


def log_ids_bind(**ids) -> contextvars.Token:
    """Add ids (those not None) to every record logged from here on in this context; undo with log_ids_reset."""
    return _log_ids.set({**_log_ids.get(), **{name: value for name, value in ids.items() if value is not None}})


def log_ids_reset(token: contextvars.Token) -> None:
    _log_ids.reset(token)


def log_id(name: str) -> str | int | None:
    return _log_ids.get().get(name)


def request_id_for(*, incoming: str | None) -> str:
    """The id of a request: the caller's (a proxy's) if it is sane, else a new one."""
    if incoming and REQUEST_ID_PATTERN.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class LogIdsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _log_ids.get().items():
            setattr(record, name, value)
        # Django logs an error answer (django.request) after the middleware has returned, with the request.
        request_id = getattr(getattr(record, "request", None), "request_id", None)
        if request_id and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True
