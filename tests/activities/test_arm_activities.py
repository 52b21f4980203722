"""Provider, cluster and extension activities against the ARM emulator, through the real SDK clients."""

from __future__ import annotations

import pytest

from activities.cluster import enable_cluster_features, read_cluster
from activities.extension import delete_extension, ensure_extension, read_extension
from activities.provider import read_provider, register_provider
from connector.errors import Category, ConnectorFailure
from tests.activities.conftest import CLUSTER_1, CLUSTER_2, SUB, World

KC = "Microsoft.KubernetesConfiguration"


def _register(world: World) -> None:
    register_provider(SUB, clients=world.clients)
    world.arm.advance(60)
    world.clear_journals()


# ---- provider -------------------------------------------------------------------------------------------


def test_register_provider_writes_once_and_reports_state(world: World) -> None:
    assert read_provider(SUB, clients=world.clients)["registrationState"] == "NotRegistered"
    first = register_provider(SUB, clients=world.clients)
    assert first["registrationRequested"] is True
    assert first["registrationState"] in ("Registering", "Registered")
    assert world.writes() == [f"POST /subscriptions/{SUB}/providers/{KC}/register"]

    world.clear_journals()
    again = register_provider(SUB, clients=world.clients)  # still Registering: no second POST
    assert again["registrationRequested"] is False
    world.arm.advance(60)
    assert read_provider(SUB, clients=world.clients)["registrationState"] == "Registered"
    assert world.writes() == []


def test_missing_registration_is_reported_not_silently_registered(world: World) -> None:
    """The SDK's auto-registration is off: the 409 surfaces as PROVIDER_NOT_REGISTERED; nothing registers."""
    with pytest.raises(ConnectorFailure) as caught:
        ensure_extension(CLUSTER_1, clients=world.clients)
    error = caught.value.error
    assert error.category is Category.PROVIDER_NOT_REGISTERED
    assert error.code == "MissingSubscriptionRegistration"
    assert "az provider register -n Microsoft.KubernetesConfiguration" in error.mitigation
    assert not any("/register" in w for w in world.writes())
    assert world.waits == []


# ---- cluster --------------------------------------------------------------------------------------------


def test_read_cluster_is_one_get_with_every_fact(world: World) -> None:
    state = read_cluster(CLUSTER_1, clients=world.clients)
    assert state["provisioningState"] == "Succeeded"
    assert state["powerState"] == "Running"
    assert state["oidcIssuerEnabled"] is True
    assert state["oidcIssuerUrl"].startswith("https://")
    assert state["workloadIdentityEnabled"] is True
    assert state["keyVaultAddonEnabled"] is False
    assert state["location"] == "eastus"
    assert [(e["method"], e["path"]) for e in world.arm_calls()] == [("GET", CLUSTER_1)]


def test_missing_cluster_is_not_found(world: World) -> None:
    with pytest.raises(ConnectorFailure) as caught:
        read_cluster(CLUSTER_1.replace("aks-demo-1", "aks-missing"), clients=world.clients)
    assert caught.value.error.category is Category.NOT_FOUND
    assert caught.value.error.code == "ResourceNotFound"


def test_enable_features_is_one_put_holding_only_the_changes_then_nothing(world: World) -> None:
    before = read_cluster(CLUSTER_2, clients=world.clients)
    world.clear_journals()
    result = enable_cluster_features(
        CLUSTER_2, workload_identity=True, key_vault_addon=True, clients=world.clients
    )
    assert sorted(result["changed"]) == ["keyVaultAddon", "oidcIssuer", "workloadIdentity"]
    assert world.writes() == [f"PUT {CLUSTER_2}"]
    world.arm.advance(120)
    after = read_cluster(CLUSTER_2, clients=world.clients)
    assert after["provisioningState"] == "Succeeded"
    assert after["oidcIssuerEnabled"] and after["workloadIdentityEnabled"] and after["keyVaultAddonEnabled"]
    assert after["keyVaultAddonClientId"]
    assert after["location"] == before["location"]

    world.clear_journals()
    again = enable_cluster_features(
        CLUSTER_2, workload_identity=True, key_vault_addon=True, clients=world.clients
    )
    assert again["changed"] == []
    assert world.writes() == []


def test_enable_features_never_disables(world: World) -> None:
    """Asking for nothing on a cluster that has features on leaves them on and writes nothing."""
    result = enable_cluster_features(CLUSTER_1, clients=world.clients)
    assert result["changed"] == []
    assert result["oidcIssuerEnabled"] is True
    assert world.writes() == []


def test_enable_features_on_a_busy_cluster_is_cluster_busy_without_a_write(world: World) -> None:
    world.arm.admin.call("POST", "/arm/busy", {"resourceId": CLUSTER_2, "seconds": 300})
    with pytest.raises(ConnectorFailure) as caught:
        enable_cluster_features(CLUSTER_2, workload_identity=True, clients=world.clients)
    assert caught.value.error.category is Category.CLUSTER_BUSY
    assert "provisioningState is Succeeded" in caught.value.error.mitigation
    assert world.writes() == []


