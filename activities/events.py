"""Events on the optional SERVICEBUS_EVENTS_QUEUE: the one place that sends them.

Two kinds: `ConnectionOperationCompleted` (the outcome of a connect or disconnect, sent by the orchestrators
through the `publish_outcome` activity) and `ConnectionRequestRejected` (sent by the Service Bus trigger).
An event carries ids, states, codes and messages only: never a secret, never diagnostics (whose Helm values
and job logs may hold anything). The outcome's message id is the operation id, so a consumer (or a queue with
duplicate detection) sees one event per operation even if the activity runs again after a crash.

Events go through one long-lived sender per queue and worker process (`Clients.servicebus_sender`): opening
a client and a sender per event cost about a second each (a connection, then a thread join on close) and held
an activity slot meanwhile. A send that fails on a broken link (the namespace restarted, a connection
dropped) is retried once on a fresh sender before it fails.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from activities.clients import Clients, get_clients
from connector.errors import Category, ConnectorFailure, make_error, redact
from telemetry import log as log_record

COMPLETED = "ConnectionOperationCompleted"
REJECTED = "ConnectionRequestRejected"
_MESSAGE_LIMIT = 1000
_LOG = logging.getLogger(__name__)


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
    """Send one JSON event to `queue` on the process's long-lived sender (SERVICEBUS_CONNECTION)."""
    from azure.servicebus import ServiceBusMessage
    from azure.servicebus.exceptions import ServiceBusCommunicationError, ServiceBusConnectionError

    clients = clients or get_clients()
    message = ServiceBusMessage(
        json.dumps(dict(event), sort_keys=True),
        content_type="application/json",
        subject=str(event.get("type")),
        message_id=message_id,
        correlation_id=str(event.get("operationId") or event.get("messageId") or "") or None,
    )
    try:
        with clients.servicebus_sender(queue) as sender:
            sender.send_messages(message)
    except (ServiceBusConnectionError, ServiceBusCommunicationError) as broken:
        # The kept sender's link was dropped since its last use; the failed sender is gone, and a fresh
        # one opens a new connection. A second failure means the namespace is unreachable: raise it.
        log_record(
            logging.INFO,
            "event send failed on a broken link; retrying once on a fresh sender",
            queue=queue,
            error_code=type(broken).__name__,
        )
        with clients.servicebus_sender(queue) as sender:
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
        raise ConnectorFailure(
            make_error(
                Category.NOT_FOUND,
                "EventsQueueNotFound",
                f"The events queue '{queue}' (SERVICEBUS_EVENTS_QUEUE) does not exist in the namespace of "
                "SERVICEBUS_CONNECTION.",
                resource=queue,
            )
        ) from None
    except (ServiceBusAuthenticationError, ServiceBusAuthorizationError) as denied:
        raise ConnectorFailure(
            make_error(
                Category.UNAUTHORIZED,
                "EventsQueueUnauthorized",
                f"Sending to the events queue '{queue}' was refused ({type(denied).__name__}); the app needs "
                "the Azure Service Bus Data Sender role on it.",
                resource=queue,
            )
        ) from None
    return {"published": True, "queue": queue, "messageId": event["operationId"]}
