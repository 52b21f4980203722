"""Connect, validate and reconcile agree on what a converged connection is: one write, then none.

The tenant on a workload identity's ServiceAccount is the identity's own (read from ARM), whatever the app's
AZURE_TENANT_ID setting says: the two differ when the connector runs in another tenant than the identities
it wires (or when the setting is simply wrong), and the demo's sample settings have them differ.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from activities import registry as registry_ops
from activities.clients import Clients, use_clients
from activities.settings import Settings
from connector import naming
from tests.orchestrations.conftest import (
    POLICY,
    REF_2,
    Env,
    identity_client_id,
    keyvault_csi_connection,
    register_provider_now,
    secret_connection,
    workload_connection,
)

OTHER_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"  # the sample settings' AZURE_TENANT_ID


@pytest.fixture
def other_tenant_setting(env: Env, monkeypatch: pytest.MonkeyPatch) -> Env:
    """AZURE_TENANT_ID names another tenant than the identities' (as local.settings.sample.json does)."""
    monkeypatch.setenv("AZURE_TENANT_ID", OTHER_TENANT)
    env.clients = Clients(Settings.from_env(), sleeper=lambda _: None)
    use_clients(env.clients)
    return env


def test_a_workload_identity_connection_converges_when_the_setting_names_another_tenant(
    other_tenant_setting: Env,
) -> None:
    env = other_tenant_setting
    register_provider_now(env)
    connection = workload_connection(env)
    linker_id = env.put_connection(connection)
    assert env.connect(linker_id).output["provisioningState"] == "Succeeded"

    account = env.core(REF_2.id).read_namespaced_service_account(
        naming.service_account_name(identity_client_id(env)), connection.namespace
    )
    identity_tenant = env.arm.emulator.state.tenant_id
    assert identity_tenant != OTHER_TENANT
    assert account.metadata.annotations[naming.WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION] == identity_tenant

    env.clear_journals()
    validation = env.run(
        "validate", {"linkerId": linker_id, "operationId": uuid.uuid4().hex, "policy": POLICY}
    )
    assert validation.output["validation"]["isConnectionAvailable"] is True, validation.output
    reconcile = env.reconcile()
    assert reconcile.output["drifted"] == 0, reconcile.output
    assert env.writes() == []


def test_an_identical_second_connect_writes_nothing(env: Env) -> None:
    register_provider_now(env)
    linker_id = env.put_connection(secret_connection())
    assert env.connect(linker_id).output["provisioningState"] == "Succeeded"
    env.clear_journals()

    assert env.connect(linker_id).output["provisioningState"] == "Succeeded"

    assert env.writes() == []


def test_one_failing_action_among_fifty_drifted_linkers_fails_only_its_linker(env: Env) -> None:
    register_provider_now(env)
    first = env.put_connection(secret_connection("blob00"))
    assert env.connect(first).output["provisioningState"] == "Succeeded"  # the extension is installed
    ids = [env.put_connection(secret_connection(f"blob{n:02d}"), state="Succeeded") for n in range(1, 50)]
    env.core().delete_namespaced_secret("sc-blob00-secret", "default")  # all fifty Secrets are missing now
    forbidden = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": "Forbidden",
        "code": 403,
        "message": 'secrets "sc-blob07-secret" is forbidden: denied by policy',
    }
    env.kube_admin.add_fault("secrets/sc-blob07-secret", method="PATCH", status=403, body=forbidden)

    run = env.reconcile()

    assert (run.output["drifted"], run.output["repaired"], run.output["failed"]) == (50, 49, 1), run.output
    for linker_id in [first, *ids]:
        record = env.record(linker_id)
        assert record is not None
        if linker_id.endswith("/blob07"):
            assert record["provisioningState"] == "Failed"
            assert record["lastError"]["category"] == "unauthorized"
        else:
            assert record["provisioningState"] == "Succeeded", (linker_id, record.get("lastError"))
            assert not record.get("lastError")
            name = naming.secret_name(linker_id.rsplit("/", 1)[-1])
            assert env.secret(name)["AZURE_STORAGEBLOB_CONNECTIONSTRING"]


def test_a_deleted_identity_fails_only_the_connections_that_use_it(env: Env) -> None:
    register_provider_now(env)
    workload = workload_connection(env)
    blob = secret_connection("blobokay", cluster=REF_2)
    ids = [env.put_connection(c) for c in (workload, blob)]
    for linker_id in ids:
        assert env.connect(linker_id).output["provisioningState"] == "Succeeded"
    env.core(REF_2.id).delete_namespaced_secret("sc-blobokay-secret", "default")
    env.arm.admin.add_fault(
        "userAssignedIdentities",
        method="GET",
        status=404,
        body={"error": {"code": "ResourceNotFound", "message": "The identity was deleted."}},
    )

    run = env.reconcile()

    assert run.output["failed"] == 1 and run.output["repaired"] == 1, run.output
    assert env.record(ids[0])["provisioningState"] == "Failed"  # type: ignore[index]
    assert env.record(ids[1])["provisioningState"] == "Succeeded"  # type: ignore[index]
    assert env.secret("sc-blobokay-secret", cluster_id=REF_2.id)


def test_a_record_that_vanishes_mid_operation_leaves_nothing_on_the_cluster(env: Env) -> None:
    register_provider_now(env)
    first = env.put_connection(secret_connection("settled"))
    assert env.connect(first).output["provisioningState"] == "Succeeded"  # the extension is installed
    linker_id = env.put_connection(secret_connection("vanishing"))
    # The Secret's write takes a second; the record is deleted meanwhile (a store that lost it, say).
    env.kube_admin.add_fault("secrets/sc-vanishing-secret", method="PATCH", latency=1.0, times=1)
    timer = threading.Timer(
        0.5, registry_ops.delete_record, args=(linker_id,), kwargs={"clients": env.clients}
    )
    timer.start()

    run = env.connect(linker_id)
    timer.join()

    assert run.output["provisioningState"] == "Failed"
    assert run.output["error"]["code"] == "ConnectionNotFound"
    names = [s.metadata.name for s in env.core().list_namespaced_secret("default").items]
    assert "sc-vanishing-secret" not in names and "sc-settled-secret" in names


def test_a_connect_on_a_ready_cluster_keeps_a_short_history_in_every_scenario(env: Env) -> None:
    register_provider_now(env)
    warmups = [
        secret_connection("warm1"),
        secret_connection("warm2", cluster=REF_2),
        keyvault_csi_connection("kvw"),
    ]
    for connection in warmups:  # the extension, the OIDC issuer and the Key Vault add-on are in place now
        assert env.connect(env.put_connection(connection)).output["provisioningState"] == "Succeeded"
    warm_wi = workload_connection(env, name="wiwarm")
    assert env.connect(env.put_connection(warm_wi)).output["provisioningState"] == "Succeeded"

    scenarios = {
        "secret": secret_connection("hist1"),
        "workload identity": workload_connection(env, name="wihist").model_copy(
            update={"namespace": "other"}
        ),
        "key vault csi": keyvault_csi_connection("kvhist"),
    }
    for scenario, connection in scenarios.items():
        run = env.connect(env.put_connection(connection))
        assert run.output["provisioningState"] == "Succeeded", (scenario, run.output)
        events = run.status.get("historyEvents") or []
        assert 0 < len(events) <= 32, (scenario, len(events))
