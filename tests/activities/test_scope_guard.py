"""Defence in depth: activities make no ARM call outside ALLOWED_SCOPES, whatever their input says.

A record stored by an older version (or a workflow bug) could name a foreign target or identity. The guard in
every ARM pipeline refuses the call before it is sent: the ARM emulator's journal shows nothing foreign.
"""

from __future__ import annotations

from typing import Any

import pytest

from activities.clients import Clients
from activities.identity import ensure_federated_credential, resolve_identity
from activities.kube_resources import apply_connection_resources
from activities.roles import ensure_role_assignment
from connector.errors import Category, ConnectorFailure
from connector.model import ClusterRef, Connection, SecretAuth
from connector.vocabulary import ClientType
from tests.activities.conftest import CLUSTER_1, RG, SUB, World, make_settings

FOREIGN_SUB = "00000000-0000-0000-0000-0000000000ff"
FOREIGN_ACCOUNT = (
    f"/subscriptions/{FOREIGN_SUB}/resourceGroups/rg-foreign/providers/Microsoft.Storage/storageAccounts/"
    "stforeign01"
)
OTHER_GROUP_IDENTITY = (
    f"/subscriptions/{SUB}/resourceGroups/rg-other/providers/Microsoft.ManagedIdentity/"
    "userAssignedIdentities/id-other"
)


@pytest.fixture
def foreign(world: World) -> World:
    """A foreign subscription with a storage account, and an identity in another group of the demo's."""
    world.arm.seed(
        {
            "subscriptions": [
                {
                    "id": FOREIGN_SUB,
                    "resourceGroups": [
                        {
                            "name": "rg-foreign",
                            "targets": [{"type": "Microsoft.Storage/storageAccounts", "name": "stforeign01"}],
                        }
                    ],
                },
                {"id": SUB, "resourceGroups": [{"name": "rg-other", "identities": [{"name": "id-other"}]}]},
            ]
        }
    )
    world.clear_journals()
    return world


def _refused(caught: pytest.ExceptionInfo[ConnectorFailure]) -> None:
    error = caught.value.error
    assert error.category is Category.UNAUTHORIZED
    assert error.code == "AuthorizationFailed"
    assert "ALLOWED_SCOPES" in error.message and "ALLOWED_SCOPES" in error.mitigation


def _foreign_calls(world: World) -> list[dict[str, Any]]:
    return [e for e in world.arm_calls() if FOREIGN_SUB in e["path"] or "rg-other" in e["path"]]


def test_a_stored_connection_to_a_foreign_target_lists_no_keys_and_writes_no_secret(foreign: World) -> None:
    cluster = ClusterRef.model_validate(
        {"subscription_id": SUB, "resource_group": "rg-demo", "name": CLUSTER_1.rsplit("/", 1)[-1]}
    )
    stale = Connection(
        linker_name="stale",
        cluster=cluster,
        target_id=f"{FOREIGN_ACCOUNT}/blobServices/default",
        target_kind="storage-blob",
        auth=SecretAuth(),
        client_type=ClientType.PYTHON,
    )

    with pytest.raises(ConnectorFailure) as caught:
        apply_connection_resources(stale.to_stored(), clients=foreign.clients)

    _refused(caught)
    assert _foreign_calls(foreign) == []
    assert [c for c in foreign.kube_calls() if c["method"] in ("PATCH", "PUT", "POST")] == []


def test_a_role_on_a_foreign_resource_is_not_granted(foreign: World) -> None:
    with pytest.raises(ConnectorFailure) as caught:
        ensure_role_assignment(
            FOREIGN_ACCOUNT,
            "11111111-1111-1111-1111-111111111111",
            "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
            clients=foreign.clients,
        )
    _refused(caught)
    assert _foreign_calls(foreign) == []


def test_an_identity_resolved_outside_a_group_scope_is_refused_before_any_write(foreign: World) -> None:
    group_only = Clients(
        make_settings(foreign.arm, allowed_scopes=(f"{RG}".lower(),)), sleeper=foreign.waits.append
    )
    other = foreign.arm.emulator.state.get(OTHER_GROUP_IDENTITY)
    assert other is not None

    with pytest.raises(ConnectorFailure) as caught:
        resolve_identity(str(other.properties["clientId"]), SUB, clients=group_only)
    _refused(caught)

    with pytest.raises(ConnectorFailure) as caught:
        ensure_federated_credential(
            OTHER_GROUP_IDENTITY,
            CLUSTER_1,
            "https://issuer.example/",
            "default",
            "sc-account-x",
            clients=group_only,
        )
    _refused(caught)
    assert [e for e in foreign.arm_calls() if e["method"] != "GET"] == []
