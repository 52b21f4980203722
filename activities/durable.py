"""The Durable activities: each plain operation registered on the blueprint under a stable name.

Inputs and outputs are JSON-safe dicts of ids, names and hashes (camelCase keys). Every failure leaves as
ConnectorFailure, whose text embeds the classified error for `connector.errors.parse_failure_text`.
Orchestrators call these by the names below (see activities/README.md for inputs and outputs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from activities import bp
from activities import cluster as cluster_ops
from activities import diagnostics as diagnostics_ops
from activities import events as event_ops
from activities import extension as extension_ops
from activities import identity as identity_ops
from activities import key_vault_secrets as vault_ops
from activities import kube_resources as kube_ops
from activities import observe as observe_ops
from activities import orphans as orphan_ops
from activities import passes as pass_ops
from activities import provider as provider_ops
from activities import registry as registry_ops
from activities import roles as role_ops
from activities.failures import classified
from connector import naming
from connector.boundary import Activity, PlannedPageData
from connector.errors import Category, ConnectorFailure, make_error
from connector.ids import parse_cluster
from telemetry import activity_span

Payload = Mapping[str, Any] | None


def _need(payload: Payload, key: str) -> Any:
    value = (payload or {}).get(key)
    if value is None or value == "":
        raise ConnectorFailure(
            make_error(Category.INVALID, "ActivityInputInvalid", f"The activity input needs '{key}'.")
        )
    return value


def _opt(payload: Payload, key: str, default: Any = None) -> Any:
    value = (payload or {}).get(key)
    return default if value is None else value


def _activity(name: str) -> Callable[[Callable[[Payload], Any]], Any]:
    """Register a function as the Durable activity `name` (its input binding is `payload`)."""

    def register(func: Callable[[Payload], Any]) -> Any:
        operation = classified(func)

        def wrapped(payload: Payload) -> Any:
            with activity_span(name, payload):
                return operation(payload)

        wrapped.__name__ = name
        wrapped.__qualname__ = name
        wrapped.__doc__ = func.__doc__
        return bp.activity_trigger(input_name="payload")(wrapped)

    return register


@_activity(Activity.READ_PROVIDER)
def _read_provider(payload: Payload) -> dict[str, Any]:
    """{subscriptionId, namespace?} -> {registrationState}."""
    return provider_ops.read_provider(
        _need(payload, "subscriptionId"), _opt(payload, "namespace", provider_ops.KUBERNETES_CONFIGURATION)
    )


@_activity(Activity.REGISTER_PROVIDER)
def _register_provider(payload: Payload) -> dict[str, Any]:
    """{subscriptionId, namespace?} -> {registrationState, registrationRequested}."""
    return provider_ops.register_provider(
        _need(payload, "subscriptionId"), _opt(payload, "namespace", provider_ops.KUBERNETES_CONFIGURATION)
    )


@_activity(Activity.READ_CLUSTER)
def _read_cluster(payload: Payload) -> dict[str, Any]:
    """{clusterId} -> cluster summary (provisioningState, powerState, OIDC, workload identity, add-on)."""
    return cluster_ops.read_cluster(_need(payload, "clusterId"))


@_activity(Activity.ENABLE_CLUSTER_FEATURES)
def _enable_cluster_features(payload: Payload) -> dict[str, Any]:
    """{clusterId, keyVaultAddon?, workloadIdentity?} -> cluster summary + changed."""
    return cluster_ops.enable_cluster_features(
        _need(payload, "clusterId"),
        key_vault_addon=bool(_opt(payload, "keyVaultAddon", False)),
        workload_identity=bool(_opt(payload, "workloadIdentity", False)),
    )


@_activity(Activity.READ_EXTENSION)
def _read_extension(payload: Payload) -> dict[str, Any]:
    """{clusterId} -> extension summary (present, provisioningState, statuses)."""
    return extension_ops.read_extension(_need(payload, "clusterId"))


@_activity(Activity.ENSURE_EXTENSION)
def _ensure_extension(payload: Payload) -> dict[str, Any]:
    """{clusterId, reinstallFailed?} -> extension summary + action (none/install/upgrade/reinstall)."""
    return extension_ops.ensure_extension(
        _need(payload, "clusterId"), reinstall_failed=bool(_opt(payload, "reinstallFailed", False))
    )


@_activity(Activity.DELETE_EXTENSION)
def _delete_extension(payload: Payload) -> dict[str, Any]:
    """{clusterId} -> {deleted}."""
    return extension_ops.delete_extension(_need(payload, "clusterId"))


@_activity(Activity.RESOLVE_IDENTITY)
def _resolve_identity(payload: Payload) -> dict[str, Any]:
    """{clientId, subscriptionId, identityResourceId?} -> {id, clientId, principalId, tenantId}."""
    return identity_ops.resolve_identity(
        _need(payload, "clientId"), _need(payload, "subscriptionId"), _opt(payload, "identityResourceId")
    )


@_activity(Activity.ENSURE_FEDERATED_CREDENTIAL)
def _ensure_federated_credential(payload: Payload) -> dict[str, Any]:
    """{identityId, clusterId, issuerUrl, namespace, serviceAccount, recordFor?: [linkerId]} -> {name, action,
    granted?}: a credential under our own name is recorded as granted on each linker of `recordFor`."""
    result = identity_ops.ensure_federated_credential(
        _need(payload, "identityId"),
        _need(payload, "clusterId"),
        _need(payload, "issuerUrl"),
        _need(payload, "namespace"),
        _need(payload, "serviceAccount"),
    )
    cluster = parse_cluster(_need(payload, "clusterId"))
    namespace, account = _need(payload, "namespace"), _need(payload, "serviceAccount")
    ours = naming.federated_credential_name(cluster, namespace, account)
    if str(result.get("name") or "").lower() == ours.lower():
        grant = {"identityId": str(result["identityId"]), "name": ours}
        return {**result, **_record_grants(payload, "federatedCredentials", grant)}
    return result


def _record_grants(payload: Payload, kind: str, grant: dict[str, Any]) -> dict[str, Any]:
    """Record a grant on each linker of `recordFor` as soon as it is made (a later step may fail); the last
    linker's updated `granted`. A linker deleted meanwhile is skipped: its operation records nothing more."""
    granted: dict[str, Any] = {}
    for linker_id in _opt(payload, "recordFor", []) or []:
        try:
            granted = {"granted": registry_ops.record_grant(str(linker_id), kind, grant)}
        except ConnectorFailure as failure:
            if failure.error.category is not Category.NOT_FOUND:
                raise
    return granted


