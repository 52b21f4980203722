"""Entra replication delay: a role assignment to a just-created principal without principalType gets 400
PrincipalNotFound (Azure RBAC troubleshooting docs); with principalType it succeeds at once."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.models import Identity

from activities.clients import Clients
from activities.roles import ensure_role_assignment
from tests.activities.conftest import make_settings
from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness

RG = "rg-demo"
SCOPE = (
    f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{RG}"
    "/providers/Microsoft.Storage/storageAccounts/stdemo0001"
)
BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
ROLE_ID = (
    f"/subscriptions/{DEMO_SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_CONTRIBUTOR}"
)
WINDOW = 20.0


def _new_identity(arm: ArmHarness) -> Identity:
    # Only the untyped window: the demo seed also lags typed assignments (test_fresh_identity covers that).
    arm.admin.call(
        "POST",
        "/arm/settings",
        {"principalReplicationSeconds": WINDOW, "principalReplicationTypedSeconds": 0},
    )
    msi = arm.mgmt_client(ManagedServiceIdentityClient)
    created: Identity = msi.user_assigned_identities.create_or_update(
        RG, f"id-new-{uuid.uuid4().hex[:6]}", Identity(location="eastus")
    )
    return created


def _params(principal_id: str, principal_type: str | None = None) -> RoleAssignmentCreateParameters:
    params = RoleAssignmentCreateParameters(role_definition_id=ROLE_ID, principal_id=principal_id)
    # The model defaults principalType to "User"; None leaves it out, as a template without it does.
    params.principal_type = principal_type  # type: ignore[assignment]
    return params


def _assign(arm: ArmHarness, principal_id: str, principal_type: str | None = None) -> str:
    name = str(uuid.uuid4())
    authz = arm.mgmt_client(AuthorizationManagementClient)
    authz.role_assignments.create(SCOPE, name, _params(principal_id, principal_type))
    return name


def test_untyped_assignment_to_a_new_principal_gets_principal_not_found_until_replicated(
    arm: ArmHarness,
) -> None:
    arm.seed_demo()
    identity = _new_identity(arm)
    principal = str(identity.principal_id)
    authz = arm.mgmt_client(AuthorizationManagementClient)
    name = str(uuid.uuid4())
    params = _params(principal)
    with pytest.raises(HttpResponseError) as err:
        authz.role_assignments.create(SCOPE, name, params)
    assert err.value.status_code == 400
    assert err.value.error is not None and err.value.error.code == "PrincipalNotFound"
    assert str(err.value.error.message) == (
        f"Principal {principal.replace('-', '')} does not exist in the directory {identity.tenant_id}. "
        "Check that you have the correct principal ID. If you are creating this principal and then "
        "immediately assigning a role, this error might be related to a replication delay. In this case, set "
        "the role assignment principalType property to a value, such as ServicePrincipal, User, or Group. "
        "See https://aka.ms/docs-principaltype"
    )
    with pytest.raises(ResourceNotFoundError):
        authz.role_assignments.get(SCOPE, name)  # nothing was written

    arm.advance(WINDOW - 1)
    with pytest.raises(HttpResponseError):
        authz.role_assignments.create(SCOPE, name, params)
    arm.advance(1)
    assert authz.role_assignments.create(SCOPE, name, params).principal_id == principal


def test_principal_type_avoids_the_delay(arm: ArmHarness) -> None:
    arm.seed_demo()
    identity = _new_identity(arm)
    name = _assign(arm, str(identity.principal_id), "ServicePrincipal")
    found = arm.mgmt_client(AuthorizationManagementClient).role_assignments.get(SCOPE, name)
    assert found.principal_type == "ServicePrincipal"


def test_seeded_principals_and_the_default_setting_have_no_delay(arm: ArmHarness) -> None:
    arm.seed_demo()
    seeded = arm.mgmt_client(ManagedServiceIdentityClient).user_assigned_identities.get(
        RG, "id-demo-workload"
    )
    # Only the untyped window: the demo seed also lags typed assignments (test_fresh_identity covers that).
    arm.admin.call(
        "POST",
        "/arm/settings",
        {"principalReplicationSeconds": WINDOW, "principalReplicationTypedSeconds": 0},
    )
    _assign(arm, str(seeded.principal_id))  # seeded: long replicated
    arm.admin.call("POST", "/arm/settings", {"principalReplicationSeconds": 0})
    fresh = arm.mgmt_client(ManagedServiceIdentityClient).user_assigned_identities.create_or_update(
        RG, "id-fresh", Identity(location="eastus")
    )
    _assign(arm, str(fresh.principal_id))  # 0: off


def test_the_products_assignment_succeeds_for_an_identity_created_a_second_ago(arm: ArmHarness) -> None:
    arm.seed_demo()
    identity = _new_identity(arm)
    arm.advance(1)
    clients = Clients(make_settings(arm), sleeper=lambda seconds: None)
    result = ensure_role_assignment(SCOPE, str(identity.principal_id), BLOB_CONTRIBUTOR, clients=clients)
    assert result["action"] == "create"
    assigned = arm.mgmt_client(AuthorizationManagementClient).role_assignments.get(SCOPE, result["name"])
    assert assigned.principal_type == "ServicePrincipal"
