"""Identities, federated credentials and role assignments against the ARM emulator."""

from __future__ import annotations

import threading
import uuid

import pytest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.models import FederatedIdentityCredential

from activities.cluster import read_cluster
from activities.identity import (
    delete_federated_credential,
    ensure_federated_credential,
    list_federated_credentials,
    resolve_identity,
)
from activities.roles import ensure_role_assignment, list_role_assignments, role_definition_id
from connector.errors import Category, ConnectorFailure
from tests.activities.conftest import BLOB, CLUSTER_1, IDENTITY, RG, STORAGE, SUB, World

BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
FIC_PATH = "federatedIdentityCredentials"


def _identity(world: World) -> dict[str, str]:
    msi = world.arm.mgmt_client(ManagedServiceIdentityClient)
    found = msi.user_assigned_identities.get("rg-demo", "id-demo-workload")
    return {"clientId": found.client_id, "principalId": found.principal_id, "tenantId": found.tenant_id}


def test_resolve_identity_by_id(world: World) -> None:
    expected = _identity(world)
    found = resolve_identity(expected["clientId"], SUB, IDENTITY, clients=world.clients)
    assert found["clientId"] == expected["clientId"]
    assert found["principalId"] == expected["principalId"]
    assert found["id"].lower() == IDENTITY.lower()
    assert len(world.arm_calls()) == 2  # the SDK read in _identity, then one GET


def test_resolve_identity_with_wrong_client_id_is_invalid(world: World) -> None:
    with pytest.raises(ConnectorFailure) as caught:
        resolve_identity(str(uuid.uuid4()), SUB, IDENTITY, clients=world.clients)
    assert caught.value.error.code == "IdentityClientIdMismatch"


def test_resolve_identity_by_client_id_lists_the_subscription(world: World) -> None:
    expected = _identity(world)
    found = resolve_identity(expected["clientId"].upper(), SUB, clients=world.clients)
    assert found["principalId"] == expected["principalId"]
    assert found["id"].lower() == IDENTITY.lower()


def test_resolve_unknown_client_id_is_not_found(world: World) -> None:
    with pytest.raises(ConnectorFailure) as caught:
        resolve_identity(str(uuid.uuid4()), SUB, clients=world.clients)
    assert caught.value.error.category is Category.NOT_FOUND


def _issuer(world: World) -> str:
    return str(read_cluster(CLUSTER_1, clients=world.clients)["oidcIssuerUrl"])


def test_federated_credential_created_once_then_no_write(world: World) -> None:
    issuer = _issuer(world)
    account = f"sc-account-{_identity(world)['clientId']}"
    world.clear_journals()
    created = ensure_federated_credential(IDENTITY, CLUSTER_1, issuer, "apps", account, clients=world.clients)
    assert created["action"] == "create"
    assert created["subject"] == f"system:serviceaccount:apps:{account}"
    assert created["audiences"] == ["api://AzureADTokenExchange"]
    assert len(world.writes()) == 1 and world.writes()[0].startswith("PUT ")

    stored = list_federated_credentials(IDENTITY, clients=world.clients)
    assert [(c["name"], c["issuer"], c["subject"]) for c in stored] == [
        (created["name"], issuer, created["subject"])
    ]
    world.clear_journals()
    again = ensure_federated_credential(IDENTITY, CLUSTER_1, issuer, "apps", account, clients=world.clients)
    assert again == {**created, "action": "none"}
    assert world.writes() == []
    assert len(world.arm_calls()) == 1  # one list

    assert delete_federated_credential(IDENTITY, created["name"], clients=world.clients)["deleted"] is True
    assert list_federated_credentials(IDENTITY, clients=world.clients) == []


def test_changed_issuer_updates_the_same_credential(world: World) -> None:
    first = ensure_federated_credential(
        IDENTITY, CLUSTER_1, "https://old.example/x/", "apps", "sa", clients=world.clients
    )
    second = ensure_federated_credential(
        IDENTITY, CLUSTER_1, "https://new.example/y/", "apps", "sa", clients=world.clients
    )
    assert second["action"] == "update" and second["name"] == first["name"]
    stored = list_federated_credentials(IDENTITY, clients=world.clients)
    assert [c["issuer"] for c in stored] == ["https://new.example/y/"]


def test_equivalent_credential_under_another_name_is_success(world: World) -> None:
    msi = world.arm.mgmt_client(ManagedServiceIdentityClient)
    msi.federated_identity_credentials.create_or_update(
        "rg-demo",
        "id-demo-workload",
        "made-by-hand",
        FederatedIdentityCredential(
            issuer="https://issuer.example/",
            subject="system:serviceaccount:apps:sa",
            audiences=["api://AzureADTokenExchange"],
        ),
    )
    world.clear_journals()
    result = ensure_federated_credential(
        IDENTITY, CLUSTER_1, "https://issuer.example/", "apps", "sa", clients=world.clients
    )
    assert result["action"] == "none" and result["name"] == "made-by-hand"
    assert world.writes() == []


