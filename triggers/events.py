"""Events about requests, sent to the optional SERVICEBUS_EVENTS_QUEUE.

The trigger sends only *rejections* of queue requests (a body that cannot be accepted), because the request
message itself is completed rather than retried: retrying a malformed body can never succeed. Outcomes of
accepted requests are sent by the orchestrators (activity `publish_outcome`). Both go through
`activities.events.send_event`, the one place that sends events, and so through the same long-lived sender
per queue and process (the process-wide `Clients`). Events carry ids, codes and messages only.
"""

from __future__ import annotations

import asyncio
from typing import Any

from activities.events import REJECTED, send_event

__all__ = ["REJECTED", "publish"]


async def publish(queue: str, event: dict[str, Any]) -> None:
    """Send one event to `queue` on the process's kept sender (nothing when the queue is not configured)."""
    if not queue:
        return
    await asyncio.to_thread(send_event, queue, event)
