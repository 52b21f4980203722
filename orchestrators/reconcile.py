"""`reconcile` and its per-cluster child `reconcile_cluster`: find drift with `connector.plan`, repair it.

`reconcile` {"slot", "policy"}: pages through the registry, groups settled connections by cluster and runs one
`reconcile_cluster` {"clusterId", "linkerIds", "policy"} per cluster, at most `maxParallelClusters` at a time.
Each child observes its cluster with a fixed number of reads, plans, and performs only the planned actions:
no drift, no writes to Azure or the cluster. The registry gets each connection's last-reconciled time.
Each child also reports `orphans`: objects labelled as ours, in the lists it made, that no record owns
(`connector.orphans`); they are removed only when the policy's `removeOrphans` (RECONCILE_REMOVE_ORPHANS)
says so, after the repair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connector import plan
from connector.errors import ConnectorError
from connector.model import Connection
from connector.orphans import find_orphans
from orchestrators import bp
from orchestrators.flow import Flow, OrchestrationFailure, Steps, failure_of
from orchestrators.grouping import (
    batches,
    drifted_linkers,
    group_by_cluster,
    is_reconcilable,
    linkers_affected,
    summarize,
)
from orchestrators.policy import Policy
from orchestrators.repair import perform

REGISTRY_PAGE_SIZE = 100


def _cluster_result(
    cluster_id: str,
    connections: int,
    drifted: set[str],
    actions: Sequence[plan.Action],
    errors: Mapping[str, ConnectorError],
    failed: int | None = None,
) -> dict[str, Any]:
    """One cluster's summary: what drifted, was repaired, failed (each linker with its own error)."""
    failed_count = len(errors) if failed is None else failed
    first = next(iter(errors.values()), None)
    return {
        "clusterId": cluster_id,
        "connections": connections,
        "drifted": len(drifted),
        "repaired": len(drifted - set(errors)),
        "failed": failed_count,
        "actions": [a.name for a in actions],
        "error": first.to_dict() if first else None,
    }


def load_cluster_connections(flow: Flow, linker_ids: Sequence[str] | None) -> Steps:
    """The cluster's settled records (restricted to `linker_ids` when given) and their connections."""
    records = yield from flow.call("registry_list_by_cluster", {"clusterId": flow.cluster_id})
    return reconcilable(records, linker_ids)


def reconcilable(
    records: Sequence[dict[str, Any]] | None, linker_ids: Sequence[str] | None
) -> list[tuple[dict[str, Any], Connection]]:
    """The settled records (restricted to `linker_ids` when given) and their connections."""
    wanted = {i.lower() for i in linker_ids} if linker_ids is not None else None
    kept: list[tuple[dict[str, Any], Connection]] = []
    for record in records or []:
        linker_id = str(record.get("linkerId") or "")
        if (wanted is not None and linker_id.lower() not in wanted) or not is_reconcilable(record):
            continue
        try:
            kept.append((record, Connection.from_stored(record.get("desired"))))
        except ValueError:
            continue  # an unreadable record is the trigger's to fix; it cannot be planned
    return kept


def plan_cluster(flow: Flow, connections: Sequence[Connection], *, force_apply: bool = False) -> Steps:
    """Observe and plan: (observation, actions, drifted linker ids). `force_apply` re-applies every Secret."""
    flow.status("observe", 0, flow.cluster_name)
    observed_data = yield from flow.call(
        "observe_cluster", {"clusterId": flow.cluster_id, "connections": [c.to_stored() for c in connections]}
    )
    observed = plan.ObservedCluster.from_dict(observed_data)
    actions = list(plan.compute_plan(connections, observed))
    if force_apply:
        planned = {a.linker_id.lower() for a in actions if isinstance(a, plan.ApplySecret)}
        planned |= observed.failed_linkers()  # not observed: not to be touched
        actions += [
            plan.ApplySecret(linker_id=c.linker_id, namespace=c.namespace, secret_name="")
            for c in connections
            if c.linker_id.lower() not in planned
        ]
    return observed, actions, drifted_linkers(actions, connections)


def unobserved_errors(observed: plan.ObservedCluster) -> dict[str, ConnectorError]:
    """The linkers that could not be observed (lower-cased ids), each with its reason."""
    return {f.linker_id.lower(): ConnectorError.from_dict(f.error) for f in observed.failures}


def repair(
    flow: Flow,
    connections: Sequence[Connection],
    observed: plan.ObservedCluster,
    actions: Sequence[plan.Action],
) -> Steps:
    """Perform the planned actions (nothing at all when the plan is empty); each failed linker's own error."""
    if not actions:
        return {}
    flow.status("repair", 0, ", ".join(sorted({a.name for a in actions})))
    return (yield from perform(flow, connections, observed, actions, isolate=True))


def findings(
    linker_id: str,
    actions: Sequence[plan.Action],
    connections: Sequence[Connection],
    error: ConnectorError | None,
) -> dict[str, Any]:
    """What one reconcile found for one connection: the drift (action names), whether it was repaired."""
    drift = sorted({a.name for a in actions if linker_id.lower() in linkers_affected(a, connections)})
    return {"drift": drift, "repaired": bool(drift) and error is None, "error": error.code if error else None}


