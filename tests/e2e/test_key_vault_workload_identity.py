"""Key Vault with workload identity end to end: the roles the catalog grants exist, are assigned on the vault,
and the workload's ServiceAccount is federated (it failed locally with RoleDefinitionDoesNotExist before)."""

from __future__ import annotations

from typing import Any

from azure.mgmt.authorization import AuthorizationManagementClient
from kubernetes import client as k8s

from connector.targets import all_specs
from emulators.arm.handlers.aks import kube_key
from tests.e2e.conftest import CLUSTER, E2E, IDENTITY, RG, SUB

API = "2024-04-01"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-demo-0001"
LINKER = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers/kvwi"


def _identity(e2e: E2E) -> dict[str, Any]:
    state = e2e.arm.emulator.state
    with state.lock:
        resource = next(r for k, r in state.resources.items() if k.lower() == IDENTITY.lower())
        return dict(resource.properties)


def _vault_spec() -> Any:
    return next(s for s in all_specs() if "Microsoft.KeyVault/vaults" in s.id_pattern.pattern)


def test_every_role_the_catalog_grants_is_a_role_definition_arm_knows(e2e: E2E) -> None:
    authorization = e2e.arm.mgmt_client(AuthorizationManagementClient)
    for spec in all_specs():
        for role in spec.roles:
            found = authorization.role_definitions.get(f"/subscriptions/{SUB}", role.guid)
            assert found.role_name == role.name, (spec, role)


def test_key_vault_with_workload_identity_succeeds(e2e: E2E) -> None:
    client_id = _identity(e2e)["clientId"]
    body = {
        "properties": {
            "targetService": {"type": "AzureResource", "id": VAULT},
            "authInfo": {"authType": "userAssignedIdentity", "clientId": client_id, "subscriptionId": SUB},
            "clientType": "python",
            "scope": "default",
        }
    }
    status, headers, answer = e2e.http("PUT", f"{LINKER}?api-version={API}", body)
    assert status in (200, 201), answer

    final = e2e.wait_operation(headers["Azure-AsyncOperation"])

    assert final["status"] == "Succeeded", final
    assignments = [
        r.properties
        for r in list(e2e.arm.emulator.state.resources.values())
        if r.type == "Microsoft.Authorization/roleAssignments"
        and r.properties.get("scope", "").lower() == VAULT.lower()
    ]
    granted = {a["roleDefinitionId"].rsplit("/", 1)[-1] for a in assignments}
    assert {role.guid for role in _vault_spec().roles} <= granted
    core = k8s.CoreV1Api(e2e.arm.kube.client_for(kube_key(CLUSTER)))
    accounts = core.list_namespaced_service_account("default").items
    annotated = [
        a
        for a in accounts
        if (a.metadata.annotations or {}).get("azure.workload.identity/client-id") == client_id
    ]
    assert annotated, [a.metadata.name for a in accounts]
