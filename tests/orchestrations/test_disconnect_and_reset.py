"""`disconnect` keeps or removes what a connection created; `reset_extension` reinstalls and re-applies."""

from __future__ import annotations

import pytest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from kubernetes.client.exceptions import ApiException

from connector import naming
from tests.orchestrations.conftest import (
    CLUSTER_1,
    CLUSTER_2,
    Env,
    keyvault_csi_connection,
    secret_connection,
    workload_connection,
)


def _connected(env: Env, connection: object) -> str:
    linker_id = env.put_connection(connection)  # type: ignore[arg-type]
    assert env.connect(linker_id).output["provisioningState"] == "Succeeded"
    env.clear_journals()
    return linker_id


def _credentials(env: Env) -> list[str]:
    msi = env.arm.mgmt_client(ManagedServiceIdentityClient)
    return [str(c.name) for c in msi.federated_identity_credentials.list("rg-demo", "id-demo-workload")]


def _granted_roles(env: Env, target_id: str) -> list[str]:
    msi = env.arm.mgmt_client(ManagedServiceIdentityClient)
    principal = msi.user_assigned_identities.get("rg-demo", "id-demo-workload").principal_id
    authz = env.arm.mgmt_client(AuthorizationManagementClient)
    assignments = authz.role_assignments.list_for_scope(target_id, filter=f"principalId eq '{principal}'")
    return [str(a.role_definition_id).rsplit("/", 1)[-1] for a in assignments]


def test_delete_keeps_the_kubernetes_resources_by_default(env: Env) -> None:
    connection = workload_connection(env)
    linker_id = _connected(env, connection)
    roles_before = _granted_roles(env, connection.target_id)
    run = env.disconnect(linker_id)

    assert run.output == {
        "linkerId": linker_id,
        "provisioningState": "Succeeded",
        "error": None,
        "event": {"published": False, "reason": "SERVICEBUS_EVENTS_QUEUE is not set"},
    }
    assert roles_before and _granted_roles(env, connection.target_id) == roles_before
    assert env.record(linker_id) is None
    assert env.secret(naming.secret_name("blobwi"), "apps", CLUSTER_2)
    account = naming.service_account_name(connection.auth.client_id)  # type: ignore[union-attr]
    assert env.core(CLUSTER_2).read_namespaced_service_account(account, "apps")
    assert len(_credentials(env)) == 1
    assert env.writes() == []


def test_forced_cleanup_removes_the_secret_service_account_federated_credential_and_role(env: Env) -> None:
    connection = workload_connection(env)
    linker_id = _connected(env, connection)
    assert _granted_roles(env, connection.target_id)
    run = env.disconnect(linker_id, forced_cleanup=True)

    assert run.output["provisioningState"] == "Succeeded"
    assert env.record(linker_id) is None
    core = env.core(CLUSTER_2)
    with pytest.raises(ApiException) as secret_gone:
        core.read_namespaced_secret(naming.secret_name("blobwi"), "apps")
    assert secret_gone.value.status == 404
    account = naming.service_account_name(connection.auth.client_id)  # type: ignore[union-attr]
    with pytest.raises(ApiException) as account_gone:
        core.read_namespaced_service_account(account, "apps")
    assert account_gone.value.status == 404
    assert _credentials(env) == []
    assert _granted_roles(env, connection.target_id) == []


def test_forced_cleanup_keeps_the_service_account_and_role_another_linker_uses(env: Env) -> None:
    first = _connected(env, workload_connection(env, name="blobwi"))
    _connected(env, workload_connection(env, name="blobwi2"))
    roles_before = _granted_roles(env, workload_connection(env).target_id)
    run = env.disconnect(first, forced_cleanup=True)

    assert run.output["provisioningState"] == "Succeeded"
    client_id = workload_connection(env).auth.client_id  # type: ignore[union-attr]
    assert env.core(CLUSTER_2).read_namespaced_service_account(naming.service_account_name(client_id), "apps")
    assert len(_credentials(env)) == 1
    assert env.secret(naming.secret_name("blobwi2"), "apps", CLUSTER_2)
    assert _granted_roles(env, workload_connection(env).target_id) == roles_before


def test_deleting_an_unknown_linker_succeeds_and_touches_nothing(env: Env) -> None:
    run = env.disconnect(secret_connection("ghost").linker_id, forced_cleanup=True)
    assert run.output["provisioningState"] == "Succeeded"
    assert env.writes() == []


def test_reset_extension_deletes_waits_reinstalls_and_reapplies_the_connections(env: Env) -> None:
    linker_id = _connected(env, secret_connection("blob1"))
    payload = {"clusterId": CLUSTER_1, "operationId": "reset-1", "policy": {}}
    run = env.run("reset_extension", payload)

    assert run.output == {
        "clusterId": CLUSTER_1,
        "provisioningState": "Succeeded",
        "error": None,
        "connections": 1,
    }
    extension_writes = [w for w in env.writes() if w.endswith("/extensions/sc-extension")]
    assert [w.split(" ")[0] for w in extension_writes] == ["DELETE", "PUT"]
    secret_applies = [
        w for w in env.writes() if w.startswith("PATCH") and w.endswith("/secrets/sc-blob1-secret")
    ]
    assert len(secret_applies) == 1
    assert env.record(linker_id)["provisioningState"] == "Succeeded"  # type: ignore[index]
    # The reinstall waited for the delete to finish: timers were requested between the two writes.
    assert run.timers


def test_reset_extension_refuses_what_is_not_a_cluster_id(env: Env) -> None:
    run = env.run("reset_extension", {"clusterId": "/subscriptions/x", "operationId": "r", "policy": {}})
    assert run.output["provisioningState"] == "Failed" and run.output["error"]["code"] == "InvalidClusterId"


def test_forced_cleanup_of_a_key_vault_csi_connection_removes_its_secret_and_touches_no_identity(
    env: Env,
) -> None:
    # The CSI driver's identity is the add-on's own: the product granted it nothing and must revoke nothing.
    linker_id = _connected(env, keyvault_csi_connection())
    run = env.disconnect(linker_id, forced_cleanup=True)

    assert run.output["provisioningState"] == "Succeeded", run.output
    with pytest.raises(ApiException) as gone:
        env.core(CLUSTER_1).read_namespaced_secret(naming.secret_name("kvcsi"), "default")
    assert gone.value.status == 404
    assert not [
        e
        for e in env.arm_calls()
        if "/Microsoft.ManagedIdentity/" in e["path"] or "/roleAssignments" in e["path"]
    ]
