"""`connect`: create or update one connection — a reconcile of that one connection.

It observes the cluster for the connection, computes `connector.plan` and performs only what differs, as
`reconcile` does for many: an identical request writes nothing to Azure or the cluster.

Input {"linkerId", "operationId", "policy", "previous"?}; the desired state is the registry record the
trigger wrote. `previous` lists the placements (namespace, workload identity) an update moved the connection
away from: once the new resources are in place, what they left behind is removed (`moves.py`, where the
deleteOrUpdateBehavior decision is written down).
Output {"linkerId", "provisioningState": "Succeeded"|"Failed", "error": ConnectorError.to_dict() | None,
"event": publish_outcome's result, or {"published": false, "error"}}; the outcome event is the last step.
"""

from __future__ import annotations

from typing import Any

from connector import plan
from connector.boundary import Activity
from connector.errors import Category, connection_not_found, make_error
from connector.ids import cluster_of_linker
from connector.model import Connection
from orchestrators import bp
from orchestrators.flow import Flow, OrchestrationFailure, Steps
from orchestrators.moves import remove_previous_placements
from orchestrators.outcomes import run_linker_operation
from orchestrators.repair import perform, plan_linkers
from telemetry import orchestration_episode


def load_connection(flow: Flow, linker_id: str) -> Steps:
    """The linker's registry record and its desired connection; NotFound when the trigger wrote none."""
    record = yield from flow.call(Activity.REGISTRY_GET, {"linkerId": linker_id})
    if not record or not record.get("desired"):
        raise OrchestrationFailure(connection_not_found(linker_id))
    try:
        connection = Connection.from_stored(record["desired"])
    except ValueError as exc:
        raise OrchestrationFailure(
            make_error(
                Category.INVALID,
                "StoredConnectionInvalid",
                f"The stored desired state of {linker_id} cannot be read: {type(exc).__name__}.",
                resource=linker_id,
            )
        ) from None
    return record, connection


def connect_steps(flow: Flow, linker_id: str, data: dict[str, Any]) -> Steps:
    """Plan this connection (observe, diff), carry out only what differs, remove what a move left behind,
    record Succeeded."""
    flow.cluster_id = cluster_of_linker(linker_id, default="")
    # The connect's own pass: its plan and its writes share what they read (the target's keys).
    pass_id = f"op:{data.get('operationId') or flow.context.instance_id}"
    page = yield from plan_linkers(flow, {"linkerIds": [linker_id], "passId": pass_id})
    flow.granted = page.linkers[0].get("granted") if page.linkers else None  # what earlier attempts granted
    for error in page.failures.values():  # unreadable, or its identity could not be read
        raise OrchestrationFailure(error)
    yield from perform(flow, page.planned, page.observed, pass_id=pass_id)
    previous = data.get("previous") or []
    if previous:
        _, connection = yield from load_connection(flow, linker_id)
        yield from remove_previous_placements(flow, connection, previous)
    flow.status("record", 0, "Succeeded")
    try:
        yield from flow.call(
            Activity.REGISTRY_UPDATE_STATUS,
            {"linkerId": linker_id, "provisioningState": "Succeeded", "clearError": True},
        )
    except OrchestrationFailure as failure:
        if failure.error.category is not Category.NOT_FOUND:
            raise
        yield from remove_unrecorded_writes(flow, linker_id, page.planned)
        raise


def remove_unrecorded_writes(flow: Flow, linker_id: str, planned: list[plan.Planned]) -> Steps:
    """The record vanished while the operation ran (a store that lost it, or a delete that won the race):
    what this operation wrote to the cluster would belong to nobody, so the Secrets it applied are removed
    (`delete_orphans` removes only objects still owned by no record). Shared ServiceAccounts stay; the next
    reconcile reports any that no record uses."""
    applied = [p.action for p in planned if isinstance(p.action, plan.ApplySecret)]
    orphans = [
        {"kind": "Secret", "namespace": a.namespace, "name": a.secret_name, "linkerId": linker_id}
        for a in applied
        if a.linker_id.lower() == linker_id.lower()
    ]
    if orphans:
        flow.status("cleanup", 0, "the registry entry vanished; removing what this operation wrote")
        yield from flow.call(Activity.DELETE_ORPHANS, {"clusterId": flow.cluster_id, "orphans": orphans})


@bp.orchestration_trigger(context_name="context", orchestration="connect")
def connect_orchestrator(context: Any) -> Steps:
    """Create or update one connection, remove what a move left behind, record and announce the outcome."""
    steps = run_linker_operation(context, "connect", connect_steps)
    return (yield from orchestration_episode(context, "connect", steps))
