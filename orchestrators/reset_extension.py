"""`reset_extension`: the documented remedy for a broken sc-extension — delete it, wait, reinstall, re-apply.

Input {"clusterId", "operationId", "policy"}.
Output {"clusterId", "provisioningState", "error", "connections"}.
Every settled connection of the cluster is brought back (plan + repair, every Secret applied again) and its
record says Succeeded, or Failed with the error.
"""

from __future__ import annotations

from typing import Any

from connector.errors import Category, ConnectorError, make_error
from orchestrators import bp
from orchestrators.flow import Flow, Steps, failure_of
from orchestrators.grouping import cluster_of_linker
from orchestrators.policy import Policy
from orchestrators.reconcile import (
    load_cluster_connections,
    plan_cluster,
    record_reconciled,
    repair,
    unobserved_errors,
)

_CLUSTER_SEGMENT = "/providers/microsoft.containerservice/managedclusters/"


def _output(cluster_id: str, connections: int, error: ConnectorError | None) -> dict[str, Any]:
    return {
        "clusterId": cluster_id,
        "provisioningState": "Failed" if error else "Succeeded",
        "error": error.to_dict() if error else None,
        "connections": connections,
    }


def _is_cluster_id(cluster_id: str) -> bool:
    lowered = cluster_id.lower()
    return (
        lowered.startswith("/subscriptions/")
        and _CLUSTER_SEGMENT in lowered
        and not cluster_of_linker(cluster_id)
    )


@bp.orchestration_trigger(context_name="context", orchestration="reset_extension")
def reset_extension_orchestrator(context: Any) -> Steps:
    """Delete sc-extension, wait until it is gone, reinstall it, then re-apply the cluster's connections."""
    data = context.get_input() or {}
    cluster_id = str(data.get("clusterId") or "").rstrip("/")
    flow = Flow(context, Policy.from_dict(data.get("policy")), cluster_id)
    if not _is_cluster_id(cluster_id):
        error = make_error(
            Category.INVALID,
            "InvalidClusterId",
            f"'{cluster_id}' is not a managed cluster id.",
            resource=cluster_id,
        )
        return _output(cluster_id, 0, error)
    name = flow.cluster_name
    loaded: list[Any] = []
    actions: list[Any] = []
    errors: dict[str, ConnectorError] = {}
    try:
        flow.status("deleteExtension", 0, name)
        yield from flow.call("delete_extension", {"clusterId": cluster_id})
        yield from flow.wait_for_extension_removed()
        flow.status("extension", 0, name)
        yield from flow.call("ensure_extension", {"clusterId": cluster_id, "reinstallFailed": True})
        yield from flow.wait_for_extension()
        flow.status("load", 0, name)
        loaded = yield from load_cluster_connections(flow, None)
        connections = [c for _, c in loaded]
        if connections:
            observed, actions, _ = yield from plan_cluster(flow, connections, force_apply=True)
            repaired = yield from repair(flow, connections, observed, actions)
            errors = {**unobserved_errors(observed), **repaired}
    except Exception as exc:
        error = failure_of(exc)
        if loaded:
            every = {str(r["linkerId"]).lower(): error for r, _ in loaded}
            records, connections = [r for r, _ in loaded], [c for _, c in loaded]
            yield from record_reconciled(flow, records, connections, actions, every)
        return _output(cluster_id, len(loaded), error)
    if loaded:
        yield from record_reconciled(flow, [r for r, _ in loaded], [c for _, c in loaded], actions, errors)
    first = next(iter(errors.values()), None)
    flow.status("done", 0, f"{len(loaded) - len(errors)} connections re-applied, {len(errors)} failed")
    return _output(cluster_id, len(loaded), first)