@_activity(Activity.DELETE_FEDERATED_CREDENTIAL)
def _delete_federated_credential(payload: Payload) -> dict[str, Any]:
    """{identityId, name} -> {deleted}."""
    return identity_ops.delete_federated_credential(_need(payload, "identityId"), _need(payload, "name"))


@_activity(Activity.ENSURE_ROLE_ASSIGNMENT)
def _ensure_role_assignment(payload: Payload) -> dict[str, Any]:
    """{scope, principalId, roleGuid, recordFor?: [linkerId]} -> {name, action, owned, granted?}: an
    assignment of ours is recorded as granted on each linker of `recordFor`."""
    result = role_ops.ensure_role_assignment(
        _need(payload, "scope"), _need(payload, "principalId"), _need(payload, "roleGuid")
    )
    if result.get("owned"):
        grant = {k: str(result[k]) for k in ("scope", "name", "roleDefinitionId", "principalId")}
        return {**result, **_record_grants(payload, "roleAssignments", grant)}
    return result


@_activity(Activity.DELETE_ROLE_ASSIGNMENT)
def _delete_role_assignment(payload: Payload) -> dict[str, Any]:
    """{scope, name} or {scope, principalId, roleGuid} -> {name, deleted}: only an assignment this product
    created (by its recorded name, else by the name it derives)."""
    if _opt(payload, "name"):
        return role_ops.delete_role_assignment(_need(payload, "scope"), _need(payload, "name"))
    return role_ops.delete_granted_role(
        _need(payload, "scope"), _need(payload, "principalId"), _need(payload, "roleGuid")
    )


@_activity(Activity.APPLY_CONNECTION_RESOURCES)
def _apply_connection_resources(payload: Payload) -> dict[str, Any]:
    """{connection (stored form), addonClientId?, tenantId?, secret?, serviceAccount? (both default true)}
    -> {secret: {name, hash, resourceVersion} | null, serviceAccount, namespaceCreated, targetKind?}."""
    return kube_ops.apply_connection_resources(
        _need(payload, "connection"),
        addon_client_id=_opt(payload, "addonClientId"),
        tenant_id=_opt(payload, "tenantId"),
        secret=bool(_opt(payload, "secret", True)),
        service_account=bool(_opt(payload, "serviceAccount", True)),
    )


