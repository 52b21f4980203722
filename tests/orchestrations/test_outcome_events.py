"""connect and disconnect end by publishing their outcome; a failure to publish does not change it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient

from activities.clients import Clients, use_clients
from activities.settings import Settings
from emulators.servicebus import ServiceBusEmulator
from tests.fixtures.servicebus import new_servicebus_queue, servicebus_emulator  # noqa: F401
from tests.orchestrations.conftest import BLOB, POLICY, REF_1, Env, secret_connection, workload_connection


def _events_to(env: Env, monkeypatch: pytest.MonkeyPatch, emulator: ServiceBusEmulator, queue: str) -> None:
    """Point the activities at an events queue (as the app settings would)."""
    monkeypatch.setenv("SERVICEBUS_CONNECTION", emulator.connection_string)
    monkeypatch.setenv("SERVICEBUS_EVENTS_QUEUE", queue)
    use_clients(Clients(Settings.from_env(), sleeper=lambda _: None))


def _received(emulator: ServiceBusEmulator, queue: str) -> list[tuple[str, dict[str, Any]]]:
    """(message id, body) of every message on the queue."""
    found = []
    with (
        ServiceBusClient.from_connection_string(emulator.connection_string) as client,
        client.get_queue_receiver(queue, max_wait_time=1) as receiver,
    ):
        while emulator.message_count(queue):
            for message in receiver.receive_messages(max_message_count=1, max_wait_time=1):
                found.append((str(message.message_id), json.loads(b"".join(bytes(p) for p in message.body))))
                receiver.complete_message(message)
    return found


@pytest.fixture
def events(
    env: Env,
    monkeypatch: pytest.MonkeyPatch,
    servicebus_emulator: ServiceBusEmulator,  # noqa: F811
    new_servicebus_queue: Callable[..., str],  # noqa: F811
) -> Callable[[], list[tuple[str, dict[str, Any]]]]:
    """An events queue for this test; calling the result drains it."""
    queue = new_servicebus_queue()
    _events_to(env, monkeypatch, servicebus_emulator, queue)
    return lambda: _received(servicebus_emulator, queue)


def test_a_connection_ends_with_one_succeeded_event(
    env: Env, events: Callable[[], list[tuple[str, dict[str, Any]]]]
) -> None:
    linker_id = env.put_connection(secret_connection())
    run = env.run(
        "connect",
        {"linkerId": linker_id, "operationId": "op-event-1", "policy": POLICY},
        instance_id="op-event-1",
    )

    assert run.output["provisioningState"] == "Succeeded"
    assert run.output["event"]["published"] is True
    assert events() == [
        (
            "op-event-1",
            {
                "type": "ConnectionOperationCompleted",
                "operationId": "op-event-1",
                "linkerId": linker_id,
                "kind": "connect",
                "provisioningState": "Succeeded",
            },
        )
    ]


def test_a_403_on_the_role_assignment_ends_with_a_failed_event_with_its_code(
    env: Env, events: Callable[[], list[tuple[str, dict[str, Any]]]]
) -> None:
    action = "Microsoft.Authorization/roleAssignments/write"
    env.arm.admin.call("POST", "/arm/deny", {"action": action, "scope": BLOB, "method": "PUT"})
    linker_id = env.put_connection(workload_connection(env, cluster=REF_1))
    run = env.run("connect", {"linkerId": linker_id, "operationId": "op-denied", "policy": POLICY})

    assert run.output["provisioningState"] == "Failed"
    [(message_id, event)] = events()
    assert message_id == "op-denied"
    assert event["provisioningState"] == "Failed" and event["kind"] == "connect"
    assert event["code"] == "AuthorizationFailed" and action in event["message"]
    assert set(event) == {"type", "operationId", "linkerId", "kind", "provisioningState", "code", "message"}


def test_a_disconnect_ends_with_a_disconnect_event(
    env: Env, events: Callable[[], list[tuple[str, dict[str, Any]]]]
) -> None:
    linker_id = env.put_connection(secret_connection())
    env.connect(linker_id)
    events()
    run = env.run("disconnect", {"linkerId": linker_id, "operationId": "op-gone", "policy": POLICY})

    assert run.output["provisioningState"] == "Succeeded"
    sent = [(m, e["kind"], e["provisioningState"]) for m, e in events()]
    assert sent == [("op-gone", "disconnect", "Succeeded")]


def test_a_failure_to_publish_leaves_the_connection_succeeded_and_says_so(
    env: Env,
    monkeypatch: pytest.MonkeyPatch,
    servicebus_emulator: ServiceBusEmulator,  # noqa: F811
) -> None:
    _events_to(env, monkeypatch, servicebus_emulator, "no-such-queue")
    linker_id = env.put_connection(secret_connection())
    run = env.connect(linker_id)

    assert run.status["runtimeStatus"] == "Completed"
    assert run.output["provisioningState"] == "Succeeded" and run.output["error"] is None
    assert run.output["event"]["published"] is False
    assert run.output["event"]["error"]["code"] == "EventsQueueNotFound"
    assert {k: run.status["customStatus"][k] for k in ("step", "attempt", "detail")} == {
        "step": "done",
        "attempt": 0,
        "detail": "Succeeded; outcome event not sent: EventsQueueNotFound",
    }
    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == "Succeeded"
