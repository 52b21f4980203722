"""`reconcile` and its per-cluster child `reconcile_cluster`: find drift with `connector.plan`, repair it.

`reconcile` {"slot", "policy"}: lists the clusters that hold connections (pages of 100, read inside an
activity) and runs one `reconcile_cluster` per cluster, at most `maxParallelClusters` at a time. Each pass has
an id of its own (a deterministic uuid): every read of the pass goes through one cache keyed by it
(activities/pass_cache.py), so a cluster, a namespace list or a target shared by many clusters is read once
per pass, and the next pass reads afresh.

`reconcile_cluster` {"clusterId", "passId", "policy", "forceApply"?} works through the cluster's settled
connections one page at a time (`plan_connections`: records read, cluster observed and plan computed inside
the activity), performs only the planned actions, stamps the page's records in one batch, and continues as
new for the next page: its history and every payload are bounded by the page size, not by the number of
connections. No drift, no writes to Azure or the cluster. A failing action fails only the linkers it serves;
each linker's record gets its own outcome. At the end, `cluster_orphans` reports objects labelled as ours that
no record owns (`connector.orphans`); they are removed only when the policy's `removeOrphans`
(RECONCILE_REMOVE_ORPHANS) says so, after the repair.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector import plan
from connector.boundary import Activity, Stamp
from connector.errors import ConnectorError
from orchestrators import bp
from orchestrators.flow import Flow, OrchestrationFailure, Steps, failure_of
from orchestrators.grouping import batches, summarize
from orchestrators.policy import Policy
from orchestrators.repair import PlannedPage, perform, plan_linkers
from telemetry import orchestration_episode

CLUSTER_PAGE_SIZE = 100


def _empty_totals() -> dict[str, Any]:
    return {"connections": 0, "drifted": 0, "repaired": 0, "failed": 0, "actions": [], "error": None}


def _served(page: PlannedPage, linker_id: str) -> list[plan.Action]:
    key = linker_id.lower()
    return [p.action for p in page.planned if key in {i.lower() for i in p.serves}]


def stamps_of(page: PlannedPage, errors: Mapping[str, ConnectorError]) -> dict[str, list[Any]]:
    """The registry stamps of a page: each linker's own outcome and findings (errors carried once each)."""
    distinct: list[dict[str, Any]] = []
    stamps: list[Stamp] = []
    for linker in page.linkers:
        linker_id = str(linker["linkerId"])
        error = errors.get(linker_id.lower())
        drift = sorted({a.name for a in _served(page, linker_id)})
        stamp: Stamp = {
            "name": linker_id.rsplit("/", 1)[-1],
            "generation": linker.get("generation"),
            "previousState": linker.get("provisioningState"),
            # Converged (repaired, or nothing drifted): a connection that had failed is healthy again.
            "provisioningState": "Failed" if error else "Succeeded",
            "lastReconcile": {
                "drift": drift,
                "repaired": bool(drift) and error is None,
                "error": error.code if error else None,
            },
        }
        if error is not None:
            as_dict = error.to_dict()
            if as_dict not in distinct:
                distinct.append(as_dict)
            stamp["error"] = distinct.index(as_dict)
        stamps.append(stamp)
    return {"stamps": stamps, "errors": distinct}


def add_page(
    totals: Mapping[str, Any], page: PlannedPage, errors: Mapping[str, ConnectorError]
) -> dict[str, Any]:
    """The cluster's running totals with one more page counted."""
    drifted = {i.lower() for p in page.planned for i in p.serves}
    seen = {str(linker["linkerId"]).lower() for linker in page.linkers}
    failed = set(errors) & seen
    first = next(iter(errors.values()), None)
    return {
        "connections": totals["connections"] + len(seen),
        "drifted": totals["drifted"] + len(drifted & seen),
        "repaired": totals["repaired"] + len((drifted & seen) - failed),
        "failed": totals["failed"] + len(failed),
        "actions": sorted(set(totals["actions"]) | {p.action.name for p in page.planned}),
        "error": totals["error"] or (first.to_dict() if first else None),
    }


def reconcile_page(flow: Flow, payload: dict[str, Any], totals: Mapping[str, Any]) -> Steps:
    """Plan one page, perform it (failures isolated per linker), stamp its records; (totals, continuation)."""
    page = yield from plan_linkers(flow, payload)
    errors = dict(page.failures)
    if page.planned:
        flow.status("repair", 0, ", ".join(sorted({p.action.name for p in page.planned})))
        pass_id = payload.get("passId")
        errors.update((yield from perform(flow, page.planned, page.observed, isolate=True, pass_id=pass_id)))
    if page.linkers:
        flow.status("record", 0, f"{len(page.linkers)} connections")
        stamps = stamps_of(page, errors)
        try:
            yield from flow.call(Activity.REGISTRY_STAMP_RECONCILED, {"clusterId": flow.cluster_id, **stamps})
        except OrchestrationFailure as failure:
            # The repairs stand; the next pass finds them converged and stamps then.
            errors.setdefault("", failure.error)
    return add_page(totals, page, errors), page.continuation


