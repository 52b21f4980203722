"""`disconnect`: remove a connection from the registry; with ForcedCleanup, also what it created.

Input {"linkerId", "operationId", "forcedCleanup", "policy"}. By default the Secret, the ServiceAccount, the
federated credential and the role assignment stay (as Service Connector does); ForcedCleanup (from the
request, or the connection's deleteOrUpdateBehavior) deletes the Secret, the ServiceAccount and federated
credential when no other linker of the cluster shares them, a secret store's vault secrets (soft-deleted) and
SecretProviderClass, and the role assignments this product created when no other linker (of any cluster)
grants the same identity on the same target. What was created is read
from the record's `granted` (connect records each grant as it makes it, so a half-done connect is cleaned up
exactly); a record from before grants were recorded falls back to the names the product derives. Output as
`connect`'s; the last step publishes the outcome event (`outcomes.announce`).
"""

from __future__ import annotations

from typing import Any

from connector import naming, targets
from connector.boundary import Activity
from connector.errors import Category
from connector.model import Connection, DeleteOrUpdateBehavior, WorkloadIdentityAuth
from orchestrators import bp
from orchestrators.flow import Flow, OrchestrationFailure, Steps
from orchestrators.outcomes import run_linker_operation
from telemetry import orchestration_episode


def clean_up(
    flow: Flow,
    connection: Connection,
    *,
    delete_secret: bool = True,
    revoke_roles_granted: bool = True,
    granted: dict[str, Any] | None = None,
    vault_target_kind: str | None = None,
) -> Steps:
    """Delete the Secret, and the ServiceAccount and federated credential that no other linker shares.

    `delete_secret=False` keeps the Secret (an update that moved only the identity: the new Secret has the
    same name); `revoke_roles_granted=False` keeps the role assignments (see `revoke_roles`). A secret store's
    SecretProviderClass goes with the Secret; its vault secrets only on delete, when `vault_target_kind` (the
    kind the linker was applied as, which names them) is given. `granted` is the
    record's list of what the connection's operations granted: when given, exactly those grants are removed;
    a record from before grants were recorded (None) falls back to the names the product derives.
    """
    last_user = False
    auth = connection.workload_identity
    if auth is not None:
        others = yield from flow.call(
            Activity.REGISTRY_SERVICE_ACCOUNT_USERS,
            {
                "clusterId": flow.cluster_id,
                "namespace": connection.namespace,
                "clientId": auth.client_id,
                "excludeLinkerId": connection.linker_id,
            },
        )
        last_user = not others
    flow.status("cleanup", 0, f"{connection.namespace}/{naming.secret_name(connection.linker_name)}")
    if delete_secret or last_user:
        yield from flow.call(
            Activity.DELETE_CONNECTION_RESOURCES,
            {
                "connection": connection.to_stored(),
                "deleteServiceAccount": last_user,
                "deleteSecret": delete_secret,
            },
        )
    if connection.secret_store is not None and (vault_target_kind or delete_secret):
        # A move keeps the vault secrets (the new placement reads the same ones): only its
        # SecretProviderClass, in the namespace left, goes.
        flow.status("cleanup", 0, f"secret store of {connection.linker_name}")
        yield from flow.call(
            Activity.DELETE_VAULT_SECRETS,
            {
                "connection": connection.to_stored(),
                "targetKind": vault_target_kind,
                "vaultSecrets": bool(vault_target_kind),
            },
        )
    # Workload identity proper only: the Key Vault CSI driver uses the add-on's own identity, which the
    # product granted nothing and must not touch.
    if auth is None or not (last_user or revoke_roles_granted):
        return
    if granted is not None:
        yield from remove_recorded_grants(
            flow, connection, auth, granted, credentials=last_user, roles=revoke_roles_granted
        )
        return
    try:
        identity = yield from flow.resolve_identity(connection, auth)
    except OrchestrationFailure as failure:
        if failure.error.category is not Category.NOT_FOUND:
            raise
        # The identity is gone, and its federated credentials with it: nothing left to remove on it.
        flow.status("cleanup", 0, f"identity {auth.client_id} not found; nothing to remove on it")
        return
    if last_user:
        account = naming.service_account_name(auth.client_id)
        name = naming.federated_credential_name(connection.cluster, connection.namespace, account)
        flow.status("cleanup", 0, f"federated credential {name}")
        yield from flow.call(
            Activity.DELETE_FEDERATED_CREDENTIAL, {"identityId": identity["id"], "name": name}
        )
    if revoke_roles_granted:
        yield from revoke_roles(flow, connection, auth, identity["principalId"])


