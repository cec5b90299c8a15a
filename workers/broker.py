"""What the broker (Redis) holds: the queues' depths (the operations page, /metrics) and which pipeline runs
still have a message that will carry them on (the stalled-asset sweep, workers/recovery.py).

kombu's Redis transport keeps a queue as a list under the queue's name (a priority above 0 in
`<queue>\\x06\\x16<priority>`), and a message delivered to a worker but not yet acknowledged in the hash
`unacked` (its delivery time in the sorted set `unacked_index`). A delivered message is alive while its worker
is: live workers list the runs they hold in their heartbeat (workers/heartbeat.py); one delivered moments ago
counts as alive until its worker's next heartbeat could have named it.
"""

from __future__ import annotations

import base64
import json
import time

from kombu.transport.redis import PRIORITY_STEPS

from workers.heartbeat import INTERVAL_SECONDS, PIPELINE_STEP_PREFIX, broker_redis, broker_uptime, live_workers

PRIORITY_SEPARATOR = "\x06\x16"
UNACKED, UNACKED_INDEX = "unacked", "unacked_index"


def queue_depths(app, queues: tuple[str, ...]) -> dict[str, int]:
    """Messages waiting in each queue (not those a worker holds); raises when the broker does not answer in 2 s."""
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        channel = connection.default_channel
        # kombu's size of a virtual queue: on Redis the lengths of its priority lists, in one round trip.
        return {name: channel._size(name) for name in queues}


def message_run(message: dict) -> tuple[int, str] | None:
    """(asset id, run id) of a pipeline step's message (a task taking exactly those two), else None."""
    try:
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        if message["headers"]["task"].startswith(PIPELINE_STEP_PREFIX) and len(args) == 2:
            return int(args[0]), str(args[1])
    except (ValueError, KeyError, IndexError, TypeError):
        pass
    return None


def runs_queued(client, queues: tuple[str, ...]) -> set[tuple[int, str]]:
    """Runs with a message waiting in one of `queues`."""
    names = [queue if not step else f"{queue}{PRIORITY_SEPARATOR}{step}" for queue in queues for step in PRIORITY_STEPS]
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.lrange(name, 0, -1)
    return {run for messages in pipe.execute() for raw in messages if (run := message_run(json.loads(raw)))}


def runs_delivered_since(client, seconds: float) -> set[tuple[int, str]]:
    """Runs whose message was delivered to a worker within the last `seconds` and is not yet acknowledged."""
    tags = client.zrangebyscore(UNACKED_INDEX, time.time() - seconds, "+inf")
    raws = client.hmget(UNACKED, tags) if tags else []
    return {run for raw in raws if raw and (run := message_run(json.loads(raw)[0]))}  # [message, exchange, key]


def runs_carried(app, queues: tuple[str, ...]) -> set[tuple[int, str]] | None:
    """Every run something will carry on: a queued message, a live worker's (per its heartbeat), or a message
    delivered too recently for its worker to have named it. None while the broker is too freshly started for
    the live workers to have announced theirs."""
    recent = 2 * INTERVAL_SECONDS
    if broker_uptime(app) < recent:
        return None
    held = {(int(asset_id), str(run_id)) for worker in live_workers(app) for asset_id, run_id in worker.get("runs", [])}
    connection, client = broker_redis(app)
    with connection:
        return held | runs_queued(client, queues) | runs_delivered_since(client, recent)
