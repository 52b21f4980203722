"""The HTTP API's refusals, concurrency, operation status and secret hygiene, over plain HTTP."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.e2e.conftest import API, CLUSTER, E2E, POSTGRES_DB, STORAGE, blob_secret_body

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
PASSWORD = "S3cr3t-Pa55w0rd-e2e!"


def _arm_writes(e2e: E2E) -> list[str]:
    return [
        f"{e['method']} {e['path']}"
        for e in e2e.arm.admin.journal()["entries"]
        if e["method"] in ("PUT", "PATCH", "DELETE")
    ]


def test_bad_input_is_an_arm_400_with_code_and_target_and_writes_nothing(e2e: E2E) -> None:
    e2e.arm.admin.clear_journal()
    body = blob_secret_body()
    body["properties"]["authInfo"] = {
        "authType": "userAssignedIdentity",
        "clientId": "not-a-guid",
        "subscriptionId": CLUSTER.split("/")[2],
    }

    status, _, error = e2e.http("PUT", f"{LINKERS}/badconn?api-version={API}", body)

    assert status == 400
    assert error["error"]["code"] == "InvalidFieldValue"
    assert error["error"]["target"] == "properties.authInfo.clientId"
    assert e2e.http("GET", f"{LINKERS}/badconn?api-version={API}")[0] == 404
    assert e2e.http("GET", f"{LINKERS}?api-version={API}")[2]["value"] == []
    assert _arm_writes(e2e) == []


def test_not_json_is_a_400(e2e: E2E) -> None:
    status, _, error = e2e.http("PUT", f"{LINKERS}/badjson?api-version={API}", b"{not json")
    assert status == 400
    assert error["error"]["code"] == "InvalidRequestBody"


def test_cluster_outside_allowed_scopes_is_403_and_touches_nothing(e2e: E2E, monkeypatch: Any) -> None:
    monkeypatch.setenv("ALLOWED_SCOPES", f"{CLUSTER.split('/providers/')[0]}-other")
    e2e.arm.admin.clear_journal()

    put = e2e.http("PUT", f"{LINKERS}/outside?api-version={API}", blob_secret_body())
    get = e2e.http("GET", f"{LINKERS}/outside?api-version={API}")
    delete = e2e.http("DELETE", f"{LINKERS}/outside?api-version={API}")

    for status, _, body in (put, get, delete):
        assert status == 403
        assert body["error"]["code"] == "AuthorizationFailed"
    assert "Microsoft.ServiceLinker/linkers/write" in put[2]["error"]["message"]
    monkeypatch.setenv("ALLOWED_SCOPES", f"/subscriptions/{CLUSTER.split('/')[2]}")
    assert e2e.http("GET", f"{LINKERS}?api-version={API}")[2]["value"] == []
    assert e2e.arm.admin.journal()["entries"] == []


def test_unsupported_api_version_is_400(e2e: E2E) -> None:
    for suffix in ("?api-version=2021-11-01-preview", ""):
        status, _, body = e2e.http("PUT", f"{LINKERS}/conn{suffix}", blob_secret_body())
        assert status == 400
        assert body["error"]["code"] == "InvalidApiVersionParameter"
        assert body["error"]["target"] == "api-version"


def test_requests_without_a_function_key_are_refused(e2e: E2E) -> None:
    assert e2e.http("GET", f"{LINKERS}?api-version={API}", key=None)[0] == 401
    assert e2e.http("GET", "/api/health", key=None)[0] == 200


def test_two_different_concurrent_puts_one_gets_409(e2e: E2E) -> None:
    # The first cluster read is slow, so the first operation is still running when the second arrives.
    e2e.arm.admin.add_fault(r".*/managedClusters/aks-demo-1$", method="GET", latency=2.0, times=1)

    def put(client_type: str) -> tuple[int, dict[str, str], Any]:
        return e2e.http("PUT", f"{LINKERS}/raced?api-version={API}", blob_secret_body(client_type))

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(put, ["python", "dotnet"]))

    assert sorted(r[0] for r in results) == [201, 409]
    refused = next(r for r in results if r[0] == 409)
    assert refused[2]["error"]["code"] == "AnotherOperationInProgress"
    accepted = next(r for r in results if r[0] == 201)
    assert e2e.wait_operation(accepted[1]["Azure-AsyncOperation"])["status"] == "Succeeded"
    linker = e2e.http("GET", f"{LINKERS}/raced?api-version={API}")[2]
    assert linker["properties"]["clientType"] == accepted[2]["properties"]["clientType"]


def test_a_duplicate_put_returns_the_running_operation(e2e: E2E) -> None:
    e2e.arm.admin.add_fault(r".*/managedClusters/aks-demo-1$", method="GET", latency=1.5, times=1)

    first = e2e.http("PUT", f"{LINKERS}/dup?api-version={API}", blob_secret_body())
    second = e2e.http("PUT", f"{LINKERS}/dup?api-version={API}", blob_secret_body())

    assert (first[0], second[0]) == (201, 201)
    assert first[1]["Azure-AsyncOperation"] == second[1]["Azure-AsyncOperation"]
    assert first[2]["properties"]["provisioningState"] == "Accepted"
    done = e2e.wait_operation(first[1]["Azure-AsyncOperation"])
    assert done["status"] == "Succeeded"
    assert done["resourceId"] == f"{LINKERS}/dup"
    assert set(done) >= {"id", "name", "resourceId", "status", "startTime", "endTime"}


def test_a_running_operation_reports_its_current_step(e2e: E2E) -> None:
    # The cluster read is slow, so the operation is seen while it runs.
    e2e.arm.admin.add_fault(r".*/managedClusters/aks-demo-1$", method="GET", latency=1.5, times=1)
    _, headers, _ = e2e.http("PUT", f"{LINKERS}/progress?api-version={API}", blob_secret_body())

    steps = set()
    deadline = time.monotonic() + 30
    while (body := e2e.http("GET", headers["Azure-AsyncOperation"])[2])["status"] == "Accepted":
        progress = (body.get("properties") or {}).get("progress")
        if progress:
            assert {"step", "attempt", "detail", "startedAt", "steps"} <= set(progress)
            steps.add(progress["step"])
        assert time.monotonic() < deadline, body
        time.sleep(0.05)
    assert body["status"] == "Succeeded"
    assert "observe" in steps, steps  # the slow cluster read is part of observing it


def test_no_secret_reaches_any_http_response(e2e: E2E) -> None:
    body = {
        "properties": {
            "targetService": {"type": "AzureResource", "id": POSTGRES_DB},
            "authInfo": {
                "authType": "secret",
                "name": "appuser",
                "secretInfo": {"secretType": "rawValue", "value": PASSWORD},
            },
            "clientType": "python",
            "scope": "default",
        }
    }
    texts: list[str] = []

    def call(method: str, path: str, payload: Any = None) -> tuple[int, dict[str, str], Any]:
        result = e2e.http(method, path, payload)
        texts.append(json.dumps(result[2]) + json.dumps(result[1]))
        return result

    put = call("PUT", f"{LINKERS}/pgconn?api-version=2024-04-01", body)
    assert put[0] == 201
    assert e2e.wait_operation(put[1]["Azure-AsyncOperation"])["status"] == "Succeeded"
    texts.append(json.dumps(e2e.wait_operation(put[1]["Azure-AsyncOperation"])))
    call("PUT", f"{LINKERS}/blobconn?api-version={API}", blob_secret_body())
    call("GET", f"{LINKERS}/pgconn?api-version=2024-04-01")
    call("GET", f"{LINKERS}?api-version={API}")
    configurations = call("POST", f"{LINKERS}/pgconn/listConfigurations?api-version={API}")
    validate = call("POST", f"{LINKERS}/pgconn/validateLinker?api-version={API}")
    texts.append(json.dumps(e2e.wait_operation(validate[1]["Azure-AsyncOperation"])))
    call("GET", f"{CLUSTER}/providers/Microsoft.ServiceLinker/diagnostics?api-version={API}")
    call("POST", f"{LINKERS}/blobconn/listConfigurations?api-version={API}")

    secret = e2e.kube_secret(CLUSTER, "default", "sc-pgconn-secret")
    assert secret is not None and any(PASSWORD in v for v in secret.values())
    names = {c["name"] for c in configurations[2]["configurations"]}
    assert names and all(
        c["value"] is None or PASSWORD not in c["value"] for c in configurations[2]["configurations"]
    )
    storage_keys = _issued_keys(e2e)
    assert storage_keys
    leaked = [t for t in texts if PASSWORD in t or any(k in t for k in storage_keys)]
    assert leaked == []


def _issued_keys(e2e: E2E) -> set[str]:
    state = e2e.arm.emulator.state
    with state.lock:
        return {
            v
            for r in state.resources.values()
            for v in r.secrets.values()
            if isinstance(v, str) and len(v) >= 8
        }


def test_delete_of_an_absent_linker_is_204(e2e: E2E) -> None:
    assert e2e.http("DELETE", f"{LINKERS}/nothing?api-version={API}")[0] == 204


def test_reset_extension_and_reconcile_run_as_operations(e2e: E2E) -> None:
    put = e2e.http("PUT", f"{LINKERS}/resetconn?api-version={API}", blob_secret_body())
    assert e2e.wait_operation(put[1]["Azure-AsyncOperation"])["status"] == "Succeeded"

    reset = e2e.http("POST", f"{CLUSTER}/providers/Microsoft.ServiceLinker/resetExtension?api-version={API}")
    assert reset[0] == 202
    assert e2e.wait_operation(reset[1]["Azure-AsyncOperation"], timeout=60)["status"] == "Succeeded"

    reconcile = e2e.http("POST", "/api/reconcile")
    assert reconcile[0] == 202
    done = e2e.wait_operation(reconcile[1]["Azure-AsyncOperation"], timeout=60)
    assert done["status"] == "Succeeded"
    assert done["properties"]["connections"] == 1

    diagnostics_path = f"{CLUSTER}/providers/Microsoft.ServiceLinker/diagnostics?api-version={API}"
    diagnostics = e2e.http("GET", diagnostics_path)[2]
    assert [c["provisioningState"] for c in diagnostics["connections"]] == ["Succeeded"]


def test_openapi_document_lists_every_route(e2e: E2E) -> None:
    status, _, document = e2e.http("GET", "/api/openapi.json", key=None)
    assert status == 200
    assert document["openapi"].startswith("3.")
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {
        "Linker_CreateOrUpdate",
        "Linker_Get",
        "Linker_List",
        "Linker_Update",
        "Linker_Delete",
        "Linker_Validate",
        "Linker_ListConfigurations",
        "OperationStatus_Get",
    } <= operations
    assert STORAGE not in json.dumps(document)


def test_a_terminated_operation_reads_canceled_and_frees_the_connection(e2e: E2E) -> None:
    e2e.arm.admin.add_fault(r".*/managedClusters/aks-demo-1$", method="GET", latency=1.5, times=1)
    first = e2e.http("PUT", f"{LINKERS}/stopped?api-version={API}", blob_secret_body())
    operation_id = first[1]["Azure-AsyncOperation"].split("/operationStatuses/")[1].split("?")[0]

    e2e.host.run(e2e.host.host.engine.terminate(operation_id, "operator stopped it"))

    status = e2e.wait_operation(first[1]["Azure-AsyncOperation"])
    assert status["status"] == "Canceled"
    second = e2e.http("PUT", f"{LINKERS}/stopped?api-version={API}", blob_secret_body("dotnet"))
    assert second[0] == 201
    assert e2e.wait_operation(second[1]["Azure-AsyncOperation"])["status"] == "Succeeded"


def test_operation_status_of_an_unknown_operation_is_404(e2e: E2E) -> None:
    status, _, body = e2e.http(
        "GET",
        f"/subscriptions/{CLUSTER.split('/')[2]}/providers/Microsoft.ServiceLinker/locations/local/"
        "operationStatuses/00000000-0000-0000-0000-00000000abcd?api-version=2022-05-01",
    )
    assert status == 404
    assert body["error"]["code"] == "ResourceNotFound"


def test_a_linker_whose_secret_name_is_taken_is_refused(e2e: E2E) -> None:
    first = e2e.http("PUT", f"{LINKERS}/blobconn?api-version={API}", blob_secret_body())
    assert e2e.wait_operation(first[1]["Azure-AsyncOperation"])["status"] == "Succeeded"

    status, _, body = e2e.http("PUT", f"{LINKERS}/blob.conn?api-version={API}", blob_secret_body())

    assert status == 400
    assert body["error"]["code"] == "SecretNameCollision"
    assert body["error"]["target"] == "name"
    assert e2e.http("GET", f"{LINKERS}/blob.conn?api-version={API}")[0] == 404


def test_patch_of_an_absent_linker_is_404(e2e: E2E) -> None:
    status, _, body = e2e.http("PATCH", f"{LINKERS}/absent?api-version={API}", {"properties": {}})
    assert status == 404
    assert body["error"]["code"] == "ResourceNotFound"
