"""Pure bookkeeping for reconciliation: which records, grouped how, what drifted, who shares what."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from connector import naming, plan
from connector.model import LINKER_PROVIDER_SEGMENT, Connection, WorkloadIdentityAuth

T = TypeVar("T")

# Records a reconcile may touch: settled ones (Accepted, Creating, Deleting... belong to a running operation).
RECONCILABLE_STATES = frozenset({"succeeded", "failed"})
# Actions that concern every connection of the cluster.
_CLUSTER_WIDE = (plan.RegisterProvider, plan.InstallExtension)


def cluster_of_linker(linker_id: str) -> str:
    """The cluster id part of a linker id ('' when it is not one)."""
    at = linker_id.lower().find(LINKER_PROVIDER_SEGMENT.lower())
    return linker_id[:at] if at > 0 else ""


def is_reconcilable(record: Mapping[str, Any]) -> bool:
    """True for a record in a settled state (no operation of its own is running)."""
    return str(record.get("provisioningState") or "").lower() in RECONCILABLE_STATES


def group_by_cluster(records: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """(cluster id, linker ids) for the reconcilable records, clusters and linkers in a stable order."""
    groups: dict[str, tuple[str, list[str]]] = {}
    for record in records:
        linker_id = str(record.get("linkerId") or "")
        cluster_id = cluster_of_linker(linker_id)
        if not cluster_id or not is_reconcilable(record):
            continue
        groups.setdefault(cluster_id.lower(), (cluster_id, []))[1].append(linker_id)
    return [(cid, sorted(ids, key=str.lower)) for _, (cid, ids) in sorted(groups.items())]


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive slices of at most `size` items (bounded fan-out)."""
    step = max(1, size)
    return [list(items[i : i + step]) for i in range(0, len(items), step)]


def workload_client_id(connection: Connection) -> str:
    """The lower-cased client id of a workload-identity connection ('' for any other auth)."""
    auth = connection.auth
    if connection.is_workload_identity and isinstance(auth, WorkloadIdentityAuth):
        return auth.client_id.lower()
    return ""


def uses_service_account(connection: Connection, namespace: str, client_id: str) -> bool:
    """True when the connection's workloads run as identity `client_id`'s ServiceAccount in `namespace`."""
    return (
        connection.is_workload_identity
        and connection.namespace == namespace
        and workload_client_id(connection) == client_id.lower()
    )


def linkers_affected(action: plan.Action, connections: Sequence[Connection]) -> set[str]:
    """The (lower-cased) linker ids a plan action repairs."""
    ids = {c.linker_id.lower() for c in connections}
    if isinstance(action, _CLUSTER_WIDE):
        return ids
    if isinstance(action, plan.EnableKeyVaultAddon):
        return {c.linker_id.lower() for c in connections if c.key_vault_csi}
    if isinstance(action, plan.EnableWorkloadIdentity):
        return {c.linker_id.lower() for c in connections if c.is_workload_identity}
    if isinstance(action, plan.CreateFederatedCredential):
        return {
            c.linker_id.lower()
            for c in connections
            if c.is_workload_identity
            and workload_client_id(c) == action.identity_client_id.lower()
            and action.subject
            == naming.service_account_subject(c.namespace, naming.service_account_name(workload_client_id(c)))
        }
    if isinstance(action, plan.AssignRole):
        return {
            c.linker_id.lower()
            for c in connections
            if c.is_workload_identity
            and workload_client_id(c) == action.identity_client_id.lower()
            and c.target_id.lower() == action.scope.lower()
        }
    if isinstance(action, plan.ApplySecret):
        return {action.linker_id.lower()} & ids
    if isinstance(action, plan.ApplyServiceAccount):
        return {
            c.linker_id.lower()
            for c in connections
            if uses_service_account(c, action.namespace, action.identity_client_id)
        }
    return ids


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