def remove_recorded_grants(
    flow: Flow,
    connection: Connection,
    auth: WorkloadIdentityAuth,
    granted: dict[str, Any],
    *,
    credentials: bool,
    roles: bool,
) -> Steps:
    """Delete what the record says the connection was granted: its federated credential for the current
    ServiceAccount (when no other linker shares it), and its role assignments (unless another linker relies
    on them). Nothing is looked up: a grant that is already gone is success."""
    account = naming.service_account_name(auth.client_id)
    ours = naming.federated_credential_name(connection.cluster, connection.namespace, account).lower()
    recorded_credentials = (granted.get("federatedCredentials") or []) if credentials else []
    for credential in recorded_credentials:
        # A credential left by an earlier placement may trust a ServiceAccount another linker still uses.
        if str(credential.get("name") or "").lower() != ours:
            continue
        flow.status("cleanup", 0, f"federated credential {credential['name']}")
        yield from flow.call(
            Activity.DELETE_FEDERATED_CREDENTIAL,
            {"identityId": credential["identityId"], "name": credential["name"]},
        )
    assignments = (granted.get("roleAssignments") or []) if roles else []
    if not assignments or (yield from _roles_shared(flow, connection, auth)):
        return
    for assignment in assignments:
        flow.status("cleanup", 0, f"role assignment {assignment['name']} on {assignment['scope']}")
        yield from flow.call(
            Activity.DELETE_ROLE_ASSIGNMENT, {"scope": assignment["scope"], "name": assignment["name"]}
        )


def _roles_shared(flow: Flow, connection: Connection, auth: WorkloadIdentityAuth) -> Steps:
    """True (and said in the status) when another linker grants the same identity on the same target."""
    sharing = yield from flow.call(
        Activity.REGISTRY_LINKERS_GRANTED,
        {
            "clientId": auth.client_id,
            "targetId": connection.target_id,
            "excludeLinkerId": connection.linker_id,
        },
    )
    if sharing:
        flow.status("cleanup", 0, f"role assignments kept: {len(sharing)} other linker(s) rely on them")
    return bool(sharing)


def revoke_roles(flow: Flow, connection: Connection, auth: WorkloadIdentityAuth, principal_id: str) -> Steps:
    """Delete the role assignments granted for this connection (the names the product derives), unless
    another linker relies on them. For records from before grants were recorded."""
    if (yield from _roles_shared(flow, connection, auth)):
        return
    match = targets.match_target_id(connection.target_id)
    for role in match.spec.roles if match else ():
        flow.status("cleanup", 0, f"role {role.name} on {connection.target_id}")
        yield from flow.call(
            Activity.DELETE_ROLE_ASSIGNMENT,
            {"scope": connection.target_id, "principalId": principal_id, "roleGuid": role.guid},
        )


def disconnect_steps(flow: Flow, linker_id: str, data: dict[str, Any]) -> Steps:
    """Clean up with ForcedCleanup (from the request or the stored behaviour), then delete the record."""
    flow.status("load", 0, linker_id)
    record = yield from flow.call(Activity.REGISTRY_GET, {"linkerId": linker_id})
    if record and record.get("desired"):
        connection = Connection.from_stored(record["desired"])
        flow.cluster_id = connection.cluster.id
        forced = bool(data.get("forcedCleanup")) or (
            connection.delete_or_update_behavior is DeleteOrUpdateBehavior.FORCED_CLEANUP
        )
        if forced:
            yield from clean_up(
                flow,
                connection,
                granted=record.get("granted"),
                vault_target_kind=str(record.get("appliedTargetKind") or connection.target_kind),
            )
    flow.status("record", 0, "delete")
    yield from flow.call(Activity.REGISTRY_DELETE, {"linkerId": linker_id})


@bp.orchestration_trigger(context_name="context", orchestration="disconnect")
def disconnect_orchestrator(context: Any) -> Steps:
    """Delete one connection: registry record always, created resources only with ForcedCleanup."""
    steps = run_linker_operation(context, "disconnect", disconnect_steps)
    return (yield from orchestration_episode(context, "disconnect", steps))
