"""/metrics for Prometheus (README, "Operations"), behind MEDIAHUB_METRICS_TOKEN.

Two parts in one answer: the web side's own counters (django-prometheus: requests by view, their
latency, database queries), summed over gunicorn's worker processes by prometheus_client's
multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (mediahub.gunicorn_config); and the library's
state, computed at scrape time from the broker and the database by `LibraryCollector`: workers share
nothing with the web, so the services they all use are where their work shows.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections import Counter

import prometheus_client
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import GaugeMetricFamily

from mediahub.ops import selectors

logger = logging.getLogger(__name__)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _labelled(name: str, documentation: str, label: str, values: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class LibraryCollector:
    """The queues, workers and assets as they are at scrape time (a metric is left out when its source is down)."""

    def collect(self):
        yield from self._broker_metrics()
        yield from self._database_metrics()

    def _broker_metrics(self):
        queues = selectors.queues_read()
        workers = selectors.workers_read(now=time.time()) if queues is not None else None
        yield _gauge("mediahub_broker_up", "1 when the broker (Redis) answers, else 0.", int(queues is not None))
        if queues is None or workers is None:
            return
        yield _labelled("mediahub_queue_depth", "Messages waiting in a Celery queue (not those a worker holds).",
                        "queue", queues)
        yield _gauge("mediahub_workers_live", "Celery workers whose heartbeat is fresh.", len(workers))
        running = Counter(task["task"] for worker in workers for task in worker["running"])
        yield _labelled("mediahub_tasks_running", "Tasks the live workers run now, by task (as of their last heartbeat).",
                        "task", running)

    def _database_metrics(self):
        try:
            statuses = selectors.assets_by_status()
            seconds = selectors.ready_video_seconds()
        except DatabaseError as exc:
            logger.warning("metrics: the database could not be read: %s", exc)
            yield _gauge("mediahub_database_up", "1 when the database answers, else 0.", 0)
            return
        yield _gauge("mediahub_database_up", "1 when the database answers, else 0.", 1)
        yield _labelled("mediahub_assets", "Assets by status (queued, processing, ready, failed).", "status", statuses)
        yield _gauge("mediahub_video_ready_seconds", "Seconds of video in ready assets: ingested and searchable.", seconds)


_library = CollectorRegistry(auto_describe=False)  # no describe(): nothing is read until a scrape
_library.register(LibraryCollector())


def _web_registry():
    """The web side's metrics: every gunicorn worker's, summed, in multiprocess mode; else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return prometheus_client.REGISTRY


def _refusal(request) -> HttpResponse | None:
    """401 without a bearer token, 403 with another one than MEDIAHUB_METRICS_TOKEN (compared in constant time)."""
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        answer = HttpResponse("Send the header Authorization: Bearer <MEDIAHUB_METRICS_TOKEN>.\n", status=401,
                              content_type="text/plain; charset=utf-8")
        answer["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return answer
    if not hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode()):
        return HttpResponse("This is not the metrics token (MEDIAHUB_METRICS_TOKEN).\n", status=403,
                            content_type="text/plain; charset=utf-8")
    return None


@require_GET
@login_not_required  # Prometheus signs in with the bearer token, not a session
def metrics(request):
    if not settings.METRICS_TOKEN:
        raise Http404("MEDIAHUB_METRICS_TOKEN is not set.")
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    body = prometheus_client.generate_latest(_web_registry()) + prometheus_client.generate_latest(_library)
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
