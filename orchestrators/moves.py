"""Updates that move a connection: remove what the previous placement left behind.

A PUT or PATCH that changes a linker's namespace (scope) or its workload identity leaves the Secret, the
ServiceAccount and the federated credential of the previous placement in place. The trigger passes that
placement (names and ids only) in the connect input as `previous`:
`[{"namespace", "workloadIdentity": {"clientId", "subscriptionId", "identityResourceId"} | null}]`, and
`connect` removes the stale copies once the new ones are in place, with disconnect's `clean_up`.

deleteOrUpdateBehavior: Service Connector's `Default` keeps resources when a linker is *deleted*. For an
update that moves the connection, the old Secret is a second copy of the same credentials and the old
federated credential still trusts a ServiceAccount the connection no longer uses, so both are removed
whatever the behavior (as on delete, only when no other linker of the cluster shares them). Role assignments
are Azure RBAC grants on the target that others may rely on: the previous identity's are revoked only with
`ForcedCleanup`, and only when the identity itself changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connector.model import Connection, DeleteOrUpdateBehavior, SecretAuth, WorkloadIdentityAuth
from connector.plan import workload_client_id
from orchestrators.disconnect import clean_up
from orchestrators.flow import Flow, Steps


def previous_connection(connection: Connection, placement: dict[str, Any]) -> Connection:
    """The connection as it was placed before the update (same linker, target and cluster)."""
    identity = placement.get("workloadIdentity") or {}
    auth: WorkloadIdentityAuth | SecretAuth = SecretAuth()
    if identity.get("clientId"):
        auth = WorkloadIdentityAuth(
            client_id=str(identity["clientId"]),
            subscription_id=str(identity.get("subscriptionId") or ""),
            identity_resource_id=identity.get("identityResourceId") or None,
        )
    return connection.model_copy(
        update={
            "namespace": str(placement.get("namespace") or connection.namespace),
            "auth": auth,
            "key_vault_csi": False,
        }
    )


def remove_previous_placements(flow: Flow, connection: Connection, placements: Iterable[Any]) -> Steps:
    """Delete what each previous placement left behind and the current one does not use."""
    forced = connection.delete_or_update_behavior is DeleteOrUpdateBehavior.FORCED_CLEANUP
    for placement in placements:
        if not isinstance(placement, dict):
            continue
        old = previous_connection(connection, placement)
        moved_namespace = old.namespace != connection.namespace
        old_client = workload_client_id(old)
        moved_identity = bool(old_client) and old_client != workload_client_id(connection)
        if not (moved_namespace or moved_identity):
            continue
        flow.status(
            "removePrevious",
            0,
            f"namespace {old.namespace}" + (f", identity {old_client}" if moved_identity else ""),
        )
        yield from clean_up(
            flow,
            old,
            delete_secret=moved_namespace,
            revoke_roles_granted=forced and moved_identity,
        )