def test_a_409_operation_not_allowed_from_aks_is_cluster_busy(world: World) -> None:
    """The cluster turns busy between our GET and PUT: AKS's 409 is CLUSTER_BUSY, and not retried."""
    world.fault(
        "managedClusters/aks-demo-2$",
        method="PUT",
        status=409,
        times=1,
        body={
            "error": {
                "code": "OperationNotAllowed",
                "message": "Operation is not allowed because there's an in progress update managed cluster "
                "operation on the managed cluster started at 2024-01-01T00:00:00Z.",
            }
        },
    )
    with pytest.raises(ConnectorFailure) as caught:
        enable_cluster_features(CLUSTER_2, workload_identity=True, clients=world.clients)
    assert caught.value.error.category is Category.CLUSTER_BUSY
    assert caught.value.error.code == "OperationNotAllowed"
    assert [e["status"] for e in world.arm_calls() if e["method"] == "PUT"] == [409]
    assert world.waits == []


# ---- extension ------------------------------------------------------------------------------------------


def test_extension_install_then_no_write_when_as_desired(world: World) -> None:
    _register(world)
    assert read_extension(CLUSTER_1, clients=world.clients)["present"] is False
    installed = ensure_extension(CLUSTER_1, clients=world.clients)
    assert installed["action"] == "install"
    assert installed["extensionType"] == "microsoft.servicelinker.connection"
    assert installed["releaseNamespace"] == "sc-system"
    assert installed["autoUpgradeMinorVersion"] is True
    ext_path = f"{CLUSTER_1}/providers/Microsoft.KubernetesConfiguration/extensions/sc-extension"
    assert [w.lower() for w in world.writes()] == [f"put {ext_path}".lower()]
    world.arm.advance(300)
    assert read_extension(CLUSTER_1, clients=world.clients)["provisioningState"] == "Succeeded"

    world.clear_journals()
    again = ensure_extension(CLUSTER_1, clients=world.clients)
    assert again["action"] == "none"
    assert world.writes() == []


def test_extension_upgrade_when_version_pinned(world: World) -> None:
    _register(world)
    ensure_extension(CLUSTER_1, clients=world.clients)
    world.arm.advance(300)
    from activities.clients import Clients
    from tests.activities.conftest import make_settings

    pinned = Clients(make_settings(world.arm, extension_version="1.2.3"), sleeper=world.waits.append)
    world.clear_journals()
    upgraded = ensure_extension(CLUSTER_1, clients=pinned)
    assert upgraded["action"] == "upgrade"
    assert [w.split(" ")[0] for w in world.writes()] == ["PATCH"]
    world.arm.advance(300)
    world.clear_journals()
    assert ensure_extension(CLUSTER_1, clients=pinned)["action"] == "none"
    assert world.writes() == []


def test_extension_install_failure_reports_statuses(world: World) -> None:
    _register(world)
    world.arm.admin.call("POST", "/arm/install-failures", {"clusterId": CLUSTER_1})
    ensure_extension(CLUSTER_1, clients=world.clients)
    world.arm.advance(300)
    failed = read_extension(CLUSTER_1, clients=world.clients)
    assert failed["provisioningState"] == "Failed"
    assert failed["statuses"] and failed["statuses"][0]["level"].lower() == "error"
    world.clear_journals()
    assert ensure_extension(CLUSTER_1, clients=world.clients)["action"] == "none"  # left for diagnosis
    assert world.writes() == []


@pytest.mark.parametrize("outcome", ["Failed", "Canceled"])
def test_a_failed_or_canceled_extension_is_reinstalled_when_asked(world: World, outcome: str) -> None:
    _register(world)
    world.arm.admin.call("POST", "/arm/install-failures", {"clusterId": CLUSTER_1, "outcome": outcome})
    ensure_extension(CLUSTER_1, clients=world.clients)
    world.arm.advance(300)
    assert read_extension(CLUSTER_1, clients=world.clients)["provisioningState"] == outcome
    world.arm.admin.call("DELETE", "/arm/install-failures")
    world.clear_journals()

    assert ensure_extension(CLUSTER_1, reinstall_failed=True, clients=world.clients)["action"] == "reinstall"
    world.arm.advance(300)
    assert read_extension(CLUSTER_1, clients=world.clients)["provisioningState"] == "Succeeded"


def test_extension_on_a_busy_cluster_is_cluster_busy(world: World) -> None:
    _register(world)
    world.arm.admin.call("POST", "/arm/busy", {"resourceId": CLUSTER_1, "seconds": 300})
    with pytest.raises(ConnectorFailure) as caught:
        ensure_extension(CLUSTER_1, clients=world.clients)
    assert caught.value.error.category is Category.CLUSTER_BUSY


def test_delete_extension_tolerates_absence(world: World) -> None:
    _register(world)
    assert delete_extension(CLUSTER_1, clients=world.clients)["deleted"] is False
    ensure_extension(CLUSTER_1, clients=world.clients)
    world.arm.advance(300)
    assert delete_extension(CLUSTER_1, clients=world.clients)["deleted"] is True
    world.arm.advance(300)
    assert read_extension(CLUSTER_1, clients=world.clients)["present"] is False


def test_read_extension_before_registration_reads_as_absent(world: World) -> None:
    state = read_extension(CLUSTER_1, clients=world.clients)
    assert state["present"] is False and state["providerRegistered"] is False
    _register(world)
    assert read_extension(CLUSTER_1, clients=world.clients)["providerRegistered"] is True
