"""The Kubernetes resources of a connection: its Secret and (workload identity) ServiceAccount.

Written with server-side apply under one fixed field manager, so a second apply of the same content changes
nothing (resourceVersion stays). The namespace is created only when an apply finds it missing, so the happy
path costs one request per object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from activities.clients import Clients, get_clients
from activities.cluster import read_cluster
from activities.failures import classified, kube_error
from activities.target_values import TargetCache, resolve
from connector import manifests, naming
from connector.errors import Category, ConnectorFailure, make_error
from connector.model import ClusterRef, Connection

FIELD_MANAGER = "aks-service-connector"
REQUEST_TIMEOUT_SECONDS = 30
_APPLY = "application/apply-patch+yaml"

T = TypeVar("T")


def with_kube(clients: Clients, cluster: ClusterRef, call: Callable[[k8s.ApiClient], T]) -> T:
    """Run a call with the cluster's cached client; after a 401, fetch fresh credentials once and retry."""
    try:
        try:
            return call(clients.kube(cluster))
        except ApiException as exc:
            if exc.status != 401:
                raise
            clients.forget_kube(cluster)
            return call(clients.kube(cluster))
    except ApiException as exc:
        if exc.status != 403:
            raise
        # Classified here, where the cluster is known: the mitigation names the scope to grant a role on.
        raise ConnectorFailure(kube_error(exc, cluster.id)) from None


def _apply(api: k8s.ApiClient, manifest: dict[str, Any]) -> dict[str, Any]:
    core = k8s.CoreV1Api(api)
    meta = manifest["metadata"]
    patch: Callable[..., Any] = (
        core.patch_namespaced_secret
        if manifest["kind"] == "Secret"
        else core.patch_namespaced_service_account
    )
    response = patch(
        meta["name"],
        meta["namespace"],
        manifest,
        field_manager=FIELD_MANAGER,
        force=True,
        _content_type=_APPLY,
        _preload_content=False,
        _request_timeout=REQUEST_TIMEOUT_SECONDS,
    )
    applied: dict[str, Any] = json.loads(response.data)
    return applied


def _create_namespace(api: k8s.ApiClient, namespace: str) -> None:
    try:
        k8s.CoreV1Api(api).create_namespace(
            k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)),
            _request_timeout=REQUEST_TIMEOUT_SECONDS,
        )
    except ApiException as exc:
        if exc.status != 409:  # created meanwhile by someone else: fine
            raise


def _apply_in_namespace(
    clients: Clients, cluster: ClusterRef, manifest: dict[str, Any], created: list[str]
) -> dict[str, Any]:
    namespace = manifest["metadata"]["namespace"]
    try:
        return with_kube(clients, cluster, lambda api: _apply(api, manifest))
    except ApiException as exc:
        if exc.status != 404:
            raise
    if not clients.settings.create_missing_namespace:
        raise ConnectorFailure(
            make_error(
                Category.NOT_FOUND,
                "NamespaceNotFound",
                f"The namespace '{namespace}' does not exist on cluster {cluster.name}, and "
                "CREATE_MISSING_NAMESPACE is false. Create the namespace, or let the connector create it.",
                resource=f"{cluster.id}/namespaces/{namespace}",
            )
        )
    with_kube(clients, cluster, lambda api: _create_namespace(api, namespace))
    created.append(namespace)
    return with_kube(clients, cluster, lambda api: _apply(api, manifest))


def _applied_summary(manifest: dict[str, Any], applied: dict[str, Any]) -> dict[str, Any]:
    meta = applied.get("metadata", {})
    return {
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "hash": manifests.content_hash(manifest),
        "resourceVersion": meta.get("resourceVersion"),
    }


