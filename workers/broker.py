"""What waits in the broker: the queues' depths, read at once (the operations page, /metrics)."""

from __future__ import annotations


def queue_depths(app, queues: tuple[str, ...]) -> dict[str, int]:
    """Messages waiting in each queue (not those a worker holds); raises when the broker does not answer in 2 s."""
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        channel = connection.default_channel
        # kombu's size of a virtual queue: on Redis the lengths of its priority lists, in one round trip.
        return {name: channel._size(name) for name in queues}