@_activity(Activity.DELETE_CONNECTION_RESOURCES)
def _delete_connection_resources(payload: Payload) -> dict[str, Any]:
    """{connection, deleteServiceAccount?, deleteSecret? (default true)} -> {secret, serviceAccount}."""
    return kube_ops.delete_connection_resources(
        _need(payload, "connection"),
        delete_service_account=bool(_opt(payload, "deleteServiceAccount", False)),
        delete_secret=bool(_opt(payload, "deleteSecret", True)),
    )


@_activity(Activity.PUBLISH_OUTCOME)
def _publish_outcome(payload: Payload) -> dict[str, Any]:
    """{operationId, linkerId, kind, provisioningState, error?} -> {published, queue?, messageId?}."""
    for key in ("operationId", "linkerId", "kind", "provisioningState"):
        _need(payload, key)
    return event_ops.publish_outcome(payload or {})


@_activity(Activity.OBSERVE_CLUSTER)
def _observe_cluster(payload: Payload) -> dict[str, Any]:
    """{clusterId, connections: [stored]} -> ObservedCluster.to_dict()."""
    return observe_ops.observe_cluster(_need(payload, "clusterId"), list(_opt(payload, "connections", [])))


@_activity(Activity.DELETE_ORPHANS)
def _delete_orphans(payload: Payload) -> dict[str, Any]:
    """{clusterId, orphans: [{kind, namespace, name, linkerId?}]} -> {removed: [...]}."""
    return orphan_ops.delete_orphans(_need(payload, "clusterId"), list(_opt(payload, "orphans", [])))


@_activity(Activity.COLLECT_DIAGNOSTICS)
def _collect_diagnostics(payload: Payload) -> dict[str, Any]:
    """{clusterId} -> compact diagnostics report."""
    return diagnostics_ops.collect_diagnostics(_need(payload, "clusterId"))


@_activity(Activity.REGISTRY_GET)
def _registry_get(payload: Payload) -> dict[str, Any] | None:
    """{linkerId} -> record or None."""
    return registry_ops.get_record(_need(payload, "linkerId"))


@_activity(Activity.REGISTRY_PUT)
def _registry_put(payload: Payload) -> dict[str, Any]:
    """{record, etag?} -> record with its new etag."""
    return registry_ops.put_record(_need(payload, "record"), etag=_opt(payload, "etag"))


@_activity(Activity.REGISTRY_UPDATE_STATUS)
def _registry_update_status(payload: Payload) -> dict[str, Any]:
    """{linkerId, provisioningState, lastOperation?, lastError?, clearError?, reconciled?, lastReconcile?,
    etag?}."""
    return registry_ops.update_status(
        _need(payload, "linkerId"),
        _need(payload, "provisioningState"),
        last_operation=_opt(payload, "lastOperation"),
        last_error=_opt(payload, "lastError"),
        clear_error=bool(_opt(payload, "clearError", False)),
        reconciled=bool(_opt(payload, "reconciled", False)),
        last_reconcile=_opt(payload, "lastReconcile"),
        etag=_opt(payload, "etag"),
    )


@_activity(Activity.REGISTRY_DELETE)
def _registry_delete(payload: Payload) -> dict[str, Any]:
    """{linkerId, etag?} -> {deleted}."""
    return {"deleted": registry_ops.delete_record(_need(payload, "linkerId"), etag=_opt(payload, "etag"))}


@_activity(Activity.REGISTRY_SERVICE_ACCOUNT_USERS)
def _registry_service_account_users(payload: Payload) -> list[str]:
    """{clusterId, namespace, clientId, excludeLinkerId?} -> ids of the other linkers whose workloads run as
    that identity's ServiceAccount in that namespace (one filtered query; ids only)."""
    return registry_ops.service_account_users(
        _need(payload, "clusterId"),
        _need(payload, "namespace"),
        _need(payload, "clientId"),
        exclude_linker_id=_opt(payload, "excludeLinkerId", ""),
    )


