"""publish_outcome against the Service Bus emulator: one event per operation, no secrets, no diagnostics."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient

from activities import events as event_ops
from activities.clients import Clients
from activities.settings import Settings
from connector.errors import ConnectorFailure
from emulators.servicebus import ServiceBusEmulator
from tests.fixtures.servicebus import new_servicebus_queue, servicebus_emulator  # noqa: F401

LINKER = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-demo/providers/"
    "Microsoft.ContainerService/managedClusters/aks-demo-1/providers/Microsoft.ServiceLinker/linkers/blob1"
)


def _clients(emulator: ServiceBusEmulator, queue: str) -> Clients:
    settings = Settings(servicebus_connection=emulator.connection_string, servicebus_events_queue=queue)
    return Clients(settings, sleeper=lambda _: None)


def _receive_all(emulator: ServiceBusEmulator, queue: str) -> list[Any]:
    """Every message on the queue (completed), with its body parsed."""
    found: list[Any] = []
    with ServiceBusClient.from_connection_string(emulator.connection_string) as client, \
            client.get_queue_receiver(queue, max_wait_time=1) as receiver:
        while emulator.message_count(queue):
            for message in receiver.receive_messages(max_message_count=1, max_wait_time=1):
                found.append(message)
                receiver.complete_message(message)
    return found


def _body(message: Any) -> dict[str, Any]:
    return dict(json.loads(b"".join(bytes(part) for part in message.body)))


def test_a_failed_outcome_is_sent_once_with_its_code_and_without_diagnostics(
    servicebus_emulator: ServiceBusEmulator,  # noqa: F811
    new_servicebus_queue: Callable[..., str],  # noqa: F811
) -> None:
    queue = new_servicebus_queue()
    payload = {
        "operationId": "op-123",
        "linkerId": LINKER,
        "kind": "connect",
        "provisioningState": "Failed",
        "error": {
            "code": "AuthorizationFailed",
            "message": "The client cannot perform 'Microsoft.Authorization/roleAssignments/write'.",
            "diagnostics": {"jobLogs": {"lines": "AccountKey=c2VjcmV0"}},
            "mitigation": "Grant the role.",
        },
    }

    result = event_ops.publish_outcome(payload, clients=_clients(servicebus_emulator, queue))

    assert result == {"published": True, "queue": queue, "messageId": "op-123"}
    [message] = _receive_all(servicebus_emulator, queue)
    assert message.message_id == "op-123" and message.subject == "ConnectionOperationCompleted"
    assert message.content_type == "application/json"
    assert _body(message) == {
        "type": "ConnectionOperationCompleted",
        "operationId": "op-123",
        "linkerId": LINKER,
        "kind": "connect",
        "provisioningState": "Failed",
        "code": "AuthorizationFailed",
        "message": "The client cannot perform 'Microsoft.Authorization/roleAssignments/write'.",
    }


def test_a_succeeded_outcome_carries_no_code(
    servicebus_emulator: ServiceBusEmulator,  # noqa: F811
    new_servicebus_queue: Callable[..., str],  # noqa: F811
) -> None:
    queue = new_servicebus_queue()
    payload = {"operationId": "op-9", "linkerId": LINKER, "kind": "disconnect",
               "provisioningState": "Succeeded", "error": None}

    event_ops.publish_outcome(payload, clients=_clients(servicebus_emulator, queue))

    [message] = _receive_all(servicebus_emulator, queue)
    assert _body(message) == {"type": "ConnectionOperationCompleted", "operationId": "op-9",
                              "linkerId": LINKER, "kind": "disconnect", "provisioningState": "Succeeded"}


def test_no_events_queue_means_no_io() -> None:
    # A connection string to a port nobody listens on: any attempt to send would fail.
    unreachable = "Endpoint=sb://127.0.0.1:9/;SharedAccessKeyName=k;SharedAccessKey=x;UseDevelopmentEmulator=true"
    clients = Clients(Settings(servicebus_connection=unreachable), sleeper=lambda _: None)
    payload = {"operationId": "op-1", "linkerId": LINKER, "kind": "connect", "provisioningState": "Succeeded"}

    started = time.monotonic()
    result = event_ops.publish_outcome(payload, clients=clients)

    assert result == {"published": False, "reason": "SERVICEBUS_EVENTS_QUEUE is not set"}
    assert time.monotonic() - started < 0.5


def test_a_missing_events_queue_fails_as_a_classified_error(
    servicebus_emulator: ServiceBusEmulator,  # noqa: F811
) -> None:
    from activities.failures import classified

    payload = {"operationId": "op-2", "linkerId": LINKER, "kind": "connect", "provisioningState": "Succeeded"}
    publish = classified(event_ops.publish_outcome)

    with pytest.raises(ConnectorFailure) as failure:
        publish(payload, clients=_clients(servicebus_emulator, "no-such-queue"))

    assert failure.value.error.code == "EventsQueueNotFound"
    assert failure.value.error.category == "notFound"  # not retried: retrying cannot create the queue
    assert "no-such-queue" in failure.value.error.message
    assert "SharedAccessKey" not in str(failure.value)