@classified
def apply_connection_resources(
    connection: dict[str, Any],
    *,
    addon_client_id: str | None = None,
    tenant_id: str | None = None,
    secret: bool = True,
    service_account: bool = True,
    targets: TargetCache | None = None,
    clients: Clients | None = None,
) -> dict[str, Any]:
    """Resolve secret material, render and server-side apply the Secret (and ServiceAccount); return hashes.

    `connection` is `Connection.to_stored()` data (a sealed secret at most). `addon_client_id` is the Key
    Vault add-on identity's client id for CSI connections (read from the cluster when not given).
    `tenant_id` is the workload identity's tenant for the ServiceAccount (`plan.service_account_tenant`;
    AZURE_TENANT_ID when not given). `secret` / `service_account` say which of the two the plan found
    drifted: only those are written. `targets` shares target reads (a reconcile pass's cache).
    """
    clients = clients or get_clients()
    conn = Connection.from_stored(connection)
    cluster = conn.cluster
    if conn.key_vault_csi and not addon_client_id:
        addon_client_id = read_cluster(cluster.id, clients=clients)["keyVaultAddonClientId"]
        if not addon_client_id:
            raise ConnectorFailure(
                make_error(
                    Category.INVALID,
                    "KeyVaultAddonNotEnabled",
                    f"The azureKeyvaultSecretsProvider add-on of cluster {cluster.name} is not enabled (or "
                    "has no identity yet); enable it before writing a Key Vault CSI connection.",
                    resource=cluster.id,
                )
            )
    created: list[str] = []
    result: dict[str, Any] = {"linkerId": conn.linker_id, "serviceAccount": None, "secret": None}
    account = manifests.build_service_account(conn, tenant_id or clients.settings.tenant_id or None)
    if account is not None and service_account:
        result["serviceAccount"] = _applied_summary(
            account, _apply_in_namespace(clients, cluster, account, created)
        )
    if secret:
        values, kind = resolve(conn, clients, addon_client_id=addon_client_id, cache=targets or TargetCache())
        manifest = manifests.build_secret(conn, values, kind=kind)
        result["targetKind"] = kind
        applied = _apply_in_namespace(clients, cluster, manifest, created)
        result["secret"] = _applied_summary(manifest, applied)
    result["namespaceCreated"] = bool(created)
    return result


def delete_object(api: k8s.ApiClient, kind: str, namespace: str, name: str) -> bool:
    """Delete a Secret or ServiceAccount; False when it was absent already."""
    core = k8s.CoreV1Api(api)
    delete = core.delete_namespaced_secret if kind == "Secret" else core.delete_namespaced_service_account
    try:
        delete(name, namespace, _request_timeout=REQUEST_TIMEOUT_SECONDS)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


@classified
def delete_connection_resources(
    connection: dict[str, Any],
    *,
    delete_service_account: bool = False,
    delete_secret: bool = True,
    clients: Clients | None = None,
) -> dict[str, Any]:
    """ForcedCleanup: delete the connection's Secret (and its ServiceAccount when no other linker uses it).

    Absent objects are success. The ServiceAccount is shared by every linker of one identity in a namespace,
    so the caller says whether this was the last one. An update that changed only the identity keeps the
    Secret (the new one has the same name and namespace): `delete_secret=False`.
    """
    clients = clients or get_clients()
    conn = Connection.from_stored(connection)
    cluster = conn.cluster
    secret_name = naming.secret_name(conn.linker_name)
    result: dict[str, Any] = {
        "linkerId": conn.linker_id,
        "secret": None,
        "serviceAccount": None,
    }
    if delete_secret:
        deleted_secret = with_kube(
            clients, cluster, lambda api: delete_object(api, "Secret", conn.namespace, secret_name)
        )
        result["secret"] = {"name": secret_name, "deleted": deleted_secret}
    account = manifests.service_account_name(conn)
    if delete_service_account and account:
        deleted = with_kube(
            clients, cluster, lambda api: delete_object(api, "ServiceAccount", conn.namespace, account)
        )
        result["serviceAccount"] = {"name": account, "deleted": deleted}
    return result
