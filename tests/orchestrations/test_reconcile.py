"""`reconcile`: one run repairs each kind of drift, and a run over converged clusters writes nothing."""

from __future__ import annotations

import json

from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.kubernetesconfiguration.extensions import KubernetesConfigurationExtensionsMgmtClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import StorageAccountRegenerateKeyParameters

from connector import naming
from tests.orchestrations.conftest import (
    CLUSTER_1,
    REF_2,
    Env,
    issued_keys,
    keyvault_csi_connection,
    secret_connection,
    storage_key,
)


def _connected(env: Env, *connections: object) -> list[str]:
    ids = []
    for connection in connections:
        linker_id = env.put_connection(connection)  # type: ignore[arg-type]
        assert env.connect(linker_id).output["provisioningState"] == "Succeeded"
        ids.append(linker_id)
    env.clear_journals()
    return ids


def _totals(output: dict[str, object]) -> dict[str, object]:
    return {k: output[k] for k in ("clusters", "connections", "drifted", "repaired", "failed")}


def test_a_reconcile_without_drift_makes_no_write(env: Env) -> None:
    ids = _connected(env, secret_connection("blob1"), secret_connection("blob2", cluster=REF_2))
    run = env.reconcile()

    assert _totals(run.output) == {"clusters": 2, "connections": 2, "drifted": 0, "repaired": 0, "failed": 0}
    assert env.writes() == []
    assert env.arm_calls() and env.kube_calls(), "the clusters were observed"
    for linker_id in ids:
        record = env.record(linker_id)
        assert (
            record is not None and record["lastReconcileTime"] and record["provisioningState"] == "Succeeded"
        )
        assert record["lastReconcile"] == {"drift": [], "repaired": False, "error": None}


def test_a_deleted_secret_is_written_again(env: Env) -> None:
    (linker_id,) = _connected(env, secret_connection("blob1"))
    env.core().delete_namespaced_secret(naming.secret_name("blob1"), "default")
    run = env.reconcile()

    assert _totals(run.output) == {"clusters": 1, "connections": 1, "drifted": 1, "repaired": 1, "failed": 0}
    assert run.output["details"][0]["actions"] == ["ApplySecret"]
    assert (
        f"AccountKey={storage_key(env)}"
        in env.secret("sc-blob1-secret")["AZURE_STORAGEBLOB_CONNECTIONSTRING"]
    )
    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == "Succeeded"
    assert record["lastReconcile"] == {"drift": ["ApplySecret"], "repaired": True, "error": None}


def test_a_regenerated_storage_key_reaches_the_secret_and_no_orchestration_record(env: Env) -> None:
    _connected(env, secret_connection("blob1"))
    old = storage_key(env)
    storage = env.arm.mgmt_client(StorageManagementClient)
    storage.storage_accounts.regenerate_key(
        "rg-demo", "stdemo0001", StorageAccountRegenerateKeyParameters(key_name="key1")
    )
    new = storage_key(env)
    assert new != old
    run = env.reconcile()

    assert run.output["repaired"] == 1 and run.output["details"][0]["actions"] == ["ApplySecret"]
    assert f"AccountKey={new}" in env.secret("sc-blob1-secret")["AZURE_STORAGEBLOB_CONNECTIONSTRING"]
    text = json.dumps([run.status, *run.children.values()])
    assert not {k for k in issued_keys(env.arm) | {old} if k in text}


def test_an_uninstalled_extension_is_installed_again(env: Env) -> None:
    _connected(env, secret_connection("blob1"))
    extensions = env.arm.mgmt_client(KubernetesConfigurationExtensionsMgmtClient).extensions
    path = ("rg-demo", "Microsoft.ContainerService", "managedClusters", "aks-demo-1", "sc-extension")
    extensions.begin_delete(*path, polling=False).result()
    env.arm.advance(120)
    run = env.reconcile()

    assert _totals(run.output) == {"clusters": 1, "connections": 1, "drifted": 1, "repaired": 1, "failed": 0}
    assert run.output["details"][0]["actions"] == ["InstallExtension"]
    assert extensions.get(*path).provisioning_state == "Succeeded"


def test_a_disabled_key_vault_add_on_is_enabled_again(env: Env) -> None:
    _connected(env, keyvault_csi_connection())
    clusters = env.arm.mgmt_client(ContainerServiceClient).managed_clusters
    cluster = clusters.get("rg-demo", "aks-demo-1")
    cluster.addon_profiles["azureKeyvaultSecretsProvider"].enabled = False
    clusters.begin_create_or_update("rg-demo", "aks-demo-1", cluster, polling=False).result()
    env.arm.advance(120)
    env.clear_journals()
    run = env.reconcile()

    assert run.output["repaired"] == 1 and "EnableKeyVaultAddon" in run.output["details"][0]["actions"]
    addon = clusters.get("rg-demo", "aks-demo-1").addon_profiles["azureKeyvaultSecretsProvider"]
    assert addon.enabled
    assert env.secret("sc-kvcsi-secret")["AZURE_KEYVAULT_CLIENTID"] == addon.identity.client_id
    cluster_puts = [
        e for e in env.arm_calls() if e["method"] == "PUT" and e["path"].lower() == CLUSTER_1.lower()
    ]
    assert len(cluster_puts) == 1


def test_clusters_are_reconciled_by_children_at_most_max_parallel_at_a_time(env: Env) -> None:
    _connected(env, secret_connection("blob1"), secret_connection("blob2", cluster=REF_2))
    run = env.reconcile(maxParallelClusters=1)

    assert _totals(run.output)["clusters"] == 2 and len(run.children) == 2
    kinds = [e["EventType"] for e in run.status["historyEvents"]]
    created = [i for i, kind in enumerate(kinds) if kind == "SubOrchestrationInstanceCreated"]
    completed = [i for i, kind in enumerate(kinds) if kind == "SubOrchestrationInstanceCompleted"]
    # With one at a time, the second child starts only after the first one completed.
    assert len(created) == 2 and completed[0] < created[1]


def test_connections_with_a_running_operation_are_left_alone(env: Env) -> None:
    _connected(env, secret_connection("blob1"))
    busy = env.put_connection(secret_connection("blob2"), state="Accepted")  # its connect has not run yet
    run = env.reconcile()

    assert _totals(run.output)["connections"] == 1
    assert env.record(busy)["provisioningState"] == "Accepted"  # type: ignore[index]
    assert env.writes() == []


def test_a_repair_that_cannot_succeed_marks_the_drifted_connection_failed(env: Env) -> None:
    broken, fine = _connected(env, secret_connection("blob1"), secret_connection("blob2"))
    env.core().delete_namespaced_secret(naming.secret_name("blob1"), "default")
    env.kube_admin.add_fault("/secrets/sc-blob1-secret", method="PATCH", status=403)
    run = env.reconcile()

    assert _totals(run.output) == {"clusters": 1, "connections": 2, "drifted": 1, "repaired": 0, "failed": 1}
    assert run.output["details"][0]["error"]["category"] == "unauthorized"
    record = env.record(broken)
    assert record is not None and record["provisioningState"] == "Failed"
    assert record["lastError"]["category"] == "unauthorized" and record["lastReconcileTime"]
    assert env.record(fine)["provisioningState"] == "Succeeded"  # type: ignore[index]
