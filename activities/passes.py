"""Planning inside activities, so that only ids, names and hashes cross into orchestrations.

`plan_connections` reads the records itself (named linkers for `connect`, or one page of a cluster for a
reconcile pass), observes the cluster (through the pass's cache: what another page or cluster of the same pass
read already is not read again), computes `connector.plan.plan_for` and returns the planned actions with the
linkers each serves. No record, desired state or sealed token enters an orchestration's history, and every
output is bounded by the page size, whatever the number of connections.

A secret-store linker's vault side (connector/secret_store.py) is observed here too, as fingerprints
(activities/key_vault_secrets.py). `apply_linker` writes one linker's Kubernetes resources from its record,
read here. `cluster_orphans` looks for objects labelled as ours that no record of the cluster owns, at the end
of a cluster's pages.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from activities import registry
from activities.clients import Clients, get_clients
from activities.failures import classified
from activities.key_vault_secrets import observe_vault_secrets
from activities.kube_resources import apply_connection_resources
from activities.observe import list_owned, observe
from activities.pass_cache import for_pass
from activities.target_values import TargetCache
from connector import naming, plan
from connector.boundary import FailureGroup, PlannedLinker, PlannedPageData
from connector.errors import Category, ConnectorFailure, connection_not_found, make_error
from connector.ids import parse_cluster
from connector.model import Connection
from connector.orphans import find_orphans

_LOG = logging.getLogger(__name__)

# 40 linkers per page keep a page's plan under ~30 KB even when every one of them drifted (a Durable queue
# message is 64 KB; above that the runtime offloads payloads to blobs and every replay pays for it).
PAGE_SIZE = 40
# A reconcile touches settled records only: another state belongs to a running operation.
SETTLED_STATES = frozenset({"succeeded", "failed"})
ORPHANS_REPORTED = 100


def _unreadable(linker_id: str, exc: Exception) -> dict[str, Any]:
    return make_error(
        Category.INVALID,
        "StoredConnectionInvalid",
        f"The stored desired state of {linker_id} cannot be read: {type(exc).__name__}.",
        resource=linker_id,
    ).to_dict()


def _grouped(failures: list[tuple[str, dict[str, Any]]]) -> list[FailureGroup]:
    """Failures sharing one error (a deleted identity fails all its linkers) carry it once."""
    groups: list[FailureGroup] = []
    for linker_id, error in failures:
        found = next((g for g in groups if g["error"] == error), None)
        if found is None:
            groups.append({"linkerIds": [linker_id], "error": error})
        else:
            found["linkerIds"].append(linker_id)
    return groups


def _summary(observed: plan.ObservedCluster) -> dict[str, Any]:
    """What carrying out a plan needs of the observation: no Secret, ServiceAccount or assignment lists."""
    trimmed = plan.ObservedCluster(
        cluster_id=observed.cluster_id,
        provider_registration_state=observed.provider_registration_state,
        provisioning_state=observed.provisioning_state,
        oidc_issuer_enabled=observed.oidc_issuer_enabled,
        oidc_issuer_url=observed.oidc_issuer_url,
        workload_identity_enabled=observed.workload_identity_enabled,
        key_vault_addon_enabled=observed.key_vault_addon_enabled,
        key_vault_addon_client_id=observed.key_vault_addon_client_id,
        extension_provisioning_state=observed.extension_provisioning_state,
        tenant_id=observed.tenant_id,
        identities=observed.identities,
    )
    return trimmed.to_dict()


@classified
def plan_connections(
    cluster_id: str,
    *,
    linker_ids: list[str] | None = None,
    continuation: dict[str, Any] | None = None,
    page_size: int = PAGE_SIZE,
    pass_id: str | None = None,
    force_apply: bool = False,
    clients: Clients | None = None,
) -> PlannedPageData:
    """Plan the named linkers (any state), or one page of the cluster's settled ones.

    Returns {"linkers": [{linkerId, generation, provisioningState, granted?}], "planned": [Planned.to_dict()],
    "failures": [{linkerIds, error}], "observed": the observation without object lists, "continuation"}.
    """
    clients = clients or get_clients()
    ref = parse_cluster(cluster_id)
    if linker_ids is not None:
        records = []
        for linker_id in linker_ids:
            record = registry.get_record(linker_id, clients=clients)
            if record is None or not record.get("desired"):
                raise ConnectorFailure(connection_not_found(linker_id))
            records.append(record)
        next_page = None
    else:
        page, next_page = registry.page_by_cluster(ref.id, page_size, continuation, clients=clients)
        records = [r for r in page if str(r.get("provisioningState") or "").lower() in SETTLED_STATES]
    connections: list[Connection] = []
    failures: list[tuple[str, dict[str, Any]]] = []
    linkers: list[PlannedLinker] = []
    for record in records:
        linker_id = str(record["linkerId"])
        entry: PlannedLinker = {
            "linkerId": linker_id,
            "generation": record.get("generation"),
            "provisioningState": record.get("provisioningState"),
        }
        if linker_ids is not None and record.get("granted"):
            entry["granted"] = record["granted"]
        linkers.append(entry)
        try:
            connections.append(Connection.from_stored(record["desired"]))
        except (ValueError, TypeError) as exc:
            failures.append((linker_id, _unreadable(linker_id, exc)))
    planned: tuple[plan.Planned, ...] = ()
    summary: dict[str, Any] = {"cluster_id": ref.id}
    if connections:
        cache = for_pass(pass_id)
        observed = observe(ref, connections, clients=clients, cache=cache)
        if any(c.secret_store is not None for c in connections):
            vault_secrets = observe_vault_secrets(
                connections,
                clients=clients,
                addon_client_id=observed.key_vault_addon_client_id,
                targets=cache.targets if cache is not None else TargetCache(),
                cache=cache,
            )
            observed = dataclasses.replace(observed, vault_secrets=vault_secrets)
        failures += [(f.linker_id, dict(f.error)) for f in observed.failures]
        planned = plan.plan_for(connections, observed, force_apply=force_apply)
        summary = _summary(observed)
    return {
        "linkers": linkers,
        "planned": [p.to_dict() for p in planned],
        "failures": _grouped(failures),
        "observed": summary,
        "continuation": next_page,
    }


@classified
def apply_linker(
    linker_id: str,
    *,
    secret: bool = True,
    service_account: bool = True,
    tenant_id: str | None = None,
    addon_client_id: str | None = None,
    pass_id: str | None = None,
    clients: Clients | None = None,
) -> dict[str, Any]:
    """Write a linker's Secret and/or ServiceAccount from its record (`apply_connection_resources`); within a
    reconcile pass, the target read while planning is not read again."""
    clients = clients or get_clients()
    record = registry.get_record(linker_id, clients=clients)
    if record is None or not record.get("desired"):
        raise ConnectorFailure(connection_not_found(linker_id))
    applied = apply_connection_resources(
        record["desired"],
        addon_client_id=addon_client_id,
        tenant_id=tenant_id,
        secret=secret,
        service_account=service_account,
        targets=cache.targets if (cache := for_pass(pass_id)) is not None else None,
        clients=clients,
    )
    kind = applied.get("targetKind")
    desired_kind = (record.get("desired") or {}).get("target_kind")
    if kind and kind != (record.get("appliedTargetKind") or desired_kind):
        registry.record_applied_kind(linker_id, str(kind), clients=clients)
    return applied


@classified
def cluster_orphans(
    cluster_id: str, *, pass_id: str | None = None, clients: Clients | None = None
) -> dict[str, Any]:
    """Objects labelled as ours, in the namespaces the cluster's records use, that none of them owns.

    {"orphans": [{kind, namespace, name, linkerId?}] (at most ORPHANS_REPORTED), "count"}. The namespace lists
    the pass made already are reused.
    """
    clients = clients or get_clients()
    ref = parse_cluster(cluster_id)
    records = registry.list_by_cluster(ref.id, clients=clients)
    namespaces = set()
    for record in records:
        desired = record.get("desired") or {}
        if isinstance(desired, dict) and desired.get("namespace"):
            namespaces.add(str(desired["namespace"]))
    cache = for_pass(pass_id)
    secrets: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    for namespace in sorted(namespaces):
        for kind, into in (("Secret", secrets), ("ServiceAccount", accounts)):
            items = list_owned(ref, kind, namespace, clients=clients, cache=cache)
            for item in items:
                meta = item.get("metadata") or {}
                entry: dict[str, Any] = {"namespace": namespace, "name": str(meta.get("name"))}
                if kind == "Secret":
                    entry["linkerId"] = (meta.get("annotations") or {}).get(naming.LINKER_ID_ANNOTATION)
                into.append(entry)
    found = find_orphans(secrets, accounts, records)
    return {"orphans": found[:ORPHANS_REPORTED], "count": len(found)}
