"""Events on the optional SERVICEBUS_EVENTS_QUEUE: the one place that sends them.

Two kinds: `ConnectionOperationCompleted` (the outcome of a connect or disconnect, sent by the orchestrators
through the `publish_outcome` activity) and `ConnectionRequestRejected` (sent by the Service Bus trigger).
An event carries ids, states, codes and messages only: never a secret, never diagnostics (whose Helm values
and job logs may hold anything). The outcome's message id is the operation id, so a consumer (or a queue with
duplicate detection) sees one event per operation even if the activity runs again after a crash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from activities.clients import Clients, get_clients
from connector.errors import Category, ConnectorFailure, make_error, redact

COMPLETED = "ConnectionOperationCompleted"
REJECTED = "ConnectionRequestRejected"
_MESSAGE_LIMIT = 1000


def outcome_event(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The `ConnectionOperationCompleted` event of an operation's outcome (whitelisted fields only)."""
    event: dict[str, Any] = {
        "type": COMPLETED,
        "operationId": str(payload["operationId"]),
        "linkerId": str(payload["linkerId"]),
        "kind": str(payload["kind"]),
        "provisioningState": str(payload["provisioningState"]),
    }
    error = payload.get("error")
    if isinstance(error, Mapping):
        if error.get("code"):
            event["code"] = str(error["code"])
        if error.get("message"):
            event["message"] = redact(str(error["message"]))[:_MESSAGE_LIMIT]
    return event


def send_event(
    queue: str, event: Mapping[str, Any], *, message_id: str | None = None, clients: Clients | None = None
) -> None:
    """Send one JSON event to `queue` with the Service Bus client built from SERVICEBUS_CONNECTION."""
    from azure.servicebus import ServiceBusMessage

    clients = clients or get_clients()
    message = ServiceBusMessage(
        json.dumps(dict(event), sort_keys=True),
        content_type="application/json",
        subject=str(event.get("type")),
        message_id=message_id,
        correlation_id=str(event.get("operationId") or event.get("messageId") or "") or None,
    )
    with clients.servicebus() as client, client.get_queue_sender(queue) as sender:
        sender.send_messages(message)


def publish_outcome(payload: Mapping[str, Any], *, clients: Clients | None = None) -> dict[str, Any]:
    """Send the outcome event of an operation; no I/O at all when SERVICEBUS_EVENTS_QUEUE is empty."""
    clients = clients or get_clients()
    queue = clients.settings.servicebus_events_queue
    event = outcome_event(payload)
    if not queue:
        return {"published": False, "reason": "SERVICEBUS_EVENTS_QUEUE is not set"}
    from azure.servicebus.exceptions import (
        MessagingEntityNotFoundError,
        ServiceBusAuthenticationError,
        ServiceBusAuthorizationError,
    )

    try:
        send_event(queue, event, message_id=event["operationId"], clients=clients)
    except MessagingEntityNotFoundError:
        # Retrying cannot create the queue: fail at once, naming the setting to fix.
        raise ConnectorFailure(make_error(
            Category.NOT_FOUND, "EventsQueueNotFound",
            f"The events queue '{queue}' (SERVICEBUS_EVENTS_QUEUE) does not exist in the namespace of "
            "SERVICEBUS_CONNECTION.", resource=queue,
        )) from None
    except (ServiceBusAuthenticationError, ServiceBusAuthorizationError) as denied:
        raise ConnectorFailure(make_error(
            Category.UNAUTHORIZED, "EventsQueueUnauthorized",
            f"Sending to the events queue '{queue}' was refused ({type(denied).__name__}); the app needs "
            "the Azure Service Bus Data Sender role on it.", resource=queue,
        )) from None
    return {"published": True, "queue": queue, "messageId": event["operationId"]}
