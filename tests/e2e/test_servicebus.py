"""Connection requests through the Service Bus queue: create, duplicate delivery, rejection with a reason."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage

from tests.e2e.conftest import API, BLOB, CLUSTER, E2E

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
pytestmark = [pytest.mark.servicebus, pytest.mark.both_connections]


def _send(e2e: E2E, body: Any, message_id: str) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with (
        ServiceBusClient.from_connection_string(e2e.servicebus.connection_string) as client,
        client.get_queue_sender(e2e.requests_queue) as sender,
    ):
        sender.send_messages(ServiceBusMessage(raw, message_id=message_id, content_type="application/json"))


def _events(e2e: E2E, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    with (
        ServiceBusClient.from_connection_string(e2e.servicebus.connection_string) as client,
        client.get_queue_receiver(e2e.events_queue, max_wait_time=1) as receiver,
    ):
        while len(found) < count and time.monotonic() < deadline:
            for message in receiver.receive_messages(max_message_count=10, max_wait_time=1):
                found.append(json.loads(b"".join(bytes(part) for part in message.body)))
                receiver.complete_message(message)
    return found


def _wait_for_linker(e2e: E2E, name: str, state: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = e2e.http("GET", f"{LINKERS}/{name}?api-version={API}")
        if status == 200 and body["properties"].get("provisioningState") == state:
            return dict(body)
        assert time.monotonic() < deadline, (status, body)
        time.sleep(0.1)


def _connect_instances(e2e: E2E) -> list[dict[str, Any]]:
    instances = e2e.host.run(e2e.host.host.engine.list_instances())
    return [i for i in instances if i.get("name") == "connect"]


def _request(name: str, client_type: str = "python") -> dict[str, Any]:
    return {
        "id": f"{LINKERS}/{name}",
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "authInfo": {"authType": "secret"},
            "clientType": client_type,
            "scope": "default",
        },
    }


def _wait_for_failed_delivery(caplog: pytest.LogCaptureFixture, timeout: float = 20) -> None:
    """Wait until the host reports a failed run of the queue trigger (it abandons the message: redelivery)."""
    deadline = time.monotonic() + timeout
    failed = "Executed 'Functions.connection_request' (Failed"
    while not any(r.getMessage().startswith(failed) for r in caplog.records):
        assert time.monotonic() < deadline, "no delivery failed"
        time.sleep(0.05)


def _queue_drained(e2e: E2E, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while e2e.servicebus.message_count(e2e.requests_queue) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert e2e.servicebus.message_count(e2e.requests_queue) == 0


def test_a_message_creates_a_connection(e2e: E2E) -> None:
    _send(e2e, _request("sbconn"), "msg-create-1")

    linker = _wait_for_linker(e2e, "sbconn", "Succeeded")

    assert linker["properties"]["targetService"]["id"] == BLOB
    # Who asked, as ARM's systemData names it: an application that sends to the requests queue.
    assert (linker["systemData"]["createdByType"], linker["systemData"]["lastModifiedByType"]) == (
        "Application",
        "Application",
    )
    assert e2e.kube_secret(CLUSTER, "default", "sc-sbconn-secret") is not None
    _queue_drained(e2e)
    assert e2e.servicebus.dead_letter_count(e2e.requests_queue) == 0


def test_the_same_message_delivered_twice_gives_one_operation(e2e: E2E) -> None:
    _send(e2e, _request("twice"), "msg-dup-1")
    _wait_for_linker(e2e, "twice", "Succeeded")

    _send(e2e, _request("twice"), "msg-dup-1")
    # Drained means completed (the count includes locked messages), and the host completes a message only
    # after the function returned: a (wrong) second operation would already be in the engine's list.
    _queue_drained(e2e)

    assert len(_connect_instances(e2e)) == 1
    # A new message with the same body is a new request: a second operation.
    _send(e2e, _request("twice"), "msg-dup-2")
    deadline = time.monotonic() + 20
    while len(_connect_instances(e2e)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_invalid_messages_are_settled_with_a_reason_and_create_nothing(e2e: E2E) -> None:
    bad_client_id = _request("badsb")
    bad_client_id["properties"]["authInfo"] = {
        "authType": "userAssignedIdentity",
        "clientId": "nope",
        "subscriptionId": CLUSTER.split("/")[2],
    }
    outside = _request("outside")
    outside["id"] = outside["id"].replace(
        "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-0000000000ff"
    )
    _send(e2e, b"{not json", "msg-bad-1")
    _send(e2e, bad_client_id, "msg-bad-2")
    _send(e2e, outside, "msg-bad-3")

    events = {e["messageId"]: e for e in _events(e2e, 3)}

    assert events["msg-bad-1"]["code"] == "InvalidRequestBody"
    assert events["msg-bad-2"]["code"] == "InvalidFieldValue"
    assert events["msg-bad-2"]["target"] == "properties.authInfo.clientId"
    assert events["msg-bad-2"]["linkerId"] == f"{LINKERS}/badsb"
    assert events["msg-bad-3"]["code"] == "AuthorizationFailed"
    assert {e["type"] for e in events.values()} == {"ConnectionRequestRejected"}
    _queue_drained(e2e)
    assert e2e.servicebus.dead_letter_count(e2e.requests_queue) == 0  # settled, not retried to death
    assert e2e.http("GET", f"{LINKERS}?api-version={API}")[2]["value"] == []
    assert _connect_instances(e2e) == []


def test_a_delete_message_deletes(e2e: E2E) -> None:
    _send(e2e, _request("gone"), "msg-del-1")
    _wait_for_linker(e2e, "gone", "Succeeded")

    _send(e2e, {"id": f"{LINKERS}/gone", "operation": "delete"}, "msg-del-2")

    deadline = time.monotonic() + 20
    while e2e.http("GET", f"{LINKERS}/gone?api-version={API}")[0] != 404:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_failure_to_start_is_retried_by_redelivery(
    e2e: E2E, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from activities.clients import use_clients

    good_table = os.environ["REGISTRY_TABLE"]
    monkeypatch.setenv("REGISTRY_TABLE", "no-such_table!")  # storage refuses the name: every delivery fails
    use_clients(None)
    _send(e2e, _request("retried"), "msg-retry-1")
    _wait_for_failed_delivery(caplog)
    assert e2e.http("GET", f"{LINKERS}/retried?api-version={API}")[0] != 200
    assert _connect_instances(e2e) == []

    monkeypatch.setenv("REGISTRY_TABLE", good_table)
    use_clients(None)

    _wait_for_linker(e2e, "retried", "Succeeded")
    assert len(_connect_instances(e2e)) == 1
    _queue_drained(e2e)
    assert e2e.servicebus.dead_letter_count(e2e.requests_queue) == 0
