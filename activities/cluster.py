"""The managed cluster: one GET for everything the workflow needs, and the feature updates it may ask for."""

from __future__ import annotations

from typing import Any

from activities.clients import Clients, get_clients
from activities.failures import classified
from activities.jsonpath import dig
from connector.errors import Category, ConnectorFailure, make_error
from connector.ids import parse_cluster
from connector.model import ClusterRef

KEY_VAULT_ADDON = "azureKeyvaultSecretsProvider"


def _cluster_json(clients: Clients, ref: ClusterRef) -> dict[str, Any]:
    cluster = clients.container_service(ref.subscription_id).managed_clusters.get(
        ref.resource_group, ref.name
    )
    return dict(cluster.as_dict())


def summarize(cluster_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The cluster facts the workflow uses, from a managedCluster GET body (no credentials in it)."""
    props = dig(body, "properties", default={})
    addon = dig(props, "addonProfiles", KEY_VAULT_ADDON, default={}) or {}
    return {
        "id": cluster_id,
        "location": body.get("location"),
        "provisioningState": dig(props, "provisioningState"),
        "powerState": dig(props, "powerState", "code"),
        "oidcIssuerEnabled": bool(dig(props, "oidcIssuerProfile", "enabled", default=False)),
        "oidcIssuerUrl": dig(props, "oidcIssuerProfile", "issuerURL"),
        "workloadIdentityEnabled": bool(
            dig(props, "securityProfile", "workloadIdentity", "enabled", default=False)
        ),
        "keyVaultAddonEnabled": bool(addon.get("enabled", False)),
        "keyVaultAddonClientId": dig(addon, "identity", "clientId"),
        "entraManaged": bool(dig(props, "aadProfile", "managed", default=False)),
    }


@classified
def read_cluster(cluster_id: str, *, clients: Clients | None = None) -> dict[str, Any]:
    """One GET: provisioning and power state, OIDC issuer, workload identity, Key Vault add-on, location."""
    clients = clients or get_clients()
    ref = parse_cluster(cluster_id)
    return summarize(ref.id, _cluster_json(clients, ref))


@classified
def enable_cluster_features(
    cluster_id: str,
    *,
    key_vault_addon: bool = False,
    workload_identity: bool = False,
    clients: Clients | None = None,
) -> dict[str, Any]:
    """Enable the Key Vault add-on and/or OIDC issuer + workload identity in one update; never disable.

    No write when everything asked for is already enabled. The update is started, not awaited: the
    orchestrator waits for provisioningState Succeeded with durable timers (read_cluster).
    """
    clients = clients or get_clients()
    ref = parse_cluster(cluster_id)
    managed_clusters = clients.container_service(ref.subscription_id).managed_clusters
    current = managed_clusters.get(ref.resource_group, ref.name)
    state = summarize(ref.id, dict(current.as_dict()))
    changes: list[str] = []
    if key_vault_addon and not state["keyVaultAddonEnabled"]:
        changes.append("keyVaultAddon")
    if workload_identity and not state["oidcIssuerEnabled"]:
        changes.append("oidcIssuer")
    if workload_identity and not state["workloadIdentityEnabled"]:
        changes.append("workloadIdentity")
    if not changes:
        return {**state, "changed": []}
    if str(state["provisioningState"]).lower() != "succeeded":
        # AKS refuses writes while an operation runs (409 OperationNotAllowed); do not spend a call on it.
        raise ConnectorFailure(
            make_error(
                Category.CLUSTER_BUSY,
                "OperationNotAllowed",
                f"The cluster is {state['provisioningState']}; {', '.join(changes)} can be enabled once "
                "it is Succeeded.",
                resource=ref.id,
            )
        )
    # The PUT body is the cluster as read (writable fields only) plus exactly the requested changes.
    body = dict(current.as_dict(exclude_readonly=True))
    props = body.setdefault("properties", {})
    if "keyVaultAddon" in changes:
        addons = props.setdefault("addonProfiles", {})
        addon = addons.setdefault(KEY_VAULT_ADDON, {})
        addon["enabled"] = True
        addon.setdefault("config", {"enableSecretRotation": "false"})
    if "oidcIssuer" in changes:
        props.setdefault("oidcIssuerProfile", {})["enabled"] = True
    if "workloadIdentity" in changes:
        security = props.setdefault("securityProfile", {})
        security.setdefault("workloadIdentity", {})["enabled"] = True
    poller = managed_clusters.begin_create_or_update(
        ref.resource_group,
        ref.name,
        body,
        polling=False,  # type: ignore[call-overload]
    )
    updated = summarize(ref.id, dict(poller.result().as_dict()))
    return {**updated, "changed": changes}