@_activity(Activity.REGISTRY_LINKERS_GRANTED)
def _registry_linkers_granted(payload: Payload) -> list[str]:
    """{clientId, targetId, excludeLinkerId?} -> ids of the other linkers granted that identity there."""
    return registry_ops.linkers_granted(
        _need(payload, "clientId"),
        _need(payload, "targetId"),
        exclude_linker_id=_opt(payload, "excludeLinkerId", ""),
    )


@_activity(Activity.PLAN_CONNECTIONS)
def _plan_connections(payload: Payload) -> PlannedPageData:
    """{clusterId, linkerIds? | continuation?, pageSize?, passId?, forceApply?} -> {linkers, planned,
    failures, observed, continuation} (ids, names and hashes only; see activities/passes.py)."""
    linker_ids = _opt(payload, "linkerIds")
    return pass_ops.plan_connections(
        _need(payload, "clusterId"),
        linker_ids=[str(i) for i in linker_ids] if linker_ids is not None else None,
        continuation=_opt(payload, "continuation"),
        page_size=int(_opt(payload, "pageSize", pass_ops.PAGE_SIZE)),
        pass_id=_opt(payload, "passId"),
        force_apply=bool(_opt(payload, "forceApply", False)),
    )


@_activity(Activity.APPLY_LINKER)
def _apply_linker(payload: Payload) -> dict[str, Any]:
    """{linkerId, secret?, serviceAccount? (default true), tenantId?, addonClientId?, passId?} -> what it
    wrote."""
    return pass_ops.apply_linker(
        _need(payload, "linkerId"),
        secret=bool(_opt(payload, "secret", True)),
        service_account=bool(_opt(payload, "serviceAccount", True)),
        tenant_id=_opt(payload, "tenantId"),
        addon_client_id=_opt(payload, "addonClientId"),
        pass_id=_opt(payload, "passId"),
    )


@_activity(Activity.STORE_VAULT_SECRETS)
def _store_vault_secrets(payload: Payload) -> dict[str, Any]:
    """{linkerId, addonClientId?, passId?} -> {linkerId, keyVaultId, secrets: [{name, version, written}],
    secretProviderClass: {name, namespace, hash}}."""
    return vault_ops.store_vault_secrets(
        _need(payload, "linkerId"),
        addon_client_id=_opt(payload, "addonClientId"),
        pass_id=_opt(payload, "passId"),
    )


@_activity(Activity.DELETE_VAULT_SECRETS)
def _delete_vault_secrets(payload: Payload) -> dict[str, Any]:
    """{connection, targetKind?, vaultSecrets? (default true)} -> {linkerId, deleted: [names],
    secretProviderClass: {name, deleted}}."""
    return vault_ops.delete_vault_secrets(
        _need(payload, "connection"),
        target_kind=_opt(payload, "targetKind"),
        vault_secrets=bool(_opt(payload, "vaultSecrets", True)),
    )


@_activity(Activity.CLUSTER_ORPHANS)
def _cluster_orphans(payload: Payload) -> dict[str, Any]:
    """{clusterId, passId?} -> {orphans (at most 100), count}."""
    return pass_ops.cluster_orphans(_need(payload, "clusterId"), pass_id=_opt(payload, "passId"))


@_activity(Activity.REGISTRY_CLUSTER_PAGE)
def _registry_cluster_page(payload: Payload) -> dict[str, Any]:
    """{offset?, pageSize?} -> {clusters: [cluster id], next: offset | null}: the clusters holding records."""
    offset = int(_opt(payload, "offset", 0))
    size = int(_opt(payload, "pageSize", 100))
    clusters = registry_ops.cluster_ids()
    page = clusters[offset : offset + size]
    return {"clusters": page, "next": offset + size if offset + size < len(clusters) else None}


@_activity(Activity.REGISTRY_STAMP_RECONCILED)
def _registry_stamp_reconciled(payload: Payload) -> dict[str, Any]:
    """{clusterId, stamps: [{name, generation, provisioningState, previousState, lastReconcile, error?}],
    errors: [error]} -> {stamped, skipped}: one pass's outcome for many records, in Table transactions."""
    return registry_ops.stamp_reconciled(
        _need(payload, "clusterId"), list(_opt(payload, "stamps", [])), list(_opt(payload, "errors", []))
    )


# Every activity registered above, by name (a test checks the registrations and this agree).
ACTIVITY_NAMES = tuple(Activity)
