"""Events about requests, sent to the optional SERVICEBUS_EVENTS_QUEUE.

The trigger sends only *rejections* of queue requests (a body that cannot be accepted), because the request
message itself is completed rather than retried: retrying a malformed body can never succeed. The client is
built by `activities.clients` (the one place that builds clients). Events carry ids, codes and messages only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from activities.clients import get_clients

_LOG = logging.getLogger(__name__)
REJECTED = "ConnectionRequestRejected"


def _send(queue: str, event: dict[str, Any]) -> None:
    from azure.servicebus import ServiceBusMessage

    with get_clients().servicebus() as client, client.get_queue_sender(queue) as sender:
        sender.send_messages(
            ServiceBusMessage(
                json.dumps(event),
                content_type="application/json",
                subject=str(event.get("type")),
                correlation_id=str(event.get("messageId") or ""),
            )
        )


async def publish(queue: str, event: dict[str, Any]) -> None:
    """Send one event to `queue` (nothing when the queue is not configured)."""
    if not queue:
        return
    await asyncio.to_thread(_send, queue, event)
