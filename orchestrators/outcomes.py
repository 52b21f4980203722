"""How a connection operation ends: its output, the Failed record, and the outcome event.

The event is the last step of `connect` and `disconnect`. Sending it cannot change the outcome: a queue that
is unreachable or missing leaves the connection as it is, and the failure shows in the custom status
(`done`, "... outcome event not sent: <code>") and in the output's `event`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from connector.boundary import Activity
from connector.errors import ConnectorError
from orchestrators.flow import Flow, OrchestrationFailure, Steps, failure_of
from orchestrators.policy import Policy
from telemetry import operation_completed

LinkerSteps = Callable[[Flow, str, dict[str, Any]], Steps]


def outcome(linker_id: str, error: ConnectorError | None) -> dict[str, Any]:
    """The orchestration output for a linker: Succeeded, or Failed with the classified error."""
    return {
        "linkerId": linker_id,
        "provisioningState": "Failed" if error else "Succeeded",
        "error": error.to_dict() if error else None,
    }


def record_failure(flow: Flow, linker_id: str, error: ConnectorError) -> Steps:
    """Write Failed with the error on the linker's record (a record that vanished is left alone)."""
    flow.status("record", 0, f"Failed: {error.code}")
    with contextlib.suppress(OrchestrationFailure):
        yield from flow.call(
            Activity.REGISTRY_UPDATE_STATUS,
            {"linkerId": linker_id, "provisioningState": "Failed", "lastError": error.to_dict()},
        )


def operation_id_of(context: Any, data: dict[str, Any]) -> str:
    """The operation id from the input (the trigger sets it), else the instance id (they are equal)."""
    return str(data.get("operationId") or context.instance_id)


def announce(flow: Flow, kind: str, operation_id: str, result: dict[str, Any]) -> Steps:
    """Publish the outcome event; the output with `event` added (a failure to publish is not fatal)."""
    state = str(result["provisioningState"])
    error = result.get("error") or {}
    payload = {
        "operationId": operation_id,
        "linkerId": result["linkerId"],
        "kind": kind,
        "provisioningState": state,
        # Code and message only: diagnostics (Helm values, job logs) never leave in an event.
        "error": {"code": error.get("code"), "message": error.get("message")} if error else None,
    }
    flow.status("publish", 0, f"{kind} {state}")
    try:
        sent = yield from flow.call(Activity.PUBLISH_OUTCOME, payload, handle_busy=False)
    except Exception as exc:
        problem = failure_of(exc)
        flow.status("done", 0, f"{state}; outcome event not sent: {problem.code}")
        return {
            **result,
            "event": {"published": False, "error": {"code": problem.code, "message": problem.message}},
        }
    flow.status("done", 0, state)
    return {**result, "event": sent}


def run_linker_operation(context: Any, kind: str, steps: LinkerSteps) -> Steps:
    """The frame of connect and disconnect: run `steps(flow, linker_id, input)`; on failure record Failed with
    the classified error; either way end with the outcome event and return the output."""
    data = context.get_input() or {}
    linker_id = str(data.get("linkerId") or "")
    flow = Flow(context, Policy.from_dict(data.get("policy")))
    started = context.current_utc_datetime  # the first episode's time, the same on every replay
    error = None
    try:
        yield from steps(flow, linker_id, data)
    except Exception as exc:
        error = failure_of(exc)
        if flow.granted and any(flow.granted.values()):
            # What this connection was granted before the failure, so it can be revoked or completed.
            error = error.with_diagnostics({"granted": flow.granted})
        if linker_id:
            yield from record_failure(flow, linker_id, error)
    result = outcome(linker_id, error)
    operation_completed(context, kind, result["provisioningState"], error.code if error else None, started)
    return (yield from announce(flow, kind, operation_id_of(context, data), result))
