"""Hostile input over the real HTTP interface and Service Bus (issue 9, items 2, 3, 6, 7).

Every refusal is asserted the way a caller sees it (status and ARM error body) and the way the estate sees it:
no ARM or Kubernetes write in the emulators' journals, and no orchestration started.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage

from tests.e2e.conftest import API, BLOB, CLUSTER, E2E, SUB

PROVIDER = "/providers/Microsoft.ServiceLinker"
LINKERS = f"{CLUSTER}{PROVIDER}/linkers"
API_2024 = "2024-04-01"
WRITE_METHODS = ("PUT", "PATCH", "POST", "DELETE")


def _blob_body(customized: dict[str, str] | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "targetService": {"type": "AzureResource", "id": BLOB},
        "authInfo": {"authType": "secret"},
        "clientType": "python",
        "scope": "default",
    }
    if customized is not None:
        properties["configurationInfo"] = {"customizedKeys": customized}
    return {"properties": properties}


def _writes(e2e: E2E) -> list[str]:
    entries = e2e.arm.admin.journal()["entries"] + e2e.arm.kube.link.journal()["entries"]
    return [
        f"{e['method']} {e['path']}"
        for e in entries
        if e["method"] in WRITE_METHODS
        and not e["path"].endswith(("/listKeys", "/listClusterUserCredential"))
    ]


def _instances(e2e: E2E) -> list[dict[str, Any]]:
    return list(e2e.host.run(e2e.host.host.engine.list_instances()))


def _raw(
    e2e: E2E, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """One request with exactly these headers (Host and Content-Type included), path sent as given."""
    address = urlsplit(e2e.url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
    try:
        sent = {"x-functions-key": e2e.key, **(headers or {})}
        connection.putrequest(method, path, skip_host="Host" in sent, skip_accept_encoding=True)
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        raw = response.read()
        return response.status, dict(response.getheaders()), (json.loads(raw) if raw else None)
    finally:
        connection.close()


def _assert_arm_error(body: Any, code: str) -> dict[str, Any]:
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = dict(body["error"])
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error


def _nested(depth: int) -> bytes:
    return b'{"properties": ' + b"[" * depth + b"]" * depth + b"}"


# --- 2. Every route validates api-version, ids and names ----------------------------------------------------


def test_reset_extension_and_diagnostics_refuse_a_bad_api_version_and_write_nothing(e2e: E2E) -> None:
    e2e.arm.admin.clear_journal()
    e2e.arm.kube.link.clear_journal()

    for suffix in ("?api-version=1999-01-01", ""):
        reset = e2e.http("POST", f"{CLUSTER}{PROVIDER}/resetExtension{suffix}")
        diagnostics = e2e.http("GET", f"{CLUSTER}{PROVIDER}/diagnostics{suffix}")
        for status, _, body in (reset, diagnostics):
            assert status == 400
            assert _assert_arm_error(body, "InvalidApiVersionParameter")["target"] == "api-version"

    assert _writes(e2e) == []
    assert _instances(e2e) == []


BAD_CLUSTERS = {
    "a%20b": "clusterName",
    "-leading-dash": "clusterName",
    "dotted.name": "clusterName",
    "x" * 64: "clusterName",
}
BAD_GROUPS = {name: "resourceGroupName" for name in ("rg-demo.", "rg%20demo", "rg%3Bx")}


def _cluster_routes(subscription: str, group: str, cluster: str) -> list[tuple[str, str]]:
    base = (
        f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ContainerService"
        f"/managedClusters/{cluster}{PROVIDER}"
    )
    return [
        ("PUT", f"{base}/linkers/conn?api-version={API}"),
        ("PATCH", f"{base}/linkers/conn?api-version={API}"),
        ("GET", f"{base}/linkers/conn?api-version={API}"),
        ("DELETE", f"{base}/linkers/conn?api-version={API}"),
        ("GET", f"{base}/linkers?api-version={API}"),
        ("POST", f"{base}/linkers/conn/validateLinker?api-version={API}"),
        ("POST", f"{base}/linkers/conn/listConfigurations?api-version={API}"),
        ("GET", f"{base}/diagnostics?api-version={API}"),
        ("POST", f"{base}/resetExtension?api-version={API}"),
    ]


def test_names_outside_arm_and_aks_rules_are_refused_on_every_route_before_anything_runs(e2e: E2E) -> None:
    e2e.arm.admin.clear_journal()
    e2e.arm.kube.link.clear_journal()
    cases = [(SUB, "rg-demo", name, target) for name, target in BAD_CLUSTERS.items()]
    cases += [(SUB, group, "aks-demo-1", target) for group, target in BAD_GROUPS.items()]
    cases += [("not-a-guid", "rg-demo", "aks-demo-1", "subscriptionId")]

    for subscription, group, cluster, target in cases:
        for method, path in _cluster_routes(subscription, group, cluster):
            body = json.dumps(_blob_body()).encode() if method in ("PUT", "PATCH") else None
            status, _, answer = _raw(e2e, method, path, body, {"Content-Type": "application/json"})
            assert status == 400, (method, path, status, answer)
            error = _assert_arm_error(answer, "InvalidSourceResourceId")
            assert error["target"] == target, (method, path, error)

    assert _writes(e2e) == []
    assert _instances(e2e) == []


def test_linker_actions_refuse_a_bad_linker_name(e2e: E2E) -> None:
    for action in ("validateLinker", "listConfigurations"):
        status, _, body = e2e.http("POST", f"{LINKERS}/bad-name/{action}?api-version={API}")
        assert status == 400
        assert _assert_arm_error(body, "InvalidLinkerName")["target"] == "name"
    assert _instances(e2e) == []


def test_operation_status_validates_its_ids_and_api_version(e2e: E2E) -> None:
    base = f"/subscriptions/{SUB}/providers/Microsoft.ServiceLinker/locations"
    good = "00000000-0000-0000-0000-00000000abcd"
    for path in (
        f"{base}/local/operationStatuses/not-an-id?api-version={API}",
        f"{base}/elsewhere/operationStatuses/{good}?api-version={API}",
        f"/subscriptions/nope/providers/Microsoft.ServiceLinker/locations/local/operationStatuses/{good}"
        f"?api-version={API}",
    ):
        status, _, body = e2e.http("GET", path)
        assert status == 404, (path, body)
        _assert_arm_error(body, "ResourceNotFound")
    status, _, body = e2e.http("GET", f"{base}/local/operationStatuses/{good}?api-version=1999-01-01")
    assert status == 400
    _assert_arm_error(body, "InvalidApiVersionParameter")


def test_list_refuses_a_skip_token_that_is_not_an_offset(e2e: E2E) -> None:
    for token in ("9" * 5000, "-1", "abc"):
        status, _, body = e2e.http("GET", f"{LINKERS}?api-version={API}&$skipToken={token}")
        assert status == 400, (token, body)
        assert _assert_arm_error(body, "InvalidFieldValue")["target"] == "$skipToken"


def test_reconcile_refuses_an_unsupported_api_version(e2e: E2E) -> None:
    status, _, body = e2e.http("POST", "/api/reconcile?api-version=1999-01-01")
    assert status == 400
    _assert_arm_error(body, "InvalidApiVersionParameter")
    assert _instances(e2e) == []


# --- 3. Bounded parsing and Content-Type --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "limit"),
    [
        (_nested(1000), "nesting depth"),
        (_nested(33), "nesting depth"),
        (b'{"properties": {"x": [' + b",".join([b"0"] * 20_000) + b"]}}", "element count"),
        (b'{"properties": {"x": "' + b"a" * (2 * 1024 * 1024) + b'"}}', "size"),
        (b'{"properties": {"x": "' + b"a" * (10 * 1024 * 1024) + b'"}}', "size"),
    ],
)
def test_an_oversized_or_overdeep_body_is_a_400_naming_the_limit(e2e: E2E, body: bytes, limit: str) -> None:
    e2e.arm.admin.clear_journal()

    status, _, answer = _raw(
        e2e, "PUT", f"{LINKERS}/deep?api-version={API}", body, {"Content-Type": "application/json"}
    )

    assert status == 400
    error = _assert_arm_error(answer, "InvalidRequestContent")
    assert limit in error["message"]
    assert e2e.http("GET", f"{LINKERS}/deep?api-version={API}")[0] == 404
    assert _writes(e2e) == []
    assert _instances(e2e) == []


def test_a_body_that_is_not_json_by_content_type_is_a_415(e2e: E2E) -> None:
    body = json.dumps(_blob_body()).encode()
    refused = ("text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1")
    for content_type in refused:
        status, _, answer = _raw(
            e2e, "PUT", f"{LINKERS}/typed?api-version={API}", body, {"Content-Type": content_type}
        )
        assert status == 415, (content_type, answer)
        assert _assert_arm_error(answer, "UnsupportedMediaType")["target"] == "Content-Type"
    assert _instances(e2e) == []

    status, _, _ = _raw(
        e2e,
        "PUT",
        f"{LINKERS}/typed?api-version={API}",
        body,
        {"Content-Type": "application/json; charset=utf-8"},
    )
    assert status == 201


# --- 6. Operation URLs come from the configured base URL, never from Host ----------------------------------


def test_the_host_header_is_never_reflected_into_urls(e2e: E2E) -> None:
    evil = {"Host": "evil.example.com", "Content-Type": "application/json"}
    for name in ("hosta", "hostb", "hostc"):
        status, headers, _ = _raw(
            e2e, "PUT", f"{LINKERS}/{name}?api-version={API}", json.dumps(_blob_body()).encode(), evil
        )
        assert status == 201
        assert headers["Azure-AsyncOperation"].startswith(e2e.url + "/subscriptions/"), headers
        assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"

    listed = _raw(e2e, "GET", f"{LINKERS}?api-version={API}", headers=evil)[2]  # page size 2: a nextLink
    assert listed["nextLink"].startswith(f"{e2e.url}{LINKERS}?"), listed["nextLink"]
    deleted = _raw(e2e, "DELETE", f"{LINKERS}/hosta?api-version={API}", headers=evil)
    assert deleted[0] == 202
    assert deleted[1]["Location"].startswith(e2e.url + "/"), deleted[1]
    reset = _raw(e2e, "POST", f"{CLUSTER}{PROVIDER}/resetExtension?api-version={API}", headers=evil)
    reconcile = _raw(e2e, "POST", "/api/reconcile", headers=evil)
    for status, headers, _ in (reset, reconcile):
        assert status == 202
        assert headers["Azure-AsyncOperation"].startswith(e2e.url + "/"), headers
    document = _raw(e2e, "GET", "/api/openapi.json", headers=evil)[2]
    assert document["servers"] == [{"url": e2e.url}]
    assert "evil.example.com" not in json.dumps([listed, deleted[1], reset[1], reconcile[1], document])


# --- 7. customizedKeys may not shadow the environment a process relies on -----------------------------------

KEY = "AZURE_STORAGEBLOB_CONNECTIONSTRING"


@pytest.mark.parametrize(
    "new_name",
    [
        "PATH",
        "path",
        "HOME",
        "LD_PRELOAD",
        "PYTHONPATH",
        "JAVA_TOOL_OPTIONS",
        "NODE_OPTIONS",
        "LC_ALL",
        "DOTNET_STARTUP_HOOKS",
        "KUBERNETES_SERVICE_HOST",
        "AZURE_FEDERATED_TOKEN_FILE",
        "HTTPS_PROXY",
    ],
)
def test_a_customized_key_that_would_shadow_the_environment_is_refused(e2e: E2E, new_name: str) -> None:
    e2e.arm.admin.clear_journal()

    path = f"{LINKERS}/envconn?api-version={API_2024}"
    status, _, body = e2e.http("PUT", path, _blob_body({KEY: new_name}))

    assert status == 400
    error = _assert_arm_error(body, "InvalidCustomizedKey")
    assert error["target"] == f"properties.configurationInfo.customizedKeys.{KEY}"
    assert new_name in error["message"]
    assert e2e.http("GET", f"{LINKERS}/envconn?api-version={API_2024}")[0] == 404
    assert _writes(e2e) == []


def test_an_ordinary_customized_key_is_written(e2e: E2E) -> None:
    put = e2e.http("PUT", f"{LINKERS}/renamed?api-version={API_2024}", _blob_body({KEY: "BLOB_CONNECTION"}))
    assert put[0] == 201
    assert e2e.wait_operation(put[1]["Azure-AsyncOperation"])["status"] == "Succeeded"
    secret = e2e.kube_secret(CLUSTER, "default", "sc-renamed-secret")
    assert secret is not None and set(secret) == {"BLOB_CONNECTION"}


# --- Service Bus: the same limits, one rejection event, no retry loop --------------------------------------


def _send(e2e: E2E, raw: bytes, message_id: str) -> None:
    with (
        ServiceBusClient.from_connection_string(e2e.servicebus.connection_string) as client,
        client.get_queue_sender(e2e.requests_queue) as sender,
    ):
        sender.send_messages(ServiceBusMessage(raw, message_id=message_id, content_type="application/json"))


def _events(e2e: E2E, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    with (
        ServiceBusClient.from_connection_string(e2e.servicebus.connection_string) as client,
        client.get_queue_receiver(e2e.events_queue, max_wait_time=1) as receiver,
    ):
        while time.monotonic() < deadline and len(found) <= count:
            messages = receiver.receive_messages(max_message_count=10, max_wait_time=1)
            if not messages and len(found) == count:
                break  # and nothing more arrived: no second event for the same message
            for message in messages:
                found.append(json.loads(b"".join(bytes(part) for part in message.body)))
                receiver.complete_message(message)
    return found


@pytest.mark.servicebus
def test_hostile_queue_messages_are_rejected_once_and_never_retried(e2e: E2E) -> None:
    e2e.arm.admin.clear_journal()
    e2e.arm.kube.link.clear_journal()
    deep = f'{{"id": "{LINKERS}/deepsb", "properties": {"[" * 1000}{"]" * 1000}}}'.encode()
    wide = json.dumps({"id": f"{LINKERS}/widesb", "properties": {"x": [0] * 20_000}}).encode()
    shadow = json.dumps({"id": f"{LINKERS}/pathsb", **_blob_body({KEY: "PATH"})}).encode()
    spaced = json.dumps({"id": LINKERS.replace("aks-demo-1", "a b") + "/spaced", **_blob_body()}).encode()
    _send(e2e, deep, "hostile-deep")
    _send(e2e, wide, "hostile-wide")
    _send(e2e, shadow, "hostile-path")
    _send(e2e, spaced, "hostile-name")

    events = _events(e2e, 4)

    assert sorted(e["messageId"] for e in events) == sorted(
        ["hostile-deep", "hostile-wide", "hostile-path", "hostile-name"]
    )  # one event each, no repeats
    by_id = {e["messageId"]: e for e in events}
    assert {e["type"] for e in events} == {"ConnectionRequestRejected"}
    assert by_id["hostile-deep"]["code"] == "InvalidRequestContent"
    assert "nesting depth" in by_id["hostile-deep"]["message"]
    assert by_id["hostile-wide"]["code"] == "InvalidRequestContent"
    assert by_id["hostile-path"]["code"] == "InvalidCustomizedKey"
    assert by_id["hostile-path"]["target"] == f"properties.configurationInfo.customizedKeys.{KEY}"
    assert by_id["hostile-name"]["code"] == "InvalidSourceResourceId"
    assert e2e.servicebus.message_count(e2e.requests_queue) == 0
    assert e2e.servicebus.dead_letter_count(e2e.requests_queue) == 0
    assert _writes(e2e) == []
    assert [i for i in _instances(e2e) if i.get("name") == "connect"] == []