def remove_orphans(flow: Flow, orphans: list[dict[str, Any]]) -> Steps:
    """The orphans, each marked `removed`, when the policy opts in to removing them; else as they are."""
    if not orphans or not flow.policy.remove_orphans:
        return orphans
    flow.status("orphans", 0, f"removing {len(orphans)}")
    try:
        result = yield from flow.call(
            Activity.DELETE_ORPHANS, {"clusterId": flow.cluster_id, "orphans": orphans}
        )
    except OrchestrationFailure:
        result = {}  # reported as not removed; the next reconcile tries again
    removed = {(o["kind"], o["namespace"], o["name"]) for o in result.get("removed") or []}
    return [{**o, "removed": (o["kind"], o["namespace"], o["name"]) in removed} for o in orphans]


def find_orphans(flow: Flow, pass_id: str) -> Steps:
    """The cluster's orphans (reported; removed when the policy says so); [] when they cannot be listed."""
    try:
        found = yield from flow.call(
            Activity.CLUSTER_ORPHANS, {"clusterId": flow.cluster_id, "passId": pass_id}
        )
    except OrchestrationFailure:
        return []
    return (yield from remove_orphans(flow, list(found.get("orphans") or [])))


def cluster_result(
    cluster_id: str, totals: Mapping[str, Any], orphans: list[dict[str, Any]]
) -> dict[str, Any]:
    """One cluster's summary: what drifted, was repaired, failed; the first error; the orphans."""
    return {"clusterId": cluster_id, **totals, "orphans": orphans}


@bp.orchestration_trigger(context_name="context", orchestration="reconcile_cluster")
def reconcile_cluster_orchestrator(context: Any) -> Steps:
    """Reconcile one page of a cluster's connections, then continue as new with the next; never fails."""
    return (yield from orchestration_episode(context, "reconcile_cluster", _reconcile_cluster_steps(context)))


def _reconcile_cluster_steps(context: Any) -> Steps:
    """The steps of `reconcile_cluster`, run once per episode through `orchestration_episode`."""
    data = context.get_input() or {}
    cluster_id = str(data.get("clusterId") or "")
    pass_id = str(data.get("passId") or context.instance_id)
    totals = data.get("totals") or _empty_totals()
    flow = Flow(context, Policy.from_dict(data.get("policy")), cluster_id)
    payload = {
        "passId": pass_id,
        "continuation": data.get("continuation"),
        "forceApply": bool(data.get("forceApply")),
    }
    try:
        totals, continuation = yield from reconcile_page(flow, payload, totals)
    except Exception as exc:
        # Nothing of this page was written; its connections stay as they are until the next pass.
        return cluster_result(cluster_id, {**totals, "error": failure_of(exc).to_dict()}, [])
    if continuation:
        context.continue_as_new({**data, "passId": pass_id, "continuation": continuation, "totals": totals})
        return None
    orphans = yield from find_orphans(flow, pass_id)
    flow.status("done", 0, f"{totals['drifted']} drifted, {totals['failed']} failed")
    return cluster_result(cluster_id, totals, orphans)


@bp.orchestration_trigger(context_name="context", orchestration="reconcile")
def reconcile_orchestrator(context: Any) -> Steps:
    """Reconcile every settled connection, one child per cluster, with bounded fan-out; a summary."""
    return (yield from orchestration_episode(context, "reconcile", _reconcile_steps(context)))


def _reconcile_steps(context: Any) -> Steps:
    """The steps of `reconcile`, run once per episode through `orchestration_episode`."""
    data = context.get_input() or {}
    slot = str(data.get("slot") or "")
    policy = Policy.from_dict(data.get("policy"))
    flow = Flow(context, policy)
    clusters: list[str] = []
    offset: int | None = 0
    try:
        while offset is not None:
            flow.status("list", offset // CLUSTER_PAGE_SIZE, f"clusters from {offset}")
            page = yield from flow.call(
                Activity.REGISTRY_CLUSTER_PAGE, {"offset": offset, "pageSize": CLUSTER_PAGE_SIZE}
            )
            clusters += [str(c) for c in page.get("clusters") or []]
            offset = page.get("next")
    except OrchestrationFailure as failure:
        result = summarize(slot, [])
        result["error"] = failure.error.to_dict()
        return result
    results: list[dict[str, Any]] = []
    # A pass id of its own (the reconcile's instance id is a fixed singleton): it keys the pass's read cache
    # and its children's instance ids, so no later pass reuses either.
    pass_id = str(context.new_uuid())
    child = {"passId": pass_id, "policy": policy.to_dict()}
    for number, batch in enumerate(batches(clusters, policy.max_parallel_clusters)):
        flow.status("reconcile", number, f"{len(results)} of {len(clusters)} clusters done")
        tasks = [
            context.call_sub_orchestrator(
                "reconcile_cluster",
                {**child, "clusterId": cluster_id},
                f"{pass_id}:cluster:{number * policy.max_parallel_clusters + index}",
            )
            for index, cluster_id in enumerate(batch)
        ]
        try:
            results += yield context.task_all(tasks)
        except Exception as exc:  # a child that crashed despite its own guard
            error = failure_of(exc).to_dict()
            results += [cluster_result(cid, {**_empty_totals(), "error": error}, []) for cid in batch]
    flow.status("done", 0, f"{len(clusters)} clusters")
    summary = summarize(slot, results)
    summary["orphans"] = sum(len(r.get("orphans") or []) for r in results)
    return summary
