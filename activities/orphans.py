"""Remove orphans (RECONCILE_REMOVE_ORPHANS): our labelled Secrets and ServiceAccounts that no record owns.

The reconcile found them from a registry listing made before it observed the cluster; a request may have
written a record since. So the registry is read again here, and only what is still an orphan, and still
carries our managed-by label, is deleted. Absent objects are success.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from activities import registry
from activities.clients import Clients, get_clients
from activities.failures import classified
from activities.kube_resources import REQUEST_TIMEOUT_SECONDS, delete_object, with_kube
from connector import naming
from connector.ids import parse_cluster
from connector.orphans import SECRET, find_orphans


def _delete_if_ours(api: k8s.ApiClient, kind: str, namespace: str, name: str) -> bool:
    core = k8s.CoreV1Api(api)
    read = core.read_namespaced_secret if kind == SECRET else core.read_namespaced_service_account
    try:
        found = read(name, namespace, _request_timeout=REQUEST_TIMEOUT_SECONDS)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    labels = (found.metadata.labels or {}) if found.metadata else {}
    if labels.get(naming.MANAGED_BY_LABEL) != naming.MANAGED_BY_VALUE:
        return False  # re-created by someone else meanwhile: not ours to remove
    return delete_object(api, kind, namespace, name)


@classified
def delete_orphans(
    cluster_id: str, orphans: list[dict[str, Any]], *, clients: Clients | None = None
) -> dict[str, Any]:
    """Delete the given orphans that are still orphans; `{removed: [{kind, namespace, name}]}`."""
    clients = clients or get_clients()
    ref = parse_cluster(cluster_id)
    records = registry.list_by_cluster(ref.id, clients=clients)
    secrets = [o for o in orphans if o.get("kind") == SECRET]
    accounts = [o for o in orphans if o.get("kind") != SECRET]
    removed = []
    for orphan in find_orphans(secrets, accounts, records):
        kind, namespace, name = orphan["kind"], orphan["namespace"], orphan["name"]
        if with_kube(clients, ref, lambda api: _delete_if_ours(api, kind, namespace, name)):  # noqa: B023
            removed.append(orphan)
    return {"removed": removed}
