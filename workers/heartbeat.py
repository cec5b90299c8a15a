"""Live workers announce themselves in the broker (a key per worker with a short expiry), so health
and operations pages count them with one cheap read instead of a broadcast to every worker. Each
announcement says what the worker is running at that moment (the main process's own list of the
tasks its pool runs: no message to the pool).

Each announcement also names the pipeline runs the worker holds (running or reserved), and once every
MEDIAHUB_STALLED_SWEEP seconds one worker of the cluster (whichever takes the lock first) queues the
stalled-asset sweep (workers/recovery.py; README, "Faults")."""

from __future__ import annotations

import json
import logging
import math
import os
import time

from celery import bootsteps
from celery.worker import state as worker_state

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = float(os.environ.get("MEDIAHUB_HEARTBEAT_SECONDS", "10"))  # how fresh "running" is
EXPIRY_SECONDS = math.ceil(max(3 * INTERVAL_SECONDS, 30))  # a worker killed without withdrawing drops out after this
KEY_PREFIX = "mediahub:worker:"
SWEEP_LOCK = "mediahub:stalled-sweep"
SWEEP_TASK = "workers.tasks.assets_requeue_stalled"
PIPELINE_STEP_PREFIX = "workers.tasks.asset_"  # the pipeline's steps: each takes (asset id, run id)


def broker_redis(app):
    """The broker's redis client (kombu's redis transport exposes it on its channel)."""
    connection = app.connection_for_write()
    return connection, connection.default_channel.client


class Heartbeat(bootsteps.StartStopStep):
    """A worker bootstep: write this worker's key now and every INTERVAL_SECONDS; delete it on stop."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None

    def start(self, worker):
        self.beat(worker)
        self.timer_ref = worker.timer.call_repeatedly(INTERVAL_SECONDS, self.beat, (worker,), priority=10)

    def stop(self, worker):
        if self.timer_ref is not None:
            self.timer_ref.cancel()
        try:
            connection, client = broker_redis(worker.app)
            with connection:
                client.delete(KEY_PREFIX + worker.hostname)
        except Exception as exc:  # noqa: BLE001 - a broker gone at shutdown must not block it
            logger.warning("could not withdraw the worker heartbeat: %s", exc)

    def beat(self, worker):
        state = {"hostname": worker.hostname, "queues": sorted(q.name for q in worker.app.amqp.queues.consume_from.values())
                 if worker.app.amqp.queues.consume_from else [], "seen_at": time.time(),
                 "running": tasks_running(worker_state.active_requests), "runs": runs_held()}
        try:
            connection, client = broker_redis(worker.app)
            with connection:
                client.set(KEY_PREFIX + worker.hostname, json.dumps(state), ex=EXPIRY_SECONDS)
                if client.set(SWEEP_LOCK, worker.hostname, nx=True, ex=_sweep_interval()):
                    worker.app.send_task(SWEEP_TASK, connection=connection, expires=_sweep_interval())
        except Exception as exc:  # noqa: BLE001 - the next beat tries again
            logger.warning("could not write the worker heartbeat: %s", exc)


def tasks_running(requests) -> list[dict]:
    """Each running task's short name, when it started (epoch seconds) and the asset it works on, if it
    names one (pipeline tasks do: their `log_ids_from_args`)."""
    running = []
    for request in list(requests):  # a copy: the pool may finish one meanwhile
        ids = dict(zip(getattr(request.task, "log_ids_from_args", ()), request.args or ()))
        running.append({"task": request.name.rsplit(".", 1)[-1], "asset_id": ids.get("asset_id"),
                        "started_at": request.time_start})
    return running


def _sweep_interval() -> int:
    from django.conf import settings

    return settings.STALLED_SWEEP_SECONDS


def runs_held() -> list[tuple[int, str]]:
    """The pipeline runs (asset id, run id) of the tasks this worker is running or has reserved."""
    requests = [*worker_state.active_requests, *worker_state.reserved_requests]
    return sorted({(int(r.args[0]), str(r.args[1])) for r in requests
                   if r.task_name.startswith(PIPELINE_STEP_PREFIX) and len(r.args) == 2})


def broker_uptime(app) -> float:
    """Seconds since the broker (Redis) started: until two heartbeats have passed, live workers may be missing."""
    connection, client = broker_redis(app)
    with connection:
        return float(client.info("server")["uptime_in_seconds"])


def live_workers(app) -> list[dict]:
    """The workers whose heartbeat has not expired."""
    connection, client = broker_redis(app)
    with connection:
        keys = list(client.scan_iter(match=KEY_PREFIX + "*", count=100))
        values = client.mget(keys) if keys else []
    return [json.loads(value) for value in values if value]
