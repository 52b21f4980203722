"""Operation status bodies for outcomes the end-to-end flows rarely reach (crashes, classified text)."""

from __future__ import annotations

from typing import Any

from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from connector.errors import Category, make_error
from triggers.arm_format import operation_status_body

LINKER = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/"
    "Microsoft.ContainerService/managedClusters/c/providers/Microsoft.ServiceLinker/linkers/l"
)


def _status(runtime: str, output: Any, name: str = "connect") -> DurableOrchestrationStatus:
    return DurableOrchestrationStatus.from_json(
        {
            "name": name,
            "instanceId": "op-1",
            "runtimeStatus": runtime,
            "output": output,
            "input": {"linkerId": LINKER},
            "createdTime": "2026-01-01T00:00:00Z",
            "lastUpdatedTime": "2026-01-01T00:01:00Z",
        }
    )


def test_an_unclassified_crash_is_failed_without_echoing_its_text() -> None:
    body = operation_status_body(_status("Failed", "KeyError: 'password=hunter2'"), "op-1", "s")
    assert body["status"] == "Failed"
    assert body["error"]["code"] == "InternalServerError"
    assert "hunter2" not in str(body)


def test_a_classified_failure_text_keeps_code_and_mitigation() -> None:
    error = make_error(Category.NOT_FOUND, "TargetNotFound", "The target is gone.", resource=LINKER)
    text = "Orchestrator failed: " + error.to_failure_text()
    body = operation_status_body(_status("Failed", text), "op-1", "s")
    assert body["error"]["code"] == "TargetNotFound"
    assert "Mitigation:" in body["error"]["message"]
    assert body["resourceId"] == LINKER
    assert body["endTime"] == "2026-01-01T00:01:00Z"


def test_running_delete_reads_deleting() -> None:
    body = operation_status_body(_status("Running", None, name="disconnect"), "op-1", "s")
    assert body["status"] == "Deleting"
    assert "endTime" not in body


def test_a_reconcile_that_could_not_read_the_registry_is_failed() -> None:
    error = make_error(Category.TRANSIENT, "RegistryUnavailable", "The registry did not answer.")
    output = {
        "slot": "manual:op-1",
        "clusters": 0,
        "connections": 0,
        "drifted": 0,
        "repaired": 0,
        "failed": 0,
        "details": [],
        "error": error.to_dict(),
    }
    body = operation_status_body(_status("Completed", output, name="reconcile"), "op-1", "s")
    assert body["status"] == "Failed"
    assert body["error"]["code"] == "RegistryUnavailable"


def test_a_reconcile_that_ran_is_succeeded_with_its_summary() -> None:
    output = {
        "slot": "manual:op-1",
        "clusters": 1,
        "connections": 2,
        "drifted": 1,
        "repaired": 1,
        "failed": 0,
        "details": [{"clusterId": "c", "error": None}],
    }
    body = operation_status_body(_status("Completed", output, name="reconcile"), "op-1", "s")
    assert body["status"] == "Succeeded"
    assert body["properties"]["repaired"] == 1


def test_a_succeeded_connect_has_empty_properties_as_arm_answers() -> None:
    output = {"linkerId": "/x", "provisioningState": "Succeeded", "error": None}
    body = operation_status_body(_status("Completed", output), "op", "sub")
    assert body["status"] == "Succeeded"
    assert body["properties"] == {}
