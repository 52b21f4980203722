"""`reset_extension`: the documented remedy for a broken sc-extension — delete it, wait, reinstall, re-apply.

Input {"clusterId", "operationId", "policy"}.
Output {"clusterId", "provisioningState", "error", "connections"}.
Every settled connection of the cluster is brought back (a `reconcile_cluster` child with `forceApply`: plan +
repair, every Secret applied again) and its record says Succeeded, or Failed with its own error.
"""

from __future__ import annotations

from typing import Any

from connector.boundary import Activity
from connector.errors import Category, ConnectorError, make_error
from connector.ids import cluster_of_linker
from orchestrators import bp
from orchestrators.flow import Flow, Steps, failure_of
from orchestrators.policy import Policy
from telemetry import orchestration_episode

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
        and not cluster_of_linker(cluster_id, default="")
    )


@bp.orchestration_trigger(context_name="context", orchestration="reset_extension")
def reset_extension_orchestrator(context: Any) -> Steps:
    """Delete sc-extension, wait until it is gone, reinstall it, then re-apply the cluster's connections."""
    return (yield from orchestration_episode(context, "reset_extension", _reset_extension_steps(context)))


def _reset_extension_steps(context: Any) -> Steps:
    """The steps of `reset_extension`, run once per episode through `orchestration_episode`."""
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
    try:
        flow.status("deleteExtension", 0, name)
        yield from flow.call(Activity.DELETE_EXTENSION, {"clusterId": cluster_id})
        yield from flow.wait_for_extension_removed()
        flow.status("extension", 0, name)
        yield from flow.call(Activity.ENSURE_EXTENSION, {"clusterId": cluster_id, "reinstallFailed": True})
        yield from flow.wait_for_extension()
    except Exception as exc:
        return _output(cluster_id, 0, failure_of(exc))
    # Every settled connection of the cluster is planned again, each Secret applied again whatever it holds,
    # through the same pages as a reconcile; each record gets its own outcome.
    flow.status("reapply", 0, name)
    child = {
        "clusterId": cluster_id,
        "passId": context.instance_id,
        "forceApply": True,
        "policy": data.get("policy"),
    }
    result = yield context.call_sub_orchestrator("reconcile_cluster", child, f"{context.instance_id}:reapply")
    first = ConnectorError.from_dict(result["error"]) if result.get("error") else None
    flow.status(
        "done", 0, f"{result.get('connections', 0)} connections re-applied, {result.get('failed', 0)} failed"
    )
    return _output(cluster_id, int(result.get("connections") or 0), first)
