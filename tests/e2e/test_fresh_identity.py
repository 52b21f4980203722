"""A workload-identity connection made right after `az identity create` succeeds: the emulator answers
PrincipalNotFound for a just-created principal within its replication window (as Entra does), and the product
sets principalType=ServicePrincipal on its role assignments, which the Azure RBAC troubleshooting docs give
as the remedy, so the assignment goes through without waiting the window out. Where replication still lags
with principalType set (as users report), the product waits it out and says so in the operation's progress."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.models import Identity

from tests.e2e.conftest import BLOB, CLUSTER, E2E, STORAGE, SUB

API = "2024-04-01"
BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def _fresh_identity(e2e: E2E, settings: dict[str, float]) -> Identity:
    """A user-assigned identity created through ARM just now, with the replication windows given."""
    e2e.arm.admin.call("POST", "/arm/settings", settings)
    msi = e2e.arm.mgmt_client(ManagedServiceIdentityClient)
    created: Identity = msi.user_assigned_identities.create_or_update(
        "rg-demo", f"id-fresh-{uuid.uuid4().hex[:6]}", Identity(location="eastus")
    )
    return created


def _workload_identity_body(identity: Identity) -> dict[str, Any]:
    return {
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "authInfo": {
                "authType": "userAssignedIdentity",
                "clientId": identity.client_id,
                "subscriptionId": SUB,
            },
            "clientType": "python",
            "scope": "default",
        }
    }


def test_a_connection_right_after_the_identity_is_created_succeeds(e2e: E2E) -> None:
    identity = _fresh_identity(e2e, {"principalReplicationSeconds": 600})
    # The window is open: an assignment without principalType is refused as Entra refuses it.
    authorization = e2e.arm.mgmt_client(AuthorizationManagementClient)
    untyped = RoleAssignmentCreateParameters(
        role_definition_id=f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_CONTRIBUTOR}",
        principal_id=identity.principal_id,
    )
    untyped.principal_type = None  # the SDK model fills in "User" by default
    with pytest.raises(HttpResponseError) as refused:
        authorization.role_assignments.create(STORAGE, str(uuid.uuid4()), untyped)
    assert refused.value.error.code == "PrincipalNotFound"

    linker = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers/fresh"
    status, headers, answer = e2e.http(
        "PUT", f"{linker}?api-version={API}", _workload_identity_body(identity)
    )
    assert status in (200, 201), answer
    final = e2e.wait_operation(headers["Azure-AsyncOperation"])

    assert final["status"] == "Succeeded", final
    granted = [
        a
        for a in authorization.role_assignments.list_for_scope(STORAGE)
        if a.principal_id == identity.principal_id
    ]
    assert [a.principal_type for a in granted] == ["ServicePrincipal"]


def test_when_replication_lags_despite_principal_type_the_wait_shows_in_progress(e2e: E2E) -> None:
    window = 600.0
    identity = _fresh_identity(
        e2e, {"principalReplicationSeconds": window, "principalReplicationTypedSeconds": window}
    )
    linker = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers/lagging"
    status, headers, answer = e2e.http(
        "PUT", f"{linker}?api-version={API}", _workload_identity_body(identity)
    )
    assert status in (200, 201), answer
    operation = headers["Azure-AsyncOperation"]

    deadline = time.monotonic() + 30
    while True:
        body = e2e.http("GET", operation)[2]
        progress = (body.get("properties") or {}).get("progress") or {}
        if "PrincipalNotFound" in str(progress.get("detail")):
            break
        assert body["status"] == "Accepted" and time.monotonic() < deadline, body
        time.sleep(0.1)
    # What the operation says while it waits: the code, that it retries, and when it checks next.
    assert "retrying" in progress["detail"] and progress.get("nextCheckAt"), progress

    e2e.arm.advance(window)  # the directory catches up
    assert e2e.wait_operation(operation)["status"] == "Succeeded"
