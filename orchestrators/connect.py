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
from connector.errors import Category, ConnectorError, make_error
from connector.model import Connection
from orchestrators import bp
from orchestrators.flow import Flow, OrchestrationFailure, Steps
from orchestrators.moves import remove_previous_placements
from orchestrators.outcomes import run_linker_operation
from orchestrators.repair import perform


def load_connection(flow: Flow, linker_id: str) -> Steps:
    """The linker's registry record and its desired connection; NotFound when the trigger wrote none."""
    record = yield from flow.call("registry_get", {"linkerId": linker_id})
    if not record or not record.get("desired"):
        raise OrchestrationFailure(
            make_error(
                Category.NOT_FOUND,
                "ConnectionNotFound",
                f"No registry entry for {linker_id}.",
                resource=linker_id,
            )
        )
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


def converge_connection(flow: Flow, connection: Connection) -> Steps:
    """Observe the cluster for this connection, plan, and carry out only what differs (nothing if converged).

    The same loop as reconcile's: provider → cluster Succeeded → extension → features → identity and roles →
    Kubernetes resources, each only when the observation says it is missing or drifted.
    """
    flow.status("observe", 0, connection.cluster.name)
    observed_data = yield from flow.call(
        "observe_cluster", {"clusterId": flow.cluster_id, "connections": [connection.to_stored()]}
    )
    observed = plan.ObservedCluster.from_dict(observed_data)
    for failure in observed.failures:  # this connection's identity could not be read
        raise OrchestrationFailure(ConnectorError.from_dict(failure.error))
    actions = plan.compute_plan([connection], observed)
    yield from perform(flow, [connection], observed, actions)


def connect_steps(flow: Flow, linker_id: str, data: dict[str, Any]) -> Steps:
    """Load the desired state, converge it, remove what a move left behind, record Succeeded."""
    flow.status("load", 0, linker_id)
    record, connection = yield from load_connection(flow, linker_id)
    flow.cluster_id = connection.cluster.id
    flow.granted = record.get("granted")  # what earlier attempts granted, should this one fail too
    yield from converge_connection(flow, connection)
    yield from remove_previous_placements(flow, connection, data.get("previous") or [])
    flow.status("record", 0, "Succeeded")
    yield from flow.call(
        "registry_update_status",
        {"linkerId": linker_id, "provisioningState": "Succeeded", "clearError": True},
    )


@bp.orchestration_trigger(context_name="context", orchestration="connect")
def connect_orchestrator(context: Any) -> Steps:
    """Create or update one connection, remove what a move left behind, record and announce the outcome."""
    return (yield from run_linker_operation(context, "connect", connect_steps))