def record_reconciled(
    flow: Flow,
    records: Sequence[dict[str, Any]],
    connections: Sequence[Connection],
    actions: Sequence[plan.Action],
    errors: Mapping[str, ConnectorError],
) -> Steps:
    """Stamp each record's last-reconciled time and findings, with its own outcome: Failed with the error of
    the action that failed it, else Succeeded (a connection that had failed and converged is healthy again).

    `errors` is keyed by lower-cased linker id.
    """
    flow.status("record", 0, f"{len(records)} connections")
    for record in records:
        linker_id = str(record["linkerId"])
        error = errors.get(linker_id.lower())
        payload: dict[str, Any] = {
            "linkerId": linker_id,
            "reconciled": True,
            "lastReconcile": findings(linker_id, actions, connections, error),
        }
        if record.get("etag"):
            # Only if unchanged since it was read: a request that arrived meanwhile owns the record now.
            payload["etag"] = record["etag"]
        if error is not None:
            payload.update(provisioningState="Failed", lastError=error.to_dict())
        else:
            payload.update(provisioningState="Succeeded", clearError=True)
        try:
            yield from flow.call("registry_update_status", payload)
        except OrchestrationFailure:
            continue  # deleted or changed meanwhile: the operation that changed it records the outcome


def orphans_of(observed: plan.ObservedCluster, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The observed Secrets and ServiceAccounts labelled as ours that none of the cluster's records owns."""
    return find_orphans(
        [{"namespace": s.namespace, "name": s.name, "linkerId": s.linker_id} for s in observed.secrets],
        [{"namespace": a.namespace, "name": a.name} for a in observed.service_accounts],
        records,
    )


def remove_orphans(flow: Flow, orphans: list[dict[str, Any]]) -> Steps:
    """The orphans, each marked `removed`, when the policy opts in to removing them; else as they are."""
    if not orphans or not flow.policy.remove_orphans:
        return orphans
    flow.status("orphans", 0, f"removing {len(orphans)}")
    try:
        result = yield from flow.call("delete_orphans", {"clusterId": flow.cluster_id, "orphans": orphans})
    except OrchestrationFailure:
        result = {}  # reported as not removed; the next reconcile tries again
    removed = {(o["kind"], o["namespace"], o["name"]) for o in result.get("removed") or []}
    return [{**o, "removed": (o["kind"], o["namespace"], o["name"]) in removed} for o in orphans]


@bp.orchestration_trigger(context_name="context", orchestration="reconcile_cluster")
def reconcile_cluster_orchestrator(context: Any) -> Steps:
    """Reconcile one cluster's connections; never fails (the result carries the error)."""
    data = context.get_input() or {}
    cluster_id = str(data.get("clusterId") or "")
    flow = Flow(context, Policy.from_dict(data.get("policy")), cluster_id)
    linker_ids = [str(i) for i in data.get("linkerIds") or []]
    try:
        flow.status("load", 0, flow.cluster_name)
        every_record = yield from flow.call("registry_list_by_cluster", {"clusterId": cluster_id})
        loaded = reconcilable(every_record, linker_ids)
        if not loaded:
            return _cluster_result(cluster_id, 0, set(), [], {})
        connections = [c for _, c in loaded]
        observed, actions, drifted = yield from plan_cluster(flow, connections)
        orphans = orphans_of(observed, every_record or [])
    except Exception as exc:
        # Nothing was written; the connections stay as they are and count as failed in the summary.
        return _cluster_result(
            cluster_id, len(linker_ids), set(), [], {"": failure_of(exc)}, failed=len(linker_ids)
        )
    records = [r for r, _ in loaded]
    errors = {**unobserved_errors(observed), **(yield from repair(flow, connections, observed, actions))}
    yield from record_reconciled(flow, records, connections, actions, errors)
    orphans = yield from remove_orphans(flow, orphans)
    flow.status("done", 0, f"{len(drifted)} drifted, {len(errors)} failed")
    return {**_cluster_result(cluster_id, len(loaded), drifted, actions, errors), "orphans": orphans}


@bp.orchestration_trigger(context_name="context", orchestration="reconcile")
def reconcile_orchestrator(context: Any) -> Steps:
    """Reconcile every settled connection, one child per cluster, with bounded fan-out; a summary."""
    data = context.get_input() or {}
    slot = str(data.get("slot") or "")
    policy = Policy.from_dict(data.get("policy"))
    flow = Flow(context, policy)
    records: list[dict[str, Any]] = []
    continuation: Any = None
    page_number = 0
    try:
        while True:
            flow.status("list", page_number, f"registry page {page_number + 1}")
            page = yield from flow.call(
                "registry_list_page", {"pageSize": REGISTRY_PAGE_SIZE, "continuation": continuation}
            )
            records += [
                {"linkerId": r.get("linkerId"), "provisioningState": r.get("provisioningState")}
                for r in page.get("items") or []
            ]
            continuation = page.get("continuation")
            page_number += 1
            if not continuation:
                break
    except OrchestrationFailure as failure:
        result = summarize(slot, [])
        result["error"] = failure.error.to_dict()
        return result
    groups = group_by_cluster(records)
    results: list[dict[str, Any]] = []
    child_policy = policy.to_dict()
    for number, batch in enumerate(batches(groups, policy.max_parallel_clusters)):
        flow.status("reconcile", number, f"{len(results)} of {len(groups)} clusters done")
        tasks = [
            context.call_sub_orchestrator(
                "reconcile_cluster",
                {"clusterId": cluster_id, "linkerIds": linker_ids, "policy": child_policy},
                f"{context.instance_id}:cluster:{number * policy.max_parallel_clusters + index}",
            )
            for index, (cluster_id, linker_ids) in enumerate(batch)
        ]
        try:
            results += yield context.task_all(tasks)
        except Exception as exc:  # a child that crashed despite its own guard: count its clusters failed
            error = failure_of(exc)
            results += [
                _cluster_result(cid, len(ids), set(), [], {"": error}, failed=len(ids)) for cid, ids in batch
            ]
    flow.status("done", 0, f"{len(groups)} clusters")
    summary = summarize(slot, results)
    summary["orphans"] = sum(len(r.get("orphans") or []) for r in results)
    return summary
