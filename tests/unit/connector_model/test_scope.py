"""ALLOWED_SCOPES rules: every resource a connection names or implies, and every ARM call path."""

from __future__ import annotations

import pytest

from connector.model import ClusterRef, Connection, SecretAuth, SecretKind, WorkloadIdentityAuth
from connector.scope import (
    arm_call_allowed,
    connection_violation,
    is_within,
    parse_allowed_scopes,
    subscription_has_scope,
)

ALLOWED = "00000000-0000-0000-0000-000000000001"
OTHER = "00000000-0000-0000-0000-0000000000ff"
GROUP_SCOPE = f"/subscriptions/{ALLOWED}/resourceGroups/rg-demo"
CLUSTER = ClusterRef(subscription_id=ALLOWED, resource_group="rg-demo", name="aks-demo-1")


def _blob(subscription: str) -> str:
    return (
        f"/subscriptions/{subscription}/resourceGroups/rg-demo/providers/Microsoft.Storage/storageAccounts/"
        "stdemo0001/blobServices/default"
    )


def _secret_connection(target: str, **auth: object) -> Connection:
    return Connection(
        linker_name="blob",
        cluster=CLUSTER,
        target_id=target,
        target_kind="storage-blob",
        auth=SecretAuth(**auth),  # type: ignore[arg-type]
    )


def _workload_connection(subscription: str, identity_id: str | None = None) -> Connection:
    return Connection(
        linker_name="blobwi",
        cluster=CLUSTER,
        target_id=_blob(ALLOWED),
        target_kind="storage-blob",
        auth=WorkloadIdentityAuth(
            client_id="11111111-1111-1111-1111-111111111111",
            subscription_id=subscription,
            identity_resource_id=identity_id,
        ),
    )


def test_the_setting_is_read_canonically() -> None:
    scopes = parse_allowed_scopes(f" /SUBSCRIPTIONS/{ALLOWED}/ , ,{GROUP_SCOPE}/,not-an-id")
    assert scopes == (f"/subscriptions/{ALLOWED}", GROUP_SCOPE.lower())


def test_a_target_in_another_subscription_is_outside() -> None:
    scopes = parse_allowed_scopes(f"/subscriptions/{ALLOWED}")
    assert connection_violation(_secret_connection(_blob(ALLOWED)), scopes) is None
    violation = connection_violation(_secret_connection(_blob(OTHER)), scopes)
    assert violation is not None
    assert violation.field == "properties.targetService.id"
    assert violation.resource == _blob(OTHER)
    assert "ALLOWED_SCOPES" in violation.message("Microsoft.ServiceLinker/linkers/write")


def _confluent(cluster: ClusterRef) -> Connection:
    return Connection(
        linker_name="kafka",
        cluster=cluster,
        target_id="pkc-4r297.eastus.azure.confluent.cloud:9092",
        target_kind="confluent-bootstrap-server",
        auth=SecretAuth(kind=SecretKind.RAW_VALUE, user_name="K4FKAKEY0000ABCD", sealed_secret="sealed"),
    )


def test_a_confluent_target_has_no_arm_id_to_scope_but_its_cluster_still_must_be_inside() -> None:
    scopes = parse_allowed_scopes(GROUP_SCOPE)
    outside = ClusterRef(subscription_id=OTHER, resource_group="rg-demo", name="aks-demo-1")

    assert connection_violation(_confluent(CLUSTER), scopes) is None
    violation = connection_violation(_confluent(outside), scopes)
    assert violation is not None and violation.field == "id"


def test_a_cluster_outside_the_scopes_is_named_first() -> None:
    scopes = parse_allowed_scopes(f"/subscriptions/{OTHER}")
    violation = connection_violation(_secret_connection(_blob(OTHER)), scopes)
    assert violation is not None and violation.field == "id"


