"""The retry policy and error classification, seen through the ARM emulator's fault rules and call journal.

Waits are recorded by the Clients' sleeper (a virtual clock): the tests assert the waits asked for.
"""

from __future__ import annotations

import pytest

from activities.cluster import enable_cluster_features, read_cluster
from activities.roles import ensure_role_assignment
from connector.errors import Category, ConnectorFailure, parse_failure_text
from tests.activities.conftest import BLOB, CLUSTER_1, CLUSTER_2, World

CLUSTER_PATH = "managedClusters/aks-demo-1$"


def _statuses(world: World, method: str = "GET") -> list[int]:
    return [e["status"] for e in world.arm_calls() if e["method"] == method]


def test_throttled_request_waits_retry_after_then_succeeds(world: World) -> None:
    world.fault(
        CLUSTER_PATH,
        method="GET",
        status=429,
        times=2,
        headers={"Retry-After": "7"},
        body={"error": {"code": "SubscriptionRequestsThrottled", "message": "Number of 'read' requests ..."}},
    )
    state = read_cluster(CLUSTER_1, clients=world.clients)
    assert state["provisioningState"] == "Succeeded"
    assert _statuses(world) == [429, 429, 200]
    assert world.waits == [7.0, 7.0]


def test_long_retry_after_is_not_slept_in_the_activity(world: World) -> None:
    """A Retry-After beyond the inline limit fails at once as THROTTLED carrying retry_after for a timer."""
    world.fault(CLUSTER_PATH, method="GET", status=429, times=1, headers={"Retry-After": "120"})
    with pytest.raises(ConnectorFailure) as caught:
        read_cluster(CLUSTER_1, clients=world.clients)
    assert caught.value.error.category is Category.THROTTLED
    assert caught.value.error.retry_after == 120.0
    assert _statuses(world) == [429]
    assert world.waits == []
    parsed = parse_failure_text(f"Activity function 'read_cluster' failed: {caught.value} \n {{}}")
    assert parsed is not None and parsed.retry_after == 120.0


def test_transient_500_is_retried_then_succeeds(world: World) -> None:
    world.fault(CLUSTER_PATH, method="GET", status=500, times=1)
    assert read_cluster(CLUSTER_1, clients=world.clients)["provisioningState"] == "Succeeded"
    assert _statuses(world) == [500, 200]


def test_persistent_5xx_exhausts_the_bounded_budget_as_transient(world: World) -> None:
    world.fault(CLUSTER_PATH, method="GET", status=503)
    with pytest.raises(ConnectorFailure) as caught:
        read_cluster(CLUSTER_1, clients=world.clients)
    assert caught.value.error.category is Category.TRANSIENT
    assert caught.value.error.retryable
    assert _statuses(world) == [503] * (world.clients.settings.arm_retry_total + 1)
    # Exponential backoff after the first immediate retry (factor 0.5): recorded, never slept.
    assert world.waits == [1.0, 2.0]


def test_other_4xx_are_never_retried_even_with_retry_after(world: World) -> None:
    world.fault(
        "managedClusters/aks-demo-2$",
        method="PUT",
        status=409,
        headers={"Retry-After": "5"},
        body={"error": {"code": "OperationNotAllowed", "message": "There's an in progress operation."}},
    )
    with pytest.raises(ConnectorFailure) as caught:
        enable_cluster_features(CLUSTER_2, workload_identity=True, clients=world.clients)
    assert caught.value.error.category is Category.CLUSTER_BUSY
    assert _statuses(world, "PUT") == [409]
    assert world.waits == []


def test_unauthorized_fails_at_once_naming_action_and_scope(world: World) -> None:
    action = "Microsoft.ContainerService/managedClusters/write"
    world.arm.admin.call("POST", "/arm/deny", {"action": action, "scope": CLUSTER_2, "method": "PUT"})
    with pytest.raises(ConnectorFailure) as caught:
        enable_cluster_features(CLUSTER_2, key_vault_addon=True, clients=world.clients)
    error = caught.value.error
    assert error.category is Category.UNAUTHORIZED
    assert not error.retryable
    assert error.code == "AuthorizationFailed"
    assert error.action == action
    assert error.scope == CLUSTER_2
    assert action in error.mitigation and CLUSTER_2 in error.mitigation
    assert action in error.message
    assert _statuses(world, "PUT") == [403]
    assert world.waits == []


def test_unauthorized_role_assignment_write(world: World) -> None:
    action = "Microsoft.Authorization/roleAssignments/write"
    scope = BLOB
    world.arm.admin.call("POST", "/arm/deny", {"action": action, "scope": scope, "method": "PUT"})
    with pytest.raises(ConnectorFailure) as caught:
        ensure_role_assignment(
            scope,
            "11111111-1111-1111-1111-111111111111",
            "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
            clients=world.clients,
        )
    assert caught.value.error.category is Category.UNAUTHORIZED
    assert caught.value.error.action == action
    assert str(caught.value.error.scope).lower() == scope.lower()


def test_unreachable_arm_is_transient(world: World) -> None:
    world.fault(CLUSTER_PATH, method="GET", drop=True)
    with pytest.raises(ConnectorFailure) as caught:
        read_cluster(CLUSTER_1, clients=world.clients)
    assert caught.value.error.category is Category.TRANSIENT