def test_twenty_credential_limit_is_reported_clearly_without_a_write(world: World) -> None:
    msi = world.arm.mgmt_client(ManagedServiceIdentityClient)
    for i in range(20):
        msi.federated_identity_credentials.create_or_update(
            "rg-demo",
            "id-demo-workload",
            f"existing-{i:02d}",
            FederatedIdentityCredential(
                issuer="https://issuer.example/",
                subject=f"system:serviceaccount:ns{i}:sa",
                audiences=["api://x"],
            ),
        )
    world.clear_journals()
    with pytest.raises(ConnectorFailure) as caught:
        ensure_federated_credential(
            IDENTITY, CLUSTER_1, "https://issuer.example/", "apps", "sa", clients=world.clients
        )
    error = caught.value.error
    assert error.code == "FederatedIdentityCredentialLimitReached"
    assert error.category is Category.INVALID and not error.retryable
    assert "maximum of 20" in error.message and "Delete unused" in error.message
    assert world.writes() == []


def test_concurrent_writes_on_one_identity_are_serialized(world: World) -> None:
    """Azure refuses overlapping credential writes on one identity; parallel activities must all succeed."""
    results: list[dict[str, object]] = []
    failures: list[BaseException] = []

    def ensure(namespace: str) -> None:
        try:
            results.append(
                ensure_federated_credential(
                    IDENTITY, CLUSTER_1, "https://issuer.example/", namespace, "sa", clients=world.clients
                )
            )
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=ensure, args=(f"ns{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(list_federated_credentials(IDENTITY, clients=world.clients)) == 6
    assert [e["status"] for e in world.arm_calls() if e["method"] == "PUT"] == [201] * 6


def test_concurrent_write_from_elsewhere_is_retried_after_a_wait(world: World) -> None:
    world.fault(
        FIC_PATH,
        method="PUT",
        status=409,
        times=1,
        body={
            "error": {
                "code": "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
                "message": "Too many Federated Identity Credentials are written concurrently.",
            }
        },
    )
    result = ensure_federated_credential(
        IDENTITY, CLUSTER_1, "https://issuer.example/", "apps", "sa", clients=world.clients
    )
    assert result["action"] == "create"
    assert [e["status"] for e in world.arm_calls() if e["method"] == "PUT"] == [409, 201]
    assert world.waits == [1.0]


def test_federated_credential_needs_an_issuer(world: World) -> None:
    with pytest.raises(ConnectorFailure) as caught:
        ensure_federated_credential(IDENTITY, CLUSTER_1, "", "apps", "sa", clients=world.clients)
    assert caught.value.error.code == "OidcIssuerNotEnabled"


# ---- role assignments -----------------------------------------------------------------------------------


def test_role_assignment_created_with_deterministic_name_then_no_write(world: World) -> None:
    principal = _identity(world)["principalId"]
    world.clear_journals()
    first = ensure_role_assignment(BLOB, principal, BLOB_CONTRIBUTOR, clients=world.clients)
    assert first["action"] == "create"
    uuid.UUID(first["name"])
    assert len(world.writes()) == 1

    world.clear_journals()
    second = ensure_role_assignment(BLOB, principal, BLOB_CONTRIBUTOR, clients=world.clients)
    assert second == {**first, "action": "none"}
    assert world.writes() == []
    assert len(world.arm_calls()) == 1

    listed = list_role_assignments(BLOB, principal, clients=world.clients)
    assert any(
        a["name"] == first["name"] and a["roleDefinitionId"].endswith(BLOB_CONTRIBUTOR) for a in listed
    )


def test_existing_equivalent_assignment_is_success(world: World) -> None:
    principal = _identity(world)["principalId"]
    authz = world.arm.mgmt_client(AuthorizationManagementClient)
    other_name = str(uuid.uuid4())
    authz.role_assignments.create(
        STORAGE,  # a parent scope of the blob service
        other_name,
        RoleAssignmentCreateParameters(
            role_definition_id=role_definition_id(STORAGE, BLOB_CONTRIBUTOR), principal_id=principal
        ),
    )
    world.clear_journals()
    result = ensure_role_assignment(BLOB, principal, BLOB_CONTRIBUTOR, clients=world.clients)
    assert result["action"] == "none" and result["name"] == other_name
    assert world.writes() == []


def test_unknown_role_definition_is_invalid(world: World) -> None:
    with pytest.raises(ConnectorFailure) as caught:
        ensure_role_assignment(
            BLOB, _identity(world)["principalId"], str(uuid.uuid4()), clients=world.clients
        )
    assert caught.value.error.category is Category.INVALID
    assert caught.value.error.code == "RoleDefinitionDoesNotExist"


def test_role_assignment_at_resource_group_scope(world: World) -> None:
    principal = _identity(world)["principalId"]
    result = ensure_role_assignment(RG, principal, BLOB_CONTRIBUTOR, clients=world.clients)
    assert result["action"] == "create"
    assert result["roleDefinitionId"] == (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_CONTRIBUTOR}"
    )
