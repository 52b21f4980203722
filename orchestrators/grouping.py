"""Pure bookkeeping for reconciliation: which records, grouped how, what drifted, who shares what."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from connector import plan
from connector.ids import cluster_of_linker
from connector.model import Connection

T = TypeVar("T")

# Records a reconcile may touch: settled ones (Accepted, Creating, Deleting... belong to a running operation).
RECONCILABLE_STATES = frozenset({"succeeded", "failed"})


def is_reconcilable(record: Mapping[str, Any]) -> bool:
    """True for a record in a settled state (no operation of its own is running)."""
    return str(record.get("provisioningState") or "").lower() in RECONCILABLE_STATES


def group_by_cluster(records: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """(cluster id, linker ids) for the reconcilable records, clusters and linkers in a stable order."""
    groups: dict[str, tuple[str, list[str]]] = {}
    for record in records:
        linker_id = str(record.get("linkerId") or "")
        cluster_id = cluster_of_linker(linker_id, default="")
        if not cluster_id or not is_reconcilable(record):
            continue
        groups.setdefault(cluster_id.lower(), (cluster_id, []))[1].append(linker_id)
    return [(cid, sorted(ids, key=str.lower)) for _, (cid, ids) in sorted(groups.items())]


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive slices of at most `size` items (bounded fan-out)."""
    step = max(1, size)
    return [list(items[i : i + step]) for i in range(0, len(items), step)]


def linkers_affected(action: plan.Action, connections: Sequence[Connection]) -> set[str]:
    """The (lower-cased) linker ids a plan action repairs (`connector.plan.linkers_served`)."""
    return plan.linkers_served(action, connections)


def drifted_linkers(actions: Iterable[plan.Action], connections: Sequence[Connection]) -> set[str]:
    """Every linker id (lower-cased) that at least one action repairs."""
    found: set[str] = set()
    for action in actions:
        found |= linkers_affected(action, connections)
    return found


def summarize(slot: str, results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The reconcile output: totals over the per-cluster results, and the results themselves."""
    clusters = list(results)
    return {
        "slot": slot,
        "clusters": len(clusters),
        "connections": sum(int(r.get("connections", 0)) for r in clusters),
        "drifted": sum(int(r.get("drifted", 0)) for r in clusters),
        "repaired": sum(int(r.get("repaired", 0)) for r in clusters),
        "failed": sum(int(r.get("failed", 0)) for r in clusters),
        "details": clusters,
    }
