"""Recovery from faults (README, "Faults"): the stalled-asset sweep.

A pipeline run is carried on by exactly one message at a time: waiting in a queue, or delivered to a worker
that runs it and then publishes the next step. A broker restart without persistence drops the waiting ones;
a worker killed outright (or stopped past its grace) holds its message unacknowledged until the broker's
visibility timeout (hours); a step whose next publish failed because the broker was down has none left.
The sweep finds unfinished assets whose run nothing carries and that have not moved for STALLED_AFTER
seconds, and starts them again (a new run: the old one, should its message turn up, stops at its next step).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings

from mediahub.assets import selectors as asset_selectors
from mediahub.assets import services as assets
from workers.broker import runs_carried
from workers.celery import QUEUES, app

logger = logging.getLogger(__name__)
RECHECK_SECONDS = 2.0  # a step that just finished publishes its next step within this; look twice


def runs_stalled() -> set[tuple[int, str]]:
    """Unfinished runs idle for STALLED_AFTER seconds that nothing carries on (none while that can't be told)."""
    idle = asset_selectors.runs_unfinished_idle(idle_for=timedelta(seconds=settings.STALLED_AFTER_SECONDS))
    if not idle:
        return set()
    carried = runs_carried(app, QUEUES)
    return set() if carried is None else idle - carried


@app.task(name="workers.tasks.assets_requeue_stalled", ignore_result=True, acks_late=True)
def assets_requeue_stalled() -> None:
    stalled = runs_stalled()
    if stalled:
        time.sleep(RECHECK_SECONDS)
        stalled &= runs_stalled()
    requeued = assets.assets_requeue_stalled(runs=stalled)
    if requeued:
        logger.warning("started %d stalled asset(s) again (nothing carried their run on): %s",
                       len(requeued), sorted(requeued))
