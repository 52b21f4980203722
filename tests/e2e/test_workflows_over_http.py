"""Issue 6's workflow outcomes seen through the public HTTP API only (PUT, DELETE, POST api/reconcile, the
operation status and GET linker), with the product on DevHost and the emulators around it.

The waits themselves (a cluster Updating for 20 virtual minutes) are asserted in tests/orchestrations, on the
same engine with a virtual clock; here operations run in real time with the emulators' delays at zero.
"""

from __future__ import annotations

import time
from typing import Any

from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import StorageAccountRegenerateKeyParameters
from kubernetes import client as k8s

from emulators.arm import kube_key
from tests.e2e.conftest import API, BLOB, CLUSTER, E2E

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
SC_JOB_LINE = "ERROR sc-job: helm install failed: image pull back-off"


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
    return [f"{e['method']} {e['path']}" for e in entries if e["method"] in ("PUT", "PATCH", "POST", "DELETE")
            and not e["path"].endswith(("/listKeys", "/listClusterUserCredential"))]


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
    assert linker["properties"]["lastError"]["code"] == "ExtensionOperationFailed"


def test_delete_keeps_the_secret_by_default_and_forced_cleanup_removes_it(e2e: E2E) -> None:
    _create(e2e, "blobkeep")
    _create(e2e, "blobgone", api_version="2024-04-01", forced_cleanup=True)

    for name, api_version in (("blobkeep", API), ("blobgone", "2024-04-01")):
        deleted = e2e.http("DELETE", f"{LINKERS}/{name}?api-version={api_version}")
        assert _finish(e2e, deleted)["status"] == "Succeeded"
        assert e2e.http("GET", f"{LINKERS}/{name}?api-version={api_version}")[0] == 404

    assert e2e.kube_secret(CLUSTER, "default", "sc-blobkeep-secret") is not None
    assert e2e.kube_secret(CLUSTER, "default", "sc-blobgone-secret") is None
