"""An update that moves a connection (namespace, workload identity) leaves no orphan behind."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from kubernetes.client.exceptions import ApiException

from activities import registry as registry_ops
from connector import naming
from connector.model import Connection, DeleteOrUpdateBehavior, WorkloadIdentityAuth
from connector.vocabulary import ClientType
from tests.orchestrations.conftest import (
    CLUSTER_1,
    CLUSTER_2,
    POLICY,
    RG,
    SUB,
    Env,
    Run,
    secret_connection,
    workload_connection,
)
from triggers.operations import previous_placements


def _connected(env: Env, connection: Connection) -> None:
    env.put_connection(connection)
    assert env.connect(connection.linker_id).output["provisioningState"] == "Succeeded"


def _update(env: Env, new: Connection) -> Run:
    """What the trigger does on PUT/PATCH: previous placements from the stored record, then connect."""
    previous = previous_placements(env.record(new.linker_id), new)
    env.put_connection(new)
    payload = {
        "linkerId": new.linker_id,
        "operationId": uuid.uuid4().hex,
        "policy": POLICY,
        "previous": previous,
    }
    run = env.run("connect", payload)
    assert run.output["provisioningState"] == "Succeeded", run.output
    return run


def _gone(read: Any, *args: str) -> bool:
    try:
        read(*args)
    except ApiException as error:
        if error.status == 404:
            return True
        raise
    return False


def _credentials(env: Env, identity: str = "id-demo-workload") -> dict[str, str]:
    """Federated credential name -> subject, on an identity."""
    msi = env.arm.mgmt_client(ManagedServiceIdentityClient)
    return {str(c.name): str(c.subject) for c in msi.federated_identity_credentials.list("rg-demo", identity)}


def _roles(env: Env, target_id: str, identity: str = "id-demo-workload") -> list[str]:
    msi = env.arm.mgmt_client(ManagedServiceIdentityClient)
    principal = msi.user_assigned_identities.get("rg-demo", identity).principal_id
    authz = env.arm.mgmt_client(AuthorizationManagementClient)
    assignments = authz.role_assignments.list_for_scope(target_id, filter=f"principalId eq '{principal}'")
    return [str(a.role_definition_id).rsplit("/", 1)[-1] for a in assignments]


def _second_identity(env: Env) -> WorkloadIdentityAuth:
    msi = env.arm.mgmt_client(ManagedServiceIdentityClient)
    created = msi.user_assigned_identities.create_or_update("rg-demo", "id-second", {"location": "eastus"})
    return WorkloadIdentityAuth(
        client_id=str(created.client_id),
        subscription_id=SUB,
        identity_resource_id=f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-second",
    )


def _subject(namespace: str, client_id: str) -> str:
    return f"system:serviceaccount:{namespace}:{naming.service_account_name(client_id)}"


def test_moving_a_secret_connection_to_another_namespace_removes_the_old_secret(env: Env) -> None:
    old = secret_connection("blob1", namespace="default")
    _connected(env, old)
    env.clear_journals()

    _update(env, old.model_copy(update={"namespace": "apps"}))

    core = env.core(CLUSTER_1)
    assert _gone(core.read_namespaced_secret, naming.secret_name("blob1"), "default")
    assert "AZURE_STORAGEBLOB_CONNECTIONSTRING" in env.secret(naming.secret_name("blob1"), "apps")
    # The old copy went only after the new one was written.
    kube = [f"{e['method']} {e['path']}" for e in env.kube_calls() if e["method"] in ("PATCH", "DELETE")]
    new_write = next(i for i, c in enumerate(kube) if c.startswith("PATCH") and "/namespaces/apps/" in c)
    old_delete = next(i for i, c in enumerate(kube) if c.startswith("DELETE") and "/namespaces/default/" in c)
    assert new_write < old_delete


def test_an_update_that_moves_nothing_deletes_nothing(env: Env) -> None:
    old = secret_connection("blob1")
    _connected(env, old)
    env.clear_journals()

    _update(env, old.model_copy(update={"client_type": ClientType.DOTNET}))

    assert not [e for e in env.kube_calls() if e["method"] == "DELETE"]
    assert env.secret(naming.secret_name("blob1"), "default")


def test_moving_a_workload_identity_connection_removes_its_account_and_credential_but_keeps_the_role(
    env: Env,
) -> None:
    old = workload_connection(env)  # aks-demo-2, namespace apps
    client_id = old.auth.client_id  # type: ignore[union-attr]
    _connected(env, old)
    roles = _roles(env, old.target_id)

    _update(env, old.model_copy(update={"namespace": "web"}))

    core = env.core(CLUSTER_2)
    account = naming.service_account_name(client_id)
    assert _gone(core.read_namespaced_secret, naming.secret_name("blobwi"), "apps")
    assert _gone(core.read_namespaced_service_account, account, "apps")
    assert core.read_namespaced_service_account(account, "web")
    assert list(_credentials(env).values()) == [_subject("web", client_id)]
    # deleteOrUpdateBehavior Default: the identity did not change and keeps its role on the target.
    assert roles and _roles(env, old.target_id) == roles


def test_moving_one_linker_keeps_the_account_and_credential_another_linker_uses(env: Env) -> None:
    moving = workload_connection(env, name="blobwi")
    staying = workload_connection(env, name="blobwi2")
    client_id = moving.auth.client_id  # type: ignore[union-attr]
    _connected(env, moving)
    _connected(env, staying)

    _update(env, moving.model_copy(update={"namespace": "web"}))

    core = env.core(CLUSTER_2)
    account = naming.service_account_name(client_id)
    assert _gone(core.read_namespaced_secret, naming.secret_name("blobwi"), "apps")
    assert env.secret(naming.secret_name("blobwi2"), "apps", CLUSTER_2)
    assert core.read_namespaced_service_account(account, "apps")
    subjects = sorted([_subject("apps", client_id), _subject("web", client_id)])
    assert sorted(_credentials(env).values()) == subjects


@pytest.mark.parametrize("behavior", [DeleteOrUpdateBehavior.DEFAULT, DeleteOrUpdateBehavior.FORCED_CLEANUP])
def test_changing_the_identity_removes_the_old_account_and_credential_and_revokes_roles_only_when_forced(
    env: Env, behavior: DeleteOrUpdateBehavior
) -> None:
    old = workload_connection(env).model_copy(update={"delete_or_update_behavior": behavior})
    old_client = old.auth.client_id  # type: ignore[union-attr]
    _connected(env, old)
    old_roles = _roles(env, old.target_id)
    second = _second_identity(env)

    _update(env, old.model_copy(update={"auth": second}))

    core = env.core(CLUSTER_2)
    assert _gone(core.read_namespaced_service_account, naming.service_account_name(old_client), "apps")
    assert core.read_namespaced_service_account(naming.service_account_name(second.client_id), "apps")
    # Same name, same namespace: the Secret is the new one, not deleted.
    assert env.secret(naming.secret_name("blobwi"), "apps", CLUSTER_2)
    assert _credentials(env) == {}
    assert list(_credentials(env, "id-second").values()) == [_subject("apps", second.client_id)]
    assert _roles(env, old.target_id, "id-second")
    expected = [] if behavior is DeleteOrUpdateBehavior.FORCED_CLEANUP else old_roles
    assert old_roles and _roles(env, old.target_id) == expected


def test_a_retried_update_still_removes_what_an_unfinished_move_left(env: Env) -> None:
    old = secret_connection("blob1", namespace="default")
    moved = old.model_copy(update={"namespace": "apps"})
    _connected(env, old)
    # A first move failed before its cleanup: the record holds the new desired state, Failed, and names
    # the placement still to clean in its last operation (as the trigger writes it).
    previous = previous_placements(env.record(old.linker_id), moved)
    env.put_connection(moved, state="Failed")
    record = env.record(old.linker_id)
    assert record is not None
    registry_ops.update_status(
        old.linker_id,
        "Failed",
        last_operation={**record["lastOperation"], "previous": previous},
        clients=env.clients,
    )
    assert env.secret(naming.secret_name("blob1"), "default")

    # The same request again: relative to the record nothing moves, yet the pending cleanup is done.
    _update(env, moved)

    assert _gone(env.core(CLUSTER_1).read_namespaced_secret, naming.secret_name("blob1"), "default")
    assert env.secret(naming.secret_name("blob1"), "apps")
    # Moving back cleans nothing where the connection now lives.
    failed = {
        **(env.record(old.linker_id) or {}),
        "provisioningState": "Failed",
        "lastOperation": {"previous": previous},
    }
    assert previous_placements(failed, old) == [{"namespace": "apps", "workloadIdentity": None}]


def test_moving_from_a_deleted_identity_still_succeeds(env: Env) -> None:
    old = workload_connection(env)
    _connected(env, old)
    gone = WorkloadIdentityAuth(
        client_id=str(uuid.uuid4()),
        subscription_id=SUB,
        identity_resource_id=f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-deleted",
    )
    moved = old.model_copy(update={"namespace": "web"})
    env.put_connection(moved)
    previous = [
        {
            "namespace": "apps",
            "workloadIdentity": {
                "clientId": gone.client_id,
                "subscriptionId": SUB,
                "identityResourceId": gone.identity_resource_id,
            },
        }
    ]
    run = env.run(
        "connect",
        {"linkerId": moved.linker_id, "operationId": "op-gone", "policy": POLICY, "previous": previous},
    )

    assert run.output["provisioningState"] == "Succeeded", run.output
