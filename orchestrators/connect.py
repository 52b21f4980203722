"""`connect`: create or update one connection, from the provider registration to the Kubernetes resources.

Input {"linkerId", "operationId", "policy", "previous"?}; the desired state is the registry record the
trigger wrote. `previous` lists the placements (namespace, workload identity) an update moved the connection
away from: once the new resources are in place, what they left behind is removed (`moves.py`, where the
deleteOrUpdateBehavior decision is written down).
Output {"linkerId", "provisioningState": "Succeeded"|"Failed", "error": ConnectorError.to_dict() | None,
"event": publish_outcome's result, or {"published": false, "error"}}; the outcome event is the last step.
"""

from __future__ import annotations

from typing import Any

from connector import naming, targets
from connector.errors import Category, make_error
from connector.model import Connection, WorkloadIdentityAuth
from orchestrators import bp
from orchestrators.flow import Flow, OrchestrationFailure, Steps
from orchestrators.moves import remove_previous_placements
from orchestrators.outcomes import run_linker_operation

_NEEDS_INSTALL = frozenset({"failed", "canceled", "deleting"})


def load_connection(flow: Flow, linker_id: str) -> Steps:
    """The linker's registry record and its desired connection; NotFound when the trigger wrote none."""
    record = yield from flow.call("registry_get", {"linkerId": linker_id})
    if not record or not record.get("desired"):
        raise OrchestrationFailure(
            make_error(
                Category.NOT_FOUND,
                "ConnectionNotFound",
                f"No registry entry for {linker_id}.",
                resource=linker_id,
            )
        )
    try:
        connection = Connection.from_stored(record["desired"])
    except ValueError as exc:
        raise OrchestrationFailure(
            make_error(
                Category.INVALID,
                "StoredConnectionInvalid",
                f"The stored desired state of {linker_id} cannot be read: {type(exc).__name__}.",
                resource=linker_id,
            )
        ) from None
    return record, connection


def ensure_extension_ready(flow: Flow, extension: dict[str, Any] | None) -> Steps:
    """Install sc-extension when missing or failed and wait until it is Succeeded."""
    cluster_id = flow.cluster_id
    if extension is None:
        extension = yield from flow.call("read_extension", {"clusterId": cluster_id})
    state = str(extension.get("provisioningState") or "").lower()
    if extension.get("present") and state == "succeeded":
        return extension
    flow.status("extension", 0, "installing sc-extension")
    if not extension.get("present") or state in _NEEDS_INSTALL:
        yield from flow.call("ensure_extension", {"clusterId": cluster_id, "reinstallFailed": True})
    return (yield from flow.wait_for_extension())


def ensure_cluster_features(flow: Flow, connection: Connection, cluster: dict[str, Any]) -> Steps:
    """Enable the Key Vault add-on (CSI) or OIDC issuer + workload identity when needed; the fresh summary."""
    key_vault = bool(connection.key_vault_csi and not cluster.get("keyVaultAddonEnabled"))
    workload = bool(
        connection.is_workload_identity
        and not (cluster.get("oidcIssuerEnabled") and cluster.get("workloadIdentityEnabled"))
    )
    if not (key_vault or workload):
        return cluster
    flow.status(
        "features",
        0,
        ", ".join(n for n, on in (("keyVaultAddon", key_vault), ("workloadIdentity", workload)) if on),
    )
    return (yield from flow.enable_cluster_features(key_vault_addon=key_vault, workload_identity=workload))


def ensure_workload_identity(flow: Flow, connection: Connection, cluster: dict[str, Any]) -> Steps:
    """The federated credential for the ServiceAccount, and the identity's roles on the target."""
    auth = connection.auth
    if not connection.is_workload_identity or not isinstance(auth, WorkloadIdentityAuth):
        return
    flow.status("identity", 0, f"identity {auth.client_id}")
    identity = yield from flow.resolve_identity(connection, auth)
    account = naming.service_account_name(auth.client_id)
    credential = yield from flow.call(
        "ensure_federated_credential",
        {
            "identityId": identity["id"],
            "clusterId": flow.cluster_id,
            "issuerUrl": cluster.get("oidcIssuerUrl"),
            "namespace": connection.namespace,
            "serviceAccount": account,
        },
    )
    # Ours only under the name we give it; one that already trusted the account under another name is not.
    ours = naming.federated_credential_name(connection.cluster, connection.namespace, account)
    if str(credential.get("name") or "").lower() == ours.lower():
        yield from record_grant(
            flow, connection, "federatedCredentials", {"identityId": identity["id"], "name": ours}
        )
    match = targets.match_target_id(connection.target_id)
    for role in match.spec.roles if match else ():
        flow.status("role", 0, f"{role.name} on {connection.target_id}")
        granted = yield from flow.call(
            "ensure_role_assignment",
            {"scope": connection.target_id, "principalId": identity["principalId"], "roleGuid": role.guid},
        )
        if granted.get("owned"):
            grant = {k: granted[k] for k in ("scope", "name", "roleDefinitionId", "principalId")}
            yield from record_grant(flow, connection, "roleAssignments", grant)


def record_grant(flow: Flow, connection: Connection, kind: str, grant: dict[str, Any]) -> Steps:
    """Record a grant on the linker's record as soon as it is made (a later step may fail); ids and names."""
    flow.granted = yield from flow.call(
        "registry_record_grant", {"linkerId": connection.linker_id, "kind": kind, "grant": grant}
    )


def converge_connection(flow: Flow, connection: Connection) -> Steps:
    """Provider → cluster Succeeded → extension → features → identity and roles → Kubernetes resources."""
    flow.status("provider", 0, connection.cluster.name)
    extension = yield from flow.call("read_extension", {"clusterId": flow.cluster_id})
    if not extension.get("providerRegistered", True):
        yield from flow.ensure_provider(connection.cluster.subscription_id)
        extension = None
    flow.status("cluster", 0, connection.cluster.name)
    cluster = yield from flow.wait_for_cluster()
    flow.status("extension", 0, connection.cluster.name)
    yield from ensure_extension_ready(flow, extension)
    cluster = yield from ensure_cluster_features(flow, connection, cluster)
    yield from ensure_workload_identity(flow, connection, cluster)
    flow.status("resources", 0, f"{connection.namespace}/{naming.secret_name(connection.linker_name)}")
    payload: dict[str, Any] = {"connection": connection.to_stored()}
    if connection.key_vault_csi and cluster.get("keyVaultAddonClientId"):
        payload["addonClientId"] = cluster["keyVaultAddonClientId"]
    return (yield from flow.call("apply_connection_resources", payload))


def connect_steps(flow: Flow, linker_id: str, data: dict[str, Any]) -> Steps:
    """Load the desired state, converge it, remove what a move left behind, record Succeeded."""
    flow.status("load", 0, linker_id)
    record, connection = yield from load_connection(flow, linker_id)
    flow.cluster_id = connection.cluster.id
    flow.granted = record.get("granted")  # what earlier attempts granted, should this one fail too
    yield from converge_connection(flow, connection)
    yield from remove_previous_placements(flow, connection, data.get("previous") or [])
    flow.status("record", 0, "Succeeded")
    yield from flow.call(
        "registry_update_status",
        {"linkerId": linker_id, "provisioningState": "Succeeded", "clearError": True},
    )


@bp.orchestration_trigger(context_name="context", orchestration="connect")
def connect_orchestrator(context: Any) -> Steps:
    """Create or update one connection, remove what a move left behind, record and announce the outcome."""
    return (yield from run_linker_operation(context, "connect", connect_steps))