def test_a_workload_identity_in_another_subscription_is_outside() -> None:
    scopes = parse_allowed_scopes(f"/subscriptions/{ALLOWED}")
    assert connection_violation(_workload_connection(ALLOWED), scopes) is None
    violation = connection_violation(_workload_connection(OTHER), scopes)
    assert violation is not None
    assert violation.field == "properties.authInfo.subscriptionId"


def test_a_known_identity_id_outside_a_resource_group_scope_is_outside() -> None:
    scopes = parse_allowed_scopes(GROUP_SCOPE)
    inside = f"{GROUP_SCOPE}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-demo"
    outside = inside.replace("rg-demo", "rg-other")
    assert connection_violation(_workload_connection(ALLOWED, inside), scopes) is None
    violation = connection_violation(_workload_connection(ALLOWED, outside), scopes)
    assert violation is not None and violation.resource == outside


def test_a_secret_store_vault_outside_is_refused() -> None:
    scopes = parse_allowed_scopes(f"/subscriptions/{ALLOWED}")
    vault = f"/subscriptions/{OTHER}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
    connection = _secret_connection(_blob(ALLOWED), kind=SecretKind.AUTO, key_vault_id=vault)
    violation = connection_violation(connection, scopes)
    assert violation is not None and violation.field == "properties.secretStore.keyVaultId"


@pytest.mark.parametrize(
    "resource",
    [
        f"/subscriptions/{ALLOWED}/resourceGroups/rg-demo/../../subscriptions/{OTHER}/resourceGroups/x",
        f"/subscriptions/{ALLOWED}/resourceGroups/rg-demo/./providers/x",
        f"/subscriptions/{ALLOWED}/resourceGroups/rg-demo//providers/x",
        f"/subscriptions/{ALLOWED}/resourceGroups/rg-demo%2f..%2f",
        f"/subscriptions/{ALLOWED}-evil/resourceGroups/rg-demo",
        f"/subscriptions/{ALLOWED}/resourceGroups/rg-demo-other",
        "https://evil.example.com/subscriptions/" + ALLOWED,
        "",
    ],
)
def test_ids_that_could_escape_a_scope_are_outside(resource: str) -> None:
    assert not is_within(resource, parse_allowed_scopes(GROUP_SCOPE))


def test_no_scopes_allow_nothing() -> None:
    assert not is_within(_blob(ALLOWED), ())
    assert not subscription_has_scope(ALLOWED, ())


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", f"{GROUP_SCOPE}/providers/Microsoft.ContainerService/managedClusters/aks", True),
        (
            "PUT",
            f"{GROUP_SCOPE}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id/"
            "federatedIdentityCredentials/fic",
            True,
        ),
        ("POST", _blob(OTHER).split("/blobServices")[0] + "/listKeys", False),
        ("GET", _blob(OTHER), False),
        # Subscription level: lists and provider reads where a scope lies, and provider registration.
        ("GET", f"/subscriptions/{ALLOWED}/providers/Microsoft.ManagedIdentity/userAssignedIdentities", True),
        ("GET", f"/subscriptions/{ALLOWED}/providers/Microsoft.KubernetesConfiguration", True),
        ("POST", f"/subscriptions/{ALLOWED}/providers/Microsoft.KubernetesConfiguration/register", True),
        ("POST", f"/subscriptions/{OTHER}/providers/Microsoft.KubernetesConfiguration/register", False),
        ("GET", f"/subscriptions/{OTHER}/providers/Microsoft.ManagedIdentity/userAssignedIdentities", False),
        ("PUT", f"/subscriptions/{ALLOWED}/providers/Microsoft.Authorization/roleAssignments/x", False),
        ("GET", f"/subscriptions/{ALLOWED}/resourceGroups/rg-other/providers/Microsoft.Storage/x/y", False),
        ("GET", f"/subscriptions/{ALLOWED}/resourceGroups/rg-demo/providers/%2e%2e/x", False),
    ],
)
def test_arm_calls_stay_inside_the_scopes(method: str, path: str, allowed: bool) -> None:
    assert arm_call_allowed(method, path, parse_allowed_scopes(GROUP_SCOPE)) is allowed
