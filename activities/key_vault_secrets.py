"""The secret store in Key Vault: observing, writing and deleting a linker's vault secrets and its
SecretProviderClass (rules: connector/secret_store.py; requirements: README "Secret store in Key Vault").

Secret values exist only inside these functions: they are compared as HMAC fingerprints under a key the
process holds (SECRET_SEALING_KEY when set, else a random per-process key; a fingerprint is only compared with
another made by the same process in the same observation), and callers get names, versions and hashes.

Writes are idempotent: a vault secret gets a new version only when its latest value differs from the value
rendered now, so a converged linker costs reads only. A name left soft-deleted by an earlier ForcedCleanup is
recovered before it is written again (Key Vault refuses to reuse it otherwise).

Requirement: the workload reads the vault through the Key Vault CSI driver as the azureKeyvaultSecretsProvider
add-on's identity, whose access to the vault is what a Key Vault CSI linker on the same cluster for the same
vault sets up. Without one, the write fails with KeyVaultCsiConnectionMissing (nothing written).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable, Hashable, Mapping
from functools import partial
from typing import Any, TypeVar

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from activities import registry
from activities.clients import Clients, get_clients
from activities.cluster import read_cluster
from activities.failures import classified, to_failure
from activities.kube_resources import FIELD_MANAGER, REQUEST_TIMEOUT_SECONDS, with_kube
from activities.pass_cache import PassCache, for_pass
from activities.scope_guard import require_within
from activities.target_values import TargetCache, api_version_for, resolve
from connector import manifests, naming, plan, secret_store
from connector.errors import Category, ConnectorFailure, connection_not_found, make_error
from connector.model import ClusterRef, Connection

_LOG = logging.getLogger(__name__)
T = TypeVar("T")

_GROUP, _VERSION = secret_store.SECRET_PROVIDER_CLASS_API_VERSION.split("/")
_PLURAL = "secretproviderclasses"
_PROCESS_KEY = os.urandom(32)
LINKER_TAG = "aks-service-connector-linker"
CSI_MITIGATION = (
    "Create a Key Vault connection with the CSI driver for the same vault on this cluster first (az aks "
    "connection create keyvault --enable-csi, or a linker with targetService.resourceProperties."
    "connectAsKubernetesCsiDriver true), so that the azureKeyvaultSecretsProvider add-on's identity reads "
    "the vault; then retry."
)


def _fresh(key: Hashable, read: Callable[[], T]) -> T:
    return read()


def _memo(cache: PassCache | None) -> Callable[[Hashable, Callable[[], Any]], Any]:
    return cache.memo if cache is not None else _fresh


def fingerprint(items: Mapping[str, str], key: bytes) -> str:
    """A keyed fingerprint of name -> value pairs (order-free); equal values give equal fingerprints."""
    canonical = json.dumps(dict(sorted(items.items())), separators=(",", ":"), ensure_ascii=False)
    return "hmac-sha256:" + hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _key(clients: Clients) -> bytes:
    return clients.settings.sealing_key or _PROCESS_KEY


def read_vault(clients: Clients, vault_id: str, cache: TargetCache) -> dict[str, str]:
    """{"uri", "tenantId"} of a vault, read once per pass through ARM; refused outside ALLOWED_SCOPES."""
    require_within(vault_id, clients.settings.allowed_scopes, "The secret store vault")
    body = cache.bodies.get(vault_id.lower())
    if body is None:
        body = clients.arm_request("GET", vault_id, api_version_for(vault_id)) or {}
        cache.bodies[vault_id.lower()] = body
    props = body.get("properties") or {}
    uri = str(props.get("vaultUri") or "")
    if not uri:
        raise ConnectorFailure(
            make_error(
                Category.TRANSIENT,
                "VaultUriUnavailable",
                f"The vault {vault_id} reported no vaultUri.",
                resource=vault_id,
            )
        )
    return {"uri": uri, "tenantId": str(props.get("tenantId") or clients.settings.tenant_id or "")}


def rendered_vault_values(
    connection: Connection, clients: Clients, addon_client_id: str | None, cache: TargetCache
) -> tuple[dict[str, str], str]:
    """(vault secret name -> value rendered now from fresh keys, the target kind as read)."""
    values, kind = resolve(connection, clients, addon_client_id=addon_client_id, cache=cache)
    _, vault = secret_store.split(connection, manifests.render(connection, values, kind=kind), kind=kind)
    return vault, kind


def _latest(client: SecretClient, name: str) -> str | None:
    try:
        value = client.get_secret(name).value
    except ResourceNotFoundError:
        return None
    return value


def _list_provider_classes(clients: Clients, cluster: ClusterRef, namespace: str) -> list[dict[str, Any]]:
    def call(api: k8s.ApiClient) -> list[dict[str, Any]]:
        listed: Any = k8s.CustomObjectsApi(api).list_namespaced_custom_object(
            _GROUP,
            _VERSION,
            namespace,
            _PLURAL,
            label_selector=naming.managed_by_selector(),
            _request_timeout=REQUEST_TIMEOUT_SECONDS,
        )
        items: list[dict[str, Any]] = listed.get("items") or []
        return [{**item, "kind": secret_store.SECRET_PROVIDER_CLASS_KIND} for item in items]

    return with_kube(clients, cluster, call)


def observe_vault_secrets(
    connections: list[Connection],
    *,
    clients: Clients,
    addon_client_id: str | None,
    targets: TargetCache,
    cache: PassCache | None = None,
) -> tuple[plan.ObservedVaultSecrets, ...]:
    """Fingerprints of each secret-store linker's vault secrets (latest versions vs rendered now) and hashes
    of its SecretProviderClass; one label-selected list per namespace, one read per vault secret."""
    memo = _memo(cache)
    key = _key(clients)
    observed: list[plan.ObservedVaultSecrets] = []
    for connection in connections:
        store = connection.secret_store
        if store is None:
            continue
        rendered_now = in_vault = None
        class_now = None
        try:
            vault = read_vault(clients, store.key_vault_id, targets)
            wanted, kind = rendered_vault_values(connection, clients, addon_client_id, targets)
            rendered_now = fingerprint(wanted, key)
            client = clients.key_vault_secrets(vault["uri"])
            current = {name: _latest(client, name) for name in wanted}
            if all(value is not None for value in current.values()):
                in_vault = fingerprint({n: v for n, v in current.items() if v is not None}, key)
            if addon_client_id:
                desired = secret_store.build_secret_provider_class(
                    connection, tenant_id=vault["tenantId"], addon_client_id=addon_client_id, kind=kind
                )
                class_now = manifests.content_hash(desired)
        except Exception as exc:  # reported as drift: the write that follows fails with the classified error
            _LOG.info("cannot observe the vault of %s: %s", connection.linker_id, to_failure(exc).error.code)
        listed: list[dict[str, Any]] = memo(
            ("SecretProviderClass", connection.cluster.id.lower(), connection.namespace),
            partial(_list_provider_classes, clients, connection.cluster, connection.namespace),
        )
        name = secret_store.secret_provider_class_name(connection.linker_name)
        on_cluster = next((i for i in listed if (i.get("metadata") or {}).get("name") == name), None)
        observed.append(
            plan.ObservedVaultSecrets(
                linker_id=connection.linker_id,
                fingerprint_in_vault=in_vault,
                fingerprint_rendered_now=rendered_now,
                provider_class_hash_on_cluster=manifests.content_hash(on_cluster) if on_cluster else None,
                provider_class_hash_rendered_now=class_now,
            )
        )
    return tuple(observed)


def _require_csi_connection(connection: Connection, clients: Clients, cache: PassCache | None) -> None:
    vault_id = connection.secret_store.key_vault_id if connection.secret_store else ""
    records = _memo(cache)(
        ("records", connection.cluster.id.lower()),
        lambda: registry.list_by_cluster(connection.cluster.id, clients=clients),
    )
    for record in records:
        desired = record.get("desired") or {}
        if (
            isinstance(desired, dict)
            and desired.get("key_vault_csi")
            and str(desired.get("target_id") or "").lower() == vault_id.lower()
        ):
            return
    error = make_error(
        Category.INVALID,
        "KeyVaultCsiConnectionMissing",
        f"The secret store of {connection.linker_name} is vault {vault_id}, but cluster "
        f"{connection.cluster.name} has no Key Vault CSI connection to it: workloads could not read the "
        "secret. Nothing was written to the vault.",
        resource=vault_id,
    )
    raise ConnectorFailure(dataclasses.replace(error, mitigation=CSI_MITIGATION))


def _addon_client_id(connection: Connection, clients: Clients, given: str | None) -> str:
    found = given or read_cluster(connection.cluster.id, clients=clients)["keyVaultAddonClientId"]
    if not found:
        raise ConnectorFailure(
            dataclasses.replace(
                make_error(
                    Category.INVALID,
                    "KeyVaultAddonNotEnabled",
                    f"The azureKeyvaultSecretsProvider add-on of cluster {connection.cluster.name} is not "
                    "enabled (or has no identity yet): workloads could not read the secret store.",
                    resource=connection.cluster.id,
                ),
                mitigation=CSI_MITIGATION,
            )
        )
    return str(found)


def _set(client: SecretClient, name: str, value: str, linker_id: str) -> str:
    tags = {LINKER_TAG: naming.linker_hash(linker_id)}
    try:
        written = client.set_secret(name, value, content_type="text/plain", tags=tags)
    except ResourceExistsError:
        # Soft-deleted by an earlier ForcedCleanup: the name is taken until recovered (or purged).
        client.begin_recover_deleted_secret(name).result()
        written = client.set_secret(name, value, content_type="text/plain", tags=tags)
    return str(written.properties.version)


def _apply_provider_class(clients: Clients, cluster: ClusterRef, manifest: dict[str, Any]) -> dict[str, Any]:
    meta = manifest["metadata"]

    def call(api: k8s.ApiClient) -> dict[str, Any]:
        applied: Any = k8s.CustomObjectsApi(api).patch_namespaced_custom_object(
            _GROUP,
            _VERSION,
            meta["namespace"],
            _PLURAL,
            meta["name"],
            manifest,
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
            _request_timeout=REQUEST_TIMEOUT_SECONDS,
        )
        return dict(applied)

    return with_kube(clients, cluster, call)


@classified
def store_vault_secrets(
    linker_id: str,
    *,
    addon_client_id: str | None = None,
    pass_id: str | None = None,
    clients: Clients | None = None,
) -> dict[str, Any]:
    """Write a secret-store linker's secret values into its vault where they differ, and apply its
    SecretProviderClass. {"linkerId", "keyVaultId", "secrets": [{name, version, written}],
    "secretProviderClass": {name, namespace, hash}}: names, versions and hashes only."""
    clients = clients or get_clients()
    cache = for_pass(pass_id)
    record = registry.get_record(linker_id, clients=clients)
    if record is None or not record.get("desired"):
        raise ConnectorFailure(connection_not_found(linker_id))
    connection = Connection.from_stored(record["desired"])
    store = connection.secret_store
    if store is None:
        raise ConnectorFailure(
            make_error(
                Category.INVALID,
                "SecretStoreNotConfigured",
                f"{linker_id} has no secret store.",
                resource=linker_id,
            )
        )
    targets = cache.targets if cache is not None else TargetCache()
    vault = read_vault(clients, store.key_vault_id, targets)
    _require_csi_connection(connection, clients, cache)
    addon = _addon_client_id(connection, clients, addon_client_id)
    wanted, kind = rendered_vault_values(connection, clients, addon, targets)
    client = clients.key_vault_secrets(vault["uri"])
    written: list[dict[str, Any]] = []
    for name, value in wanted.items():
        if _latest(client, name) == value:
            written.append({"name": name, "version": None, "written": False})
            continue
        written.append({"name": name, "version": _set(client, name, value, linker_id), "written": True})
    manifest = secret_store.build_secret_provider_class(
        connection, tenant_id=vault["tenantId"], addon_client_id=addon, kind=kind
    )
    _apply_provider_class(clients, connection.cluster, manifest)
    return {
        "linkerId": connection.linker_id,
        "keyVaultId": store.key_vault_id,
        "secrets": written,
        "secretProviderClass": {
            "name": manifest["metadata"]["name"],
            "namespace": connection.namespace,
            "hash": manifests.content_hash(manifest),
        },
    }


def _soft_delete(clients: Clients, vault_id: str, names: list[str]) -> list[str]:
    """Delete each named vault secret (soft delete: recoverable for the vault's retention); the ones that were
    there."""
    client = clients.key_vault_secrets(read_vault(clients, vault_id, TargetCache())["uri"])
    deleted = []
    for name in names:
        try:
            client.begin_delete_secret(name).result()
        except ResourceNotFoundError:
            continue
        deleted.append(name)
    return deleted


@classified
def delete_vault_secrets(
    connection: dict[str, Any],
    *,
    target_kind: str | None = None,
    vault_secrets: bool = True,
    clients: Clients | None = None,
) -> dict[str, Any]:
    """ForcedCleanup of a secret-store linker: soft-delete its vault secrets (unless `vault_secrets` is False:
    a move keeps them) and delete its SecretProviderClass; what is absent already is success.
    {"linkerId", "deleted": [names], "secretProviderClass": {name, deleted}}."""
    clients = clients or get_clients()
    conn = Connection.from_stored(connection)
    store = conn.secret_store
    if store is None:
        return {"linkerId": conn.linker_id, "deleted": [], "secretProviderClass": None}
    names = list(secret_store.vault_secret_names(conn, kind=target_kind).values()) if vault_secrets else []
    deleted = _soft_delete(clients, store.key_vault_id, names) if names else []
    class_name = secret_store.secret_provider_class_name(conn.linker_name)

    def remove(api: k8s.ApiClient) -> bool:
        try:
            k8s.CustomObjectsApi(api).delete_namespaced_custom_object(
                _GROUP,
                _VERSION,
                conn.namespace,
                _PLURAL,
                class_name,
                _request_timeout=REQUEST_TIMEOUT_SECONDS,
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    removed = with_kube(clients, conn.cluster, remove)
    return {
        "linkerId": conn.linker_id,
        "deleted": deleted,
        "secretProviderClass": {"name": class_name, "deleted": removed},
    }
