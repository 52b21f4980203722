"""Through the API: outcome events, an update that moves a linker, and a stopped operation's linker state."""

from __future__ import annotations

import json
import time
from typing import Any

from azure.servicebus import ServiceBusClient

from activities import registry
from tests.e2e.conftest import API, BLOB, CLUSTER, E2E

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"


def _body(scope: str = "default", client_type: str = "python") -> dict[str, Any]:
    return {
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "authInfo": {"authType": "secret"},
            "clientType": client_type,
            "scope": scope,
        }
    }


def _operation_url(headers: dict[str, str]) -> str:
    return headers["Azure-AsyncOperation"]


def _operation_id(headers: dict[str, str]) -> str:
    return _operation_url(headers).split("/operationStatuses/")[1].split("?")[0]


def _events(e2e: E2E, settle: float = 1.0) -> list[tuple[str, dict[str, Any]]]:
    """(message id, body) of every event on the events queue, waiting `settle` s for late ones."""
    found: list[tuple[str, dict[str, Any]]] = []
    with (
        ServiceBusClient.from_connection_string(e2e.servicebus.connection_string) as client,
        client.get_queue_receiver(e2e.events_queue, max_wait_time=settle) as receiver,
    ):
        while True:
            batch = receiver.receive_messages(max_message_count=10, max_wait_time=settle)
            if not batch:
                return found
            for message in batch:
                found.append((str(message.message_id), json.loads(b"".join(bytes(p) for p in message.body))))
                receiver.complete_message(message)


def test_a_connection_created_through_the_api_ends_with_one_outcome_event(e2e: E2E) -> None:
    status, headers, _ = e2e.http("PUT", f"{LINKERS}/evented?api-version={API}", _body())
    assert status == 201
    assert e2e.wait_operation(_operation_url(headers))["status"] == "Succeeded"

    operation_id = _operation_id(headers)
    assert _events(e2e) == [
        (
            operation_id,
            {
                "type": "ConnectionOperationCompleted",
                "operationId": operation_id,
                "linkerId": f"{LINKERS}/evented",
                "kind": "connect",
                "provisioningState": "Succeeded",
            },
        )
    ]


def test_moving_a_linker_to_another_namespace_leaves_no_secret_behind(e2e: E2E) -> None:
    _, created, _ = e2e.http("PUT", f"{LINKERS}/mover?api-version={API}", _body("default"))
    assert e2e.wait_operation(_operation_url(created))["status"] == "Succeeded"
    assert e2e.kube_secret(CLUSTER, "default", "sc-mover-secret") is not None

    patch = {"properties": {"scope": "apps"}}
    status, moved, _ = e2e.http("PATCH", f"{LINKERS}/mover?api-version={API}", patch)
    assert status in (200, 201)
    assert e2e.wait_operation(_operation_url(moved))["status"] == "Succeeded"

    assert e2e.kube_secret(CLUSTER, "default", "sc-mover-secret") is None
    moved_secret = e2e.kube_secret(CLUSTER, "apps", "sc-mover-secret")
    assert moved_secret is not None and "AZURE_STORAGEBLOB_CONNECTIONSTRING" in moved_secret
    linker = e2e.http("GET", f"{LINKERS}/mover?api-version={API}")[2]
    assert linker["properties"]["scope"] == "apps"
    assert linker["properties"]["provisioningState"] == "Succeeded"


def _stopped_operation(e2e: E2E, name: str) -> dict[str, str]:
    """A PUT whose operation is terminated while it waits on a slow cluster read; its response headers."""
    e2e.arm.admin.add_fault(r".*/managedClusters/aks-demo-1$", method="GET", latency=1.5, times=1)
    status, headers, _ = e2e.http("PUT", f"{LINKERS}/{name}?api-version={API}", _body())
    assert status == 201
    e2e.host.run(e2e.host.host.engine.terminate(_operation_id(headers), "operator stopped it"))
    return headers


def test_a_terminated_operation_leaves_the_linker_canceled_and_the_status_agrees(e2e: E2E) -> None:
    headers = _stopped_operation(e2e, "halted")

    linker = e2e.http("GET", f"{LINKERS}/halted?api-version={API}")[2]
    assert linker["properties"]["provisioningState"] == "Canceled"
    listed = {item["name"]: item for item in e2e.http("GET", f"{LINKERS}?api-version={API}")[2]["value"]}
    assert listed["halted"]["properties"]["provisioningState"] == "Canceled"
    assert e2e.wait_operation(_operation_url(headers))["status"] == "Canceled"


def test_reading_a_terminated_operation_settles_the_linker_record(e2e: E2E) -> None:
    headers = _stopped_operation(e2e, "halted2")

    assert e2e.wait_operation(_operation_url(headers))["status"] == "Canceled"

    # The status read alone wrote it: the registry (what GET, reconcile and diagnostics read) says Canceled.
    record = registry.get_record(f"{LINKERS}/halted2")
    assert record is not None and record["provisioningState"] == "Canceled"
    assert record["lastError"]["code"] == "OperationCanceled"


def test_a_linker_that_reads_succeeded_takes_the_next_request_at_once(e2e: E2E) -> None:
    # The outcome event is sent after the record says Succeeded; that last step must not hold the linker.
    e2e.http("PUT", f"{LINKERS}/nextup?api-version={API}", _body())
    deadline = time.monotonic() + 30
    while e2e.http("GET", f"{LINKERS}/nextup?api-version={API}")[2]["properties"]["provisioningState"] != (
        "Succeeded"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    status, _, body = e2e.http("DELETE", f"{LINKERS}/nextup?api-version={API}")

    assert status == 202, body
