"""Issue 6's workflow outcomes seen through the public HTTP API only (PUT, DELETE, POST api/reconcile, the
operation status and GET linker), with the product on DevHost and the emulators around it.

Operations run in real time with the emulators' delays at zero, except the busy-cluster test, where DevHost
and the ARM emulator share one virtual time that the test moves forward timer by timer.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import StorageAccountRegenerateKeyParameters
from kubernetes import client as k8s

from emulators.arm import kube_key
from tests.e2e.conftest import API, BLOB, CLUSTER, E2E

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
SC_JOB_LINE = "ERROR sc-job: helm install failed: image pull back-off"
DIAGNOSTICS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/diagnostics"


def _body(*, api_version: str = API, forced_cleanup: bool = False) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "targetService": {"type": "AzureResource", "id": BLOB},
        "authInfo": {"authType": "secret"},
        "clientType": "python",
        "scope": "default",
    }
    if forced_cleanup:
        properties["configurationInfo"] = {"deleteOrUpdateBehavior": "ForcedCleanup"}
    return {"properties": properties}


def _finish(e2e: E2E, response: tuple[int, dict[str, str], Any], timeout: float = 60) -> dict[str, Any]:
    """Poll the operation of a 201/202 answer until it ends; its final ARM status body."""
    assert response[0] in (201, 202), response
    deadline = time.monotonic() + timeout
    url = response[1]["Azure-AsyncOperation"]
    while (body := e2e.http("GET", url)[2])["status"] in ("Accepted", "Deleting"):
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    return dict(body)


def _create(e2e: E2E, name: str, **body: Any) -> None:
    api_version = body.get("api_version", API)
    put = e2e.http("PUT", f"{LINKERS}/{name}?api-version={api_version}", _body(**body))
    assert _finish(e2e, put)["status"] == "Succeeded"


def _storage_key(e2e: E2E) -> str:
    listed = e2e.arm.mgmt_client(StorageManagementClient).storage_accounts.list_keys("rg-demo", "stdemo0001")
    return str(listed.as_dict()["keys"][0]["value"])


def _connection_string(e2e: E2E, secret_name: str) -> str:
    secret = e2e.kube_secret(CLUSTER, "default", secret_name)
    assert secret is not None, f"{secret_name} is missing"
    return secret["AZURE_STORAGEBLOB_CONNECTIONSTRING"]


def _writes(e2e: E2E) -> list[str]:
    entries = e2e.arm.admin.journal()["entries"] + e2e.arm.kube.link.journal()["entries"]
    return [
        f"{e['method']} {e['path']}"
        for e in entries
        if e["method"] in ("PUT", "PATCH", "POST", "DELETE")
        and not e["path"].endswith(("/listKeys", "/listClusterUserCredential"))
    ]


def _reconcile(e2e: E2E) -> dict[str, Any]:
    done = _finish(e2e, e2e.http("POST", "/api/reconcile"))
    assert done["status"] == "Succeeded", done
    return dict(done["properties"])


def test_a_reconcile_repairs_a_deleted_secret_and_a_regenerated_key_and_writes_nothing_without_drift(
    e2e: E2E,
) -> None:
    _create(e2e, "blobdrift")
    e2e.arm.admin.clear_journal()
    e2e.arm.kube.link.clear_journal()
    quiet = _reconcile(e2e)
    assert (quiet["drifted"], quiet["repaired"]) == (0, 0)
    assert _writes(e2e) == []

    core = k8s.CoreV1Api(e2e.arm.kube.client_for(kube_key(CLUSTER)))
    core.delete_namespaced_secret("sc-blobdrift-secret", "default")
    assert (_reconcile(e2e)["repaired"]) == 1
    assert f"AccountKey={_storage_key(e2e)}" in _connection_string(e2e, "sc-blobdrift-secret")

    old = _storage_key(e2e)
    e2e.arm.mgmt_client(StorageManagementClient).storage_accounts.regenerate_key(
        "rg-demo", "stdemo0001", StorageAccountRegenerateKeyParameters(key_name="key1")
    )
    assert _storage_key(e2e) != old
    assert _reconcile(e2e)["repaired"] == 1
    assert f"AccountKey={_storage_key(e2e)}" in _connection_string(e2e, "sc-blobdrift-secret")


def test_a_failed_extension_install_ends_the_operation_and_the_linker_failed_with_the_sc_job_logs(
    e2e: E2E,
) -> None:
    e2e.arm.admin.call("POST", "/arm/install-failures", {"clusterId": CLUSTER, "logs": f"{SC_JOB_LINE}\n"})
    put = e2e.http("PUT", f"{LINKERS}/blobfail?api-version={API}", _body())
    done = _finish(e2e, put)

    assert done["status"] == "Failed"
    assert done["error"]["code"] == "ExtensionOperationFailed"
    info = done["error"]["additionalInfo"][0]["info"]
    assert SC_JOB_LINE in info["diagnostics"]["jobLogs"]["lines"]
    linker = e2e.http("GET", f"{LINKERS}/blobfail?api-version={API}")[2]
    assert linker["properties"]["provisioningState"] == "Failed"
    diagnostics = e2e.http("GET", f"{DIAGNOSTICS}?api-version={API}")[2]
    (failed,) = [c for c in diagnostics["connections"] if c["linkerId"].endswith("/linkers/blobfail")]
    assert failed["lastError"]["code"] == "ExtensionOperationFailed"


def test_delete_keeps_the_secret_by_default_and_forced_cleanup_removes_it(e2e: E2E) -> None:
    _create(e2e, "blobkeep")
    _create(e2e, "blobgone", api_version="2024-04-01", forced_cleanup=True)

    for name, api_version in (("blobkeep", API), ("blobgone", "2024-04-01")):
        deleted = e2e.http("DELETE", f"{LINKERS}/{name}?api-version={api_version}")
        assert _finish(e2e, deleted)["status"] == "Succeeded"
        assert e2e.http("GET", f"{LINKERS}/{name}?api-version={api_version}")[0] == 404

    assert e2e.kube_secret(CLUSTER, "default", "sc-blobkeep-secret") is not None
    assert e2e.kube_secret(CLUSTER, "default", "sc-blobgone-secret") is None


@pytest.mark.virtual_clock
def test_a_cluster_updating_for_20_minutes_is_waited_out_with_growing_waits_and_no_write(
    e2e: E2E, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = e2e.clock
    assert clock is not None
    # A deployment's settings (the fixture shrinks them for speed); triggers read them on each request.
    for name, value in {
        "BACKOFF_INITIAL_SECONDS": "15",
        "BACKOFF_MAX_SECONDS": "300",
        "CLUSTER_READY_TIMEOUT_SECONDS": "3600",
    }.items():
        monkeypatch.setenv(name, value)
    e2e.arm.admin.call("POST", "/arm/busy", {"resourceId": CLUSTER, "seconds": 1200})
    busy_until = e2e.arm.clock.now() + 1200
    e2e.arm.admin.clear_journal()

    started = clock.now()
    put = e2e.http("PUT", f"{LINKERS}/blobbusy?api-version={API}", _body())
    operation_url = put[1]["Azure-AsyncOperation"]
    operation_id = operation_url.split("?")[0].rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while (body := e2e.http("GET", operation_url)[2])["status"] == "Accepted":
        assert time.monotonic() < deadline, body
        due = e2e.host.host.engine.next_due()
        if due is None or due <= clock.now():
            time.sleep(0.02)  # an activity is running, in real time
            continue
        # Move both clocks to the next durable timer: nobody sleeps through the wait.
        step = (due - clock.now()).total_seconds()
        e2e.arm.advance(step)
        e2e.host.run(_advance(clock, step))

    assert body["status"] == "Succeeded", body
    fire_times = e2e.host.host.engine.timer_log[operation_id]
    waits = [round((b - a).total_seconds()) for a, b in itertools.pairwise([started, *fire_times])]
    # Doubling from BACKOFF_INITIAL_SECONDS, capped at BACKOFF_MAX_SECONDS, until 20 minutes have passed.
    assert waits[:6] == [15, 30, 60, 120, 240, 300], waits
    assert max(waits) == 300 and sum(waits) >= 1200
    cluster_writes = [
        e
        for e in e2e.arm.admin.journal()["entries"]
        if e["method"] not in ("GET", "HEAD")
        and e["path"].lower().startswith(CLUSTER.lower())
        and not e["path"].lower().endswith("/listclusterusercredential")
    ]
    assert cluster_writes, "the extension was installed once the cluster was ready"
    assert min(e["time"] for e in cluster_writes) >= busy_until
    assert all(e["status"] != 409 for e in cluster_writes)


async def _advance(clock: Any, seconds: float) -> None:
    clock.advance(seconds)
