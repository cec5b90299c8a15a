"""The Celery app: queues by resource class and the task presets, defined once.

Queues: `media` (decoding, thumbnails: CPU and disk), `ml` (model inference:
GPU in production; start those workers with `-Q ml`), `default` (bookkeeping).
"""

import os

import django.db
import kombu.exceptions
import redis.exceptions
from celery import Celery, signals
from celery.schedules import crontab
from kombu import Exchange, Queue

from mediahub.assets.storage import STORE_UNREACHABLE
from mediahub.core.logs import log_id, log_ids_bind, log_ids_reset
from workers.heartbeat import Heartbeat
from workers.scratch import ScratchFull

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")

app = Celery("mediahub")
app.config_from_object("django.conf:settings", namespace="CELERY")
QUEUES = ("media", "ml", "default")
app.conf.task_queues = tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES)
app.conf.task_default_queue = "default"
app.conf.task_default_exchange = "default"
app.conf.task_default_routing_key = "default"
app.conf.task_routes = {
    "workers.tasks.asset_probe": {"queue": "media"},
    "workers.tasks.asset_sample_frames": {"queue": "media"},
    "workers.tasks.asset_embed_frames": {"queue": "ml"},
    "workers.tasks.asset_tag": {"queue": "ml"},
    "workers.tasks.asset_describe_shots": {"queue": "ml"},
    "workers.tasks.people_regroup": {"queue": "ml"},
}
app.conf.imports = ("workers.tasks", "workers.recovery")
app.steps["worker"].add(Heartbeat)
# Housekeeping, run by the beat scheduler (`make run` embeds it in its worker).
app.conf.beat_schedule = {
    "prune-searches-and-staging": {"task": "workers.tasks.housekeeping_prune", "schedule": crontab(minute=17)},
    "regroup-people": {"task": "workers.tasks.people_regroup", "schedule": crontab(hour=3, minute=41)},
}


# Errors worth a retry: the database, broker or object store was briefly unreachable, or this worker's
# scratch disk full (another worker, or this one later, has room).
TRANSIENT_ERRORS = (
    django.db.OperationalError, django.db.InterfaceError, kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError, ConnectionError, TimeoutError,
    *STORE_UNREACHABLE, ScratchFull,
)


def _time_limit() -> int:
    from django.conf import settings

    return settings.TASK_TIME_LIMIT_SECONDS


# Heavy, idempotent pipeline steps: acknowledged only when done, so a crashed
# worker's task runs again; retried with backoff only for transient errors;
# stopped (the asset failed, with a sentence) when they run past the time limit.
PIPELINE_TASK = dict(
    soft_time_limit=_time_limit(),
    time_limit=_time_limit() + 60,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=5,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
)


# Threads per pool process (README, "Ingest speed"): the cores divided among the worker's processes, for
# torch, FFmpeg's decoder and the face scans. Each process running torch on every core, while its siblings
# decode or run torch too, made the CLIP step 10x slower in wall time and 13x in CPU on two shared cores
# (OpenMP threads waiting on descheduled peers); a decoder's frame threads cost a quarter more CPU than one.
_pool_processes = 1


@signals.worker_init.connect
def _pool_size_remember(sender=None, **_) -> None:
    global _pool_processes
    concurrency = getattr(sender, "concurrency", None)  # "auto" is resolved later: count it as one per core
    _pool_processes = concurrency if isinstance(concurrency, int) and concurrency > 0 else (os.cpu_count() or 1)


@signals.worker_process_init.connect
def _torch_threads_set(**_) -> None:
    import torch  # already imported by workers.tasks before the pool forks

    torch.set_num_threads(torch_threads(pool_processes=_pool_processes))


def torch_threads(*, pool_processes: int) -> int:
    from django.conf import settings

    return settings.TORCH_THREADS or process_cores(pool_processes=pool_processes)


def process_cores(*, pool_processes: int | None = None) -> int:
    """The CPU cores one pool process of this worker can count on (all of them outside a worker)."""
    return max(1, (os.cpu_count() or 1) // (pool_processes or _pool_processes))


# Log ids in tasks (README, "Logs"): a task published during a request (or during another task, as the
# next link of a pipeline chain) carries the request id in a message header; while a task runs, its log
# records carry that id and, for tasks that name them (PipelineTask.log_ids_from_args), the asset and run ids.
_task_log_ids = {}  # task id -> the token that undoes its binding


@signals.before_task_publish.connect
def _request_id_to_message(headers: dict, **_) -> None:
    if log_id("request_id") and "request_id" not in headers:
        headers["request_id"] = log_id("request_id")


@signals.task_prerun.connect
def _task_log_ids_bind(task_id: str, task, args=(), **_) -> None:
    ids = dict(zip(getattr(task, "log_ids_from_args", ()), args))
    _task_log_ids[task_id] = log_ids_bind(request_id=task.request.get("request_id"), **ids)


@signals.task_postrun.connect
def _task_log_ids_reset(task_id: str, **_) -> None:
    if task_id in _task_log_ids:
        log_ids_reset(_task_log_ids.pop(task_id))
