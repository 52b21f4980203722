"""Grants are recorded as they are made: a connect that fails half-way says what it granted, and a
ForcedCleanup delete revokes exactly that. Key Vault with workload identity (two roles) end to end."""

from __future__ import annotations

from typing import Any

from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient

from activities.roles import role_definition_id
from connector import naming
from connector.model import Connection, WorkloadIdentityAuth
from connector.vocabulary import ClientType
from tests.orchestrations.conftest import (
    CLUSTER_2,
    IDENTITY,
    KEYVAULT,
    REF_2,
    SUB,
    Env,
    identity_client_id,
)

SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
CERTIFICATE_USER = "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"


def keyvault_workload_connection(env: Env) -> Connection:
    """Key Vault with the workload identity: Service Connector grants it two roles on the vault."""
    return Connection(
        linker_name="kvwi",
        cluster=REF_2,
        target_id=KEYVAULT,
        target_kind="keyvault",
        auth=WorkloadIdentityAuth(
            client_id=identity_client_id(env), subscription_id=SUB, identity_resource_id=IDENTITY
        ),
        client_type=ClientType.PYTHON,
        namespace="apps",
    )


def _principal(env: Env) -> str:
    msi = env.arm.mgmt_client(ManagedServiceIdentityClient)
    return str(msi.user_assigned_identities.get("rg-demo", "id-demo-workload").principal_id)


def _assignment(env: Env, role_guid: str) -> dict[str, str]:
    """The role assignment the product makes for a role on the vault (its deterministic name)."""
    principal = _principal(env)
    definition = role_definition_id(KEYVAULT, role_guid)
    return {
        "scope": KEYVAULT,
        "name": naming.role_assignment_name(KEYVAULT, principal, definition),
        "roleDefinitionId": definition,
        "principalId": principal,
    }


def _roles_on_vault(env: Env) -> list[str]:
    authz = env.arm.mgmt_client(AuthorizationManagementClient)
    listed = authz.role_assignments.list_for_scope(KEYVAULT, filter=f"principalId eq '{_principal(env)}'")
    return sorted(str(a.role_definition_id).rsplit("/", 1)[-1] for a in listed)


def _role_deletes(env: Env) -> list[str]:
    return [
        e["path"]
        for e in env.arm_calls()
        if e["method"] == "DELETE" and "/roleassignments/" in e["path"].lower()
    ]


def test_key_vault_with_workload_identity_grants_both_roles_and_records_them(env: Env) -> None:
    connection = keyvault_workload_connection(env)
    linker_id = env.put_connection(connection)
    run = env.connect(linker_id)

    assert run.output["provisioningState"] == "Succeeded", run.output
    assert _roles_on_vault(env) == sorted([SECRETS_USER, CERTIFICATE_USER])
    record = env.record(linker_id)
    assert record is not None
    assert record["granted"]["roleAssignments"] == [
        _assignment(env, SECRETS_USER),
        _assignment(env, CERTIFICATE_USER),
    ]
    [credential] = record["granted"]["federatedCredentials"]
    assert credential["identityId"].lower() == IDENTITY.lower()
    secret = env.secret(naming.secret_name("kvwi"), "apps", CLUSTER_2)
    assert secret["AZURE_KEYVAULT_CLIENTID"] == identity_client_id(env)


def test_a_connect_failing_at_the_second_role_records_the_first_and_forced_cleanup_revokes_exactly_it(
    env: Env,
) -> None:
    connection = keyvault_workload_connection(env)
    linker_id = env.put_connection(connection)
    first, second = _assignment(env, SECRETS_USER), _assignment(env, CERTIFICATE_USER)
    denied: dict[str, Any] = {
        "error": {
            "code": "AuthorizationFailed",
            "message": "The client does not have authorization to perform action "
            f"'Microsoft.Authorization/roleAssignments/write' over scope '{KEYVAULT}' "
            "or the scope is invalid.",
        }
    }
    env.arm.admin.add_fault(f"(?i)/roleAssignments/{second['name']}$", method="PUT", status=403, body=denied)
    run = env.connect(linker_id)

    assert run.output["provisioningState"] == "Failed"
    assert run.output["error"]["code"] == "AuthorizationFailed"
    assert _roles_on_vault(env) == [SECRETS_USER]
    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == "Failed"
    assert record["granted"]["roleAssignments"] == [first]
    assert len(record["granted"]["federatedCredentials"]) == 1
    # The failure's diagnostics (output and record) list what it granted.
    assert run.output["error"]["diagnostics"]["granted"] == record["granted"]
    assert record["lastError"]["diagnostics"]["granted"] == record["granted"]

    env.arm.admin.clear_faults()
    env.clear_journals()
    deleted = env.disconnect(linker_id, forced_cleanup=True)

    assert deleted.output["provisioningState"] == "Succeeded", deleted.output
    revoked = f"{KEYVAULT}/providers/Microsoft.Authorization/roleAssignments/{first['name']}"
    assert _role_deletes(env) == [revoked]  # exactly what it granted, nothing derived
    assert _roles_on_vault(env) == []
    msi = env.arm.mgmt_client(ManagedServiceIdentityClient)
    assert list(msi.federated_identity_credentials.list("rg-demo", "id-demo-workload")) == []
    assert env.record(linker_id) is None


def test_a_retried_connect_completes_the_grants_and_records_each_once(env: Env) -> None:
    connection = keyvault_workload_connection(env)
    linker_id = env.put_connection(connection)
    second = _assignment(env, CERTIFICATE_USER)
    env.arm.admin.add_fault(f"(?i)/roleAssignments/{second['name']}$", method="PUT", status=403, times=1)
    assert env.connect(linker_id).output["provisioningState"] == "Failed"
    run = env.connect(linker_id)

    assert run.output["provisioningState"] == "Succeeded", run.output
    record = env.record(linker_id)
    assert record is not None
    assert record["granted"]["roleAssignments"] == [_assignment(env, SECRETS_USER), second]
    assert len(record["granted"]["federatedCredentials"]) == 1
