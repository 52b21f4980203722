# mypy: disable-error-code="union-attr, index, operator, no-untyped-call"
# (SDK models type every field Optional and the kubernetes client is untyped; these tests assert on both.)
"""Role assignments at any scope through AuthorizationManagementClient (api-version 2022-04-01).

Fields per specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/
authorization-RoleAssignmentsCalls.json.
"""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.mgmt.authorization import AuthorizationManagementClient

from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness

SUB_SCOPE = f"/subscriptions/{DEMO_SUBSCRIPTION}"
STORAGE = f"{SUB_SCOPE}/resourceGroups/rg-demo/providers/Microsoft.Storage/storageAccounts/stdemo0001"
BLOB_CONTRIBUTOR = (
    f"{SUB_SCOPE}/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe"
)
READER = f"{SUB_SCOPE}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
PRINCIPAL = "4a2d5c3e-1111-4222-8333-944455556666"


def params(role: str = BLOB_CONTRIBUTOR, principal: str = PRINCIPAL) -> dict:  # type: ignore[type-arg]
    return {
        "properties": {
            "roleDefinitionId": role,
            "principalId": principal,
            "principalType": "ServicePrincipal",
        }
    }


@pytest.fixture
def auth(arm: ArmHarness) -> AuthorizationManagementClient:
    arm.seed_demo()
    return arm.mgmt_client(AuthorizationManagementClient)


def test_create_get_list_delete_at_a_resource_scope(auth: AuthorizationManagementClient) -> None:
    name = str(uuid.uuid4())
    created = auth.role_assignments.create(STORAGE, name, params())
    assert created.id == f"{STORAGE}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert (created.scope, created.principal_id, created.role_definition_id) == (
        STORAGE,
        PRINCIPAL,
        BLOB_CONTRIBUTOR,
    )
    assert created.principal_type == "ServicePrincipal"
    assert auth.role_assignments.get(STORAGE, name).principal_id == PRINCIPAL
    assert [a.name for a in auth.role_assignments.list_for_scope(STORAGE)] == [name]
    assert auth.role_assignments.delete(STORAGE, name).name == name
    assert list(auth.role_assignments.list_for_scope(STORAGE)) == []


def test_identical_put_is_idempotent(auth: AuthorizationManagementClient) -> None:
    name = str(uuid.uuid4())
    auth.role_assignments.create(STORAGE, name, params())
    assert auth.role_assignments.create(STORAGE, name, params()).name == name


def test_list_filters_principal_and_at_scope(auth: AuthorizationManagementClient) -> None:
    at_sub, at_storage, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    seeded = {a.name for a in auth.role_assignments.list_for_subscription()}  # the demo seed's own
    auth.role_assignments.create(SUB_SCOPE, at_sub, params(READER))
    auth.role_assignments.create(STORAGE, at_storage, params())
    auth.role_assignments.create(STORAGE, other, params(principal=str(uuid.uuid4())))
    by_principal = auth.role_assignments.list_for_scope(STORAGE, filter=f"principalId eq '{PRINCIPAL}'")
    assert {a.name for a in by_principal} == {at_sub, at_storage}
    at_scope_of_sub = auth.role_assignments.list_for_scope(SUB_SCOPE, filter="atScope()")
    assert {a.name for a in at_scope_of_sub} == {at_sub}
    listed = {a.name for a in auth.role_assignments.list_for_subscription()}
    assert listed - seeded == {at_sub, at_storage, other}


def test_name_must_be_a_guid(auth: AuthorizationManagementClient) -> None:
    with pytest.raises(HttpResponseError) as err:
        auth.role_assignments.create(STORAGE, "not-a-guid", params())
    assert err.value.status_code == 400
    assert err.value.error.code == "InvalidRoleAssignmentId"


def test_same_principal_role_and_scope_under_another_name_is_role_assignment_exists(
    auth: AuthorizationManagementClient,
) -> None:
    first = str(uuid.uuid4())
    auth.role_assignments.create(STORAGE, first, params())
    with pytest.raises(ResourceExistsError) as err:
        auth.role_assignments.create(STORAGE, str(uuid.uuid4()), params())
    assert err.value.error.code == "RoleAssignmentExists"
    assert err.value.error.message == (
        "The role assignment already exists. The ID of the existing role assignment is "
        f"{first.replace('-', '')}."
    )


def test_unknown_role_definition_is_400(auth: AuthorizationManagementClient) -> None:
    missing = f"{SUB_SCOPE}/providers/Microsoft.Authorization/roleDefinitions/{uuid.uuid4()}"
    with pytest.raises(HttpResponseError) as err:
        auth.role_assignments.create(STORAGE, str(uuid.uuid4()), params(role=missing))
    assert err.value.status_code == 400
    assert err.value.error.code == "RoleDefinitionDoesNotExist"


def test_built_in_role_definition_is_readable(auth: AuthorizationManagementClient) -> None:
    role = auth.role_definitions.get(SUB_SCOPE, "ba92f5b4-2d11-453d-a403-e96b0029c9fe")
    assert role.role_name == "Storage Blob Data Contributor"


def test_injected_authorization_failed_has_arm_message_shape(
    arm: ArmHarness, auth: AuthorizationManagementClient
) -> None:
    action = "Microsoft.Authorization/roleAssignments/write"
    arm.admin.call(
        "POST",
        "/arm/deny",
        {"action": action, "scope": STORAGE, "method": "PUT", "times": 1, "clientId": "c1", "objectId": "o1"},
    )
    with pytest.raises(HttpResponseError) as err:
        auth.role_assignments.create(STORAGE, str(uuid.uuid4()), params())
    assert err.value.status_code == 403
    assert err.value.error.code == "AuthorizationFailed"
    assert err.value.error.message == (
        f"The client 'c1' with object id 'o1' does not have authorization to perform action '{action}' over "
        f"scope '{STORAGE}' or the scope is invalid. If access was recently granted, please refresh your "
        "credentials."
    )
    assert auth.role_assignments.create(STORAGE, str(uuid.uuid4()), params()).principal_id == PRINCIPAL


def _catalog_roles() -> list[tuple[str, str, str]]:
    from connector import targets

    return sorted({(s.kind, r.name, r.guid) for s in targets.all_specs() for r in s.roles})


@pytest.mark.parametrize(("kind", "role_name", "guid"), _catalog_roles())
def test_every_role_the_catalog_grants_is_a_known_built_in_role(
    auth: AuthorizationManagementClient, kind: str, role_name: str, guid: str
) -> None:
    definition = auth.role_definitions.get(SUB_SCOPE, guid)
    assert (definition.role_name, definition.role_type) == (role_name, "BuiltInRole")
    role = f"{SUB_SCOPE}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    assert auth.role_assignments.create(STORAGE, str(uuid.uuid4()), params(role)).role_definition_id == role
