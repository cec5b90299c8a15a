"""What the operations page and /metrics read: the broker's queues and worker heartbeats, and from the
database the ingest of the last hour, the failed assets and the slowest searches."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, DateTimeField, F, Func, Q, QuerySet, Sum, TextField, Value
from django.db.models.functions import Coalesce

from mediahub.assets.models import Asset
from mediahub.search.models import Search
from workers.broker import queue_depths
from workers.celery import QUEUES
from workers.celery import app as celery_app
from workers.heartbeat import live_workers

logger = logging.getLogger(__name__)

THROUGHPUT_WINDOW = timedelta(hours=1)
THROUGHPUT_BUCKET = timedelta(minutes=5)
SLOW_SEARCH_WINDOW = timedelta(hours=24)
SLOWEST_SEARCHES = 20
FAILED_ASSETS_LISTED = 500  # the most recent; every group still shows its full count


def queues_read() -> dict[str, int] | None:
    """Messages waiting per queue (media, ml, default); None when the broker does not answer."""
    try:
        return queue_depths(celery_app, QUEUES)
    except Exception as exc:  # noqa: BLE001 - the page and the metrics say the broker is unreachable
        logger.warning("operations: the broker's queues could not be read: %s", exc)
        return None


def workers_read(*, now: float) -> list[dict] | None:
    """Live workers (their heartbeats, workers/heartbeat.py) by name, with how long ago each was seen and how
    long each of its tasks has run (`now`: epoch seconds); None when the broker does not answer."""
    try:
        workers = sorted(live_workers(celery_app), key=lambda worker: worker["hostname"])
    except Exception as exc:  # noqa: BLE001
        logger.warning("operations: the worker heartbeats could not be read: %s", exc)
        return None
    for worker in workers:
        worker["seen_seconds_ago"] = max(0.0, now - worker["seen_at"])
        for task in worker.setdefault("running", []):
            task["seconds"] = max(0.0, now - task["started_at"]) if task.get("started_at") else None
    return workers


@dataclass(frozen=True)
class ThroughputBucket:
    start: datetime
    assets: int  # made ready in [start, start + THROUGHPUT_BUCKET)
    seconds: float  # of video among them


def ingest_throughput(*, now: datetime) -> list[ThroughputBucket]:
    """Assets made ready (and their seconds of video) per 5 minutes over the last hour, oldest first, empty buckets included."""
    since = now - THROUGHPUT_WINDOW
    bucket = Func(Value(THROUGHPUT_BUCKET), F("processed_at"), Value(since), function="date_bin",
                  output_field=DateTimeField())
    rows = (Asset.objects.filter(status=Asset.Status.READY, processed_at__gte=since, processed_at__lte=now)
            .annotate(bucket=bucket).values("bucket")
            .annotate(assets=Count("id"), seconds=Coalesce(Sum("duration"), 0.0)).order_by())
    by_start = {row["bucket"]: row for row in rows}
    starts = [since + THROUGHPUT_BUCKET * i for i in range(int(THROUGHPUT_WINDOW / THROUGHPUT_BUCKET))]
    return [ThroughputBucket(start=start, assets=by_start.get(start, {}).get("assets", 0),
                             seconds=by_start.get(start, {}).get("seconds", 0.0)) for start in starts]


@dataclass
class FailureGroup:
    error: str  # the sentence the assets failed with ("" when none was recorded)
    count: int
    assets: list[Asset] = field(default_factory=list)  # the most recent of them


def failed_asset_groups() -> list[FailureGroup]:
    """Failed assets grouped by their error sentence, the largest group first; two queries."""
    failed = Asset.objects.filter(status=Asset.Status.FAILED)
    groups = {row["sentence"]: FailureGroup(error=row["sentence"], count=row["count"]) for row in
              failed.values(sentence=Coalesce("error", Value(""), output_field=TextField())).annotate(count=Count("id")).order_by("-count", "sentence")}
    recent = failed.annotate(sentence=Coalesce("error", Value(""), output_field=TextField())).only("id", "title", "updated_at", "error")
    for asset in recent.order_by("-updated_at", "-id")[:FAILED_ASSETS_LISTED]:
        if asset.sentence in groups:  # one that failed between the two reads is listed next time
            groups[asset.sentence].assets.append(asset)
    return list(groups.values())


def failed_assets_with_error(error: str) -> QuerySet[Asset]:
    """The failed assets whose error sentence is `error` ("": those failed without one)."""
    sentence = Q(error=error) if error else Q(error__isnull=True) | Q(error="")
    return Asset.objects.filter(sentence, status=Asset.Status.FAILED)


def slowest_searches(*, now: datetime) -> QuerySet[Search]:
    """The slowest searches of the last 24 hours, slowest first."""
    return (Search.objects.filter(created_at__gte=now - SLOW_SEARCH_WINDOW, duration_ms__isnull=False)
            .select_related("user").only("id", "created_at", "kind", "query", "filters", "duration_ms", "user__username")
            .order_by("-duration_ms")[:SLOWEST_SEARCHES])


def assets_by_status() -> dict[str, int]:
    """How many assets are in each status, every status named."""
    counts = dict(Asset.objects.values_list("status").annotate(count=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in Asset.Status.values}


def ready_video_seconds() -> float:
    """Seconds of video in the library's ready assets."""
    return Asset.objects.filter(status=Asset.Status.READY).aggregate(seconds=Coalesce(Sum("duration"), 0.0))["seconds"]
