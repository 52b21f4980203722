"""publish_outcome against the Service Bus emulator: one event per operation, no secrets, no diagnostics,
through one long-lived sender that is replaced when its link breaks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
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


_opened: list[Clients] = []


def _clients(emulator: ServiceBusEmulator, queue: str) -> Clients:
    settings = Settings(servicebus_connection=emulator.connection_string, servicebus_events_queue=queue)
    clients = Clients(settings, sleeper=lambda _: None)
    _opened.append(clients)
    return clients


@pytest.fixture(autouse=True)
def _close_senders() -> Iterator[None]:
    """Close the long-lived senders a test opened, so that no connection outlives its test."""
    yield
    while _opened:
        _opened.pop().close_servicebus()


def _outcome(operation_id: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "linkerId": LINKER,
        "kind": "connect",
        "provisioningState": "Succeeded",
    }


def _receive_all(emulator: ServiceBusEmulator, queue: str) -> list[Any]:
    """Every message on the queue (completed), with its body parsed."""
    found: list[Any] = []
    with (
        ServiceBusClient.from_connection_string(emulator.connection_string) as client,
        client.get_queue_receiver(queue, max_wait_time=1) as receiver,
    ):
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
    payload = {
        "operationId": "op-9",
        "linkerId": LINKER,
        "kind": "disconnect",
        "provisioningState": "Succeeded",
        "error": None,
    }

    event_ops.publish_outcome(payload, clients=_clients(servicebus_emulator, queue))

    [message] = _receive_all(servicebus_emulator, queue)
    assert _body(message) == {
        "type": "ConnectionOperationCompleted",
        "operationId": "op-9",
        "linkerId": LINKER,
        "kind": "disconnect",
        "provisioningState": "Succeeded",
    }


def test_no_events_queue_means_no_io() -> None:
    # A connection string to a port nobody listens on: any attempt to send would fail.
    unreachable = (
        "Endpoint=sb://127.0.0.1:9/;SharedAccessKeyName=k;SharedAccessKey=x;UseDevelopmentEmulator=true"
    )
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


def test_events_in_a_row_all_arrive_through_one_connection(
    servicebus_emulator: ServiceBusEmulator,  # noqa: F811
    new_servicebus_queue: Callable[..., str],  # noqa: F811
) -> None:
    queue = new_servicebus_queue()
    clients = _clients(servicebus_emulator, queue)
    opened_before = servicebus_emulator.connections_opened

    for index in range(20):
        event_ops.publish_outcome(_outcome(f"op-row-{index}"), clients=clients)

    # Counted before receiving: the test's receiver opens a connection of its own.
    assert servicebus_emulator.connections_opened - opened_before == 1
    received = _receive_all(servicebus_emulator, queue)
    assert [m.message_id for m in received] == [f"op-row-{index}" for index in range(20)]


def test_events_from_concurrent_activities_share_the_sender(
    servicebus_emulator: ServiceBusEmulator,  # noqa: F811
    new_servicebus_queue: Callable[..., str],  # noqa: F811
) -> None:
    queue = new_servicebus_queue()
    clients = _clients(servicebus_emulator, queue)
    opened_before = servicebus_emulator.connections_opened
    ids = [f"op-par-{index}" for index in range(40)]

    with ThreadPoolExecutor(max_workers=8) as pool:  # as many threads as the activity slots send from
        results = list(pool.map(lambda op: event_ops.publish_outcome(_outcome(op), clients=clients), ids))

    assert all(r["published"] for r in results)
    assert servicebus_emulator.connections_opened - opened_before == 1
    assert sorted(m.message_id for m in _receive_all(servicebus_emulator, queue)) == sorted(ids)


def test_a_sender_whose_link_broke_is_replaced_and_the_next_event_arrives() -> None:
    queue = "events"
    first = ServiceBusEmulator([queue]).start()
    clients = _clients(first, queue)
    event_ops.publish_outcome(_outcome("op-before"), clients=clients)
    assert first.message_count(queue) == 1
    port = first.port
    first.stop()  # the namespace goes away, closing the kept sender's connection

    with ServiceBusEmulator([queue], port=port) as restarted:
        result = event_ops.publish_outcome(_outcome("op-after"), clients=clients)

        assert result == {"published": True, "queue": queue, "messageId": "op-after"}
        assert restarted.connections_opened == 1  # a fresh sender, kept for what follows
        event_ops.publish_outcome(_outcome("op-next"), clients=clients)
        assert restarted.connections_opened == 1
        assert [m.message_id for m in _receive_all(restarted, queue)] == ["op-after", "op-next"]
