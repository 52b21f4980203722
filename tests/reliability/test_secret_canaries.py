"""Secret canaries (issue 9, proof 2): secret values reach the cluster's Secrets (or, for a connection with a
secret store, its Key Vault) and no other sink.

Canaries: a raw password for every target kind whose secret comes from the request, a service principal secret
for every kind that takes one (over HTTP and over Service Bus, including a rejected message), and every key
the ARM emulator issued (storage keys, SAS keys, Cosmos, Redis, App Configuration, Cognitive Services ...)
while connections of every kind with secret auth were made. After the operations end, and after updates,
validations, configuration listings and deletes, every sink is scanned for each canary (and its base64 form):

- every HTTP response (status line, headers, body), operation status polls included;
- every log record of the process (root logger at DEBUG: the product, devhost, the SDKs);
- devhost's task hub, read whole (instances with input, output and custom status, history, inboxes,
  activity queue, episodes);
- the registry rows (Azurite, read with azure-data-tables);
- the Service Bus events queue, drained;
- the ARM and Kubernetes emulators' call journals;
- the exported telemetry: every span, metric point and log record OpenTelemetry's in-memory exporters got.

The canaries must be on the cluster, in
Secrets, or the scan proves nothing: that is checked first.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.data.tables import TableServiceClient
from azure.keyvault.secrets import ApiVersion, SecretClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.servicebus import ServiceBusClient, ServiceBusMessage
from kubernetes import client as k8s

from emulators.arm import kube_key
from tests.activities.conftest import issued_keys, log_texts
from tests.fixtures.telemetry import TelemetryCapture, telemetry_capture  # noqa: F401
from tests.reliability._targets import (
    auth_types,
    cluster_id,
    secret_from_request,
    target_id,
    target_kinds,
    target_service,
)
from tests.reliability.figures import record
from tests.reliability.stack import Stack

STACK_SERVICE_BUS = True  # requests also arrive as queue messages
API = "2022-05-01"
SUB = "00000000-0000-0000-0000-000000000001"
CLUSTER = cluster_id()
LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"


class Sinks:
    """Everything the product emitted, as text, by sink."""

    def __init__(self) -> None:
        self.texts: dict[str, list[str]] = {
            "http responses": [],
            "logs": [],
            "task hub": [],
            "registry": [],
            "service bus events": [],
            "emulator journals": [],
            "telemetry": [],
        }

    def add(self, sink: str, *texts: str) -> None:
        """Keep texts a sink holds."""
        self.texts[sink].extend(texts)

    def hits(self, canaries: set[str]) -> dict[str, set[str]]:
        """The canaries (or their base64 form) found in each sink."""
        found: dict[str, set[str]] = {}
        for sink, texts in self.texts.items():
            joined = "\n".join(texts)
            hit = {c for c in canaries if c in joined or base64.b64encode(c.encode()).decode() in joined}
            if hit:
                found[sink] = hit
        return found


class LogCapture(logging.Handler):
    """Every record of every logger, formatted the way a handler could write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def logs() -> Iterator[LogCapture]:
    """The root logger at DEBUG for this module, captured."""
    capture = LogCapture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


class Client:
    """HTTP calls whose every answer goes into the responses sink."""

    def __init__(self, stack: Stack, sinks: Sinks) -> None:
        self.stack = stack
        self.sinks = sinks

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        status, headers, answer = self.stack.http(method, path, body)
        self.sinks.add("http responses", f"{status} {json.dumps(headers)} {json.dumps(answer)}")
        return status, headers, answer


def _canary(what: str) -> str:
    return f"Canary-{what}-{uuid.uuid4().hex}"


def _body(kind: str, auth: dict[str, Any]) -> dict[str, Any]:
    target = target_service(kind)
    return {
        "properties": {"targetService": target, "authInfo": auth, "clientType": "python", "scope": "default"}
    }


def _requests() -> tuple[list[tuple[str, dict[str, Any]]], set[str]]:
    """(linker name, body) for every kind with every secret-bearing auth type, and the canaries they carry."""
    requests: list[tuple[str, dict[str, Any]]] = []
    canaries: set[str] = set()
    for kind in target_kinds():
        stem = kind.replace("-", "")
        if "secret" in auth_types(kind):
            auth: dict[str, Any] = {"authType": "secret"}
            if secret_from_request(kind):  # a database password, a Confluent API secret
                password = _canary(f"password-{stem}")
                canaries.add(password)
                auth = {
                    "authType": "secret",
                    "name": "app",
                    "secretInfo": {"secretType": "rawValue", "value": password},
                }
            requests.append((f"{stem}secret", _body(kind, auth)))
        if "servicePrincipalSecret" in auth_types(kind):
            secret = _canary(f"sp-{stem}")
            canaries.add(secret)
            requests.append(
                (
                    f"{stem}sp",
                    _body(
                        kind,
                        {
                            "authType": "servicePrincipalSecret",
                            "clientId": str(uuid.uuid4()),
                            "principalId": str(uuid.uuid4()),
                            "secret": secret,
                        },
                    ),
                )
            )
    return requests, canaries


def _vault_requests() -> tuple[list[tuple[str, dict[str, Any]]], set[str]]:
    """A Key Vault CSI linker, then two linkers whose secrets go to that vault (secretStore): a database
    password from the request, and storage keys the connector lists. Their canary belongs in the vault."""
    vault = target_id("keyvault")
    csi = _body("keyvault", {"authType": "userAssignedIdentity"})
    csi["properties"]["targetService"]["resourceProperties"] = {
        "type": "KeyVault",
        "connectAsKubernetesCsiDriver": True,
    }
    password = _canary("vault-password")
    database = _body(
        "postgres-flexible",
        {"authType": "secret", "name": "app", "secretInfo": {"secretType": "rawValue", "value": password}},
    )
    blob = _body("storage-blob", {"authType": "secret"})
    for stored in (database, blob):
        stored["properties"]["secretStore"] = {"keyVaultId": vault}
    return [("kvcsistore", csi), ("pgvault", database), ("blobvault", blob)], {password}


def _vault_values(stack: Stack) -> list[str]:
    vault = stack.arm.mgmt_client(KeyVaultManagementClient).vaults.get("rg-demo", "kv-demo-0001")
    client = SecretClient(
        str(vault.properties.vault_uri),
        stack.arm.credential,
        connection_verify=stack.arm.ca_file,
        verify_challenge_resource=False,
        api_version=ApiVersion.V7_6,
    )
    return [str(client.get_secret(str(p.name)).value) for p in client.list_properties_of_secrets()]


def _servicebus_messages() -> tuple[list[tuple[str, bytes]], set[str]]:
    """Queue messages carrying canaries: two valid requests and one the trigger must reject."""
    password, secret, rejected = _canary("sb-password"), _canary("sb-sp"), _canary("sb-rejected")
    valid = [
        (
            "sbpassword",
            _body(
                "postgres-flexible",
                {
                    "authType": "secret",
                    "name": "app",
                    "secretInfo": {"secretType": "rawValue", "value": password},
                },
            ),
        ),
        (
            "sbsp",
            _body(
                "storage-blob",
                {
                    "authType": "servicePrincipalSecret",
                    "clientId": str(uuid.uuid4()),
                    "principalId": str(uuid.uuid4()),
                    "secret": secret,
                },
            ),
        ),
    ]
    messages = [(name, json.dumps({"id": f"{LINKERS}/{name}", **body}).encode()) for name, body in valid]
    # Refused (the client id is no GUID) once the body is read: the rejection event must not echo the secret.
    messages.append(
        (
            "sbrejected",
            json.dumps(
                {
                    "id": f"{LINKERS}/sbrejected",
                    **_body(
                        "storage-blob",
                        {
                            "authType": "servicePrincipalSecret",
                            "clientId": "not-a-guid",
                            "principalId": str(uuid.uuid4()),
                            "secret": rejected,
                        },
                    ),
                }
            ).encode(),
        )
    )
    return messages, {password, secret, rejected}


def _send_messages(stack: Stack, messages: list[tuple[str, bytes]]) -> None:
    with (
        ServiceBusClient.from_connection_string(stack.servicebus.connection_string) as client,
        client.get_queue_sender(stack.requests_queue) as sender,
    ):
        for name, raw in messages:
            sender.send_messages(
                ServiceBusMessage(raw, message_id=f"canary-{name}", content_type="application/json")
            )


def _drain_events(stack: Stack, quiet_seconds: float = 2.0) -> list[str]:
    events: list[str] = []
    with (
        ServiceBusClient.from_connection_string(stack.servicebus.connection_string) as client,
        client.get_queue_receiver(stack.events_queue, max_wait_time=quiet_seconds) as receiver,
    ):
        while batch := receiver.receive_messages(max_message_count=50, max_wait_time=quiet_seconds):
            for message in batch:
                events.append(b"".join(bytes(part) for part in message.body).decode("utf-8", "replace"))
                receiver.complete_message(message)
    return events


def _wait_for(stack: Stack, client: Client, names: list[str], timeout: float = 120) -> None:
    """Until every named linker has left Accepted (the queue's requests are started asynchronously)."""
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for name in sorted(pending):
            status, _, body = client.call("GET", f"{LINKERS}/{name}?api-version={API}")
            if status == 200 and body["properties"].get("provisioningState") not in (None, "Accepted"):
                pending.discard(name)
        assert time.monotonic() < deadline, f"still not done: {sorted(pending)}"
        time.sleep(0.2)
    stack.settle()


def _task_hub_texts(stack: Stack) -> list[str]:
    """Every value of every row of every table of devhost's task hub."""
    texts = []
    with contextlib.closing(sqlite3.connect(stack.store_path, timeout=10)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # table names come from sqlite_master
                texts.append(" ".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row))
    return texts


def _registry_texts(stack: Stack) -> list[str]:
    settings = stack.settings or {}
    service = TableServiceClient.from_connection_string(settings["AzureWebJobsStorage"])
    table = service.get_table_client(settings["REGISTRY_TABLE"])
    return [json.dumps(dict(entity), default=str) for entity in table.list_entities()]


def _cluster_secret_values(stack: Stack) -> list[str]:
    core = k8s.CoreV1Api(stack.arm.kube.client_for(kube_key(CLUSTER)))
    values = []
    for secret in core.list_namespaced_secret("default").items:
        values += [base64.b64decode(v).decode() for v in (secret.data or {}).values()]
    return values


def test_no_canary_reaches_any_sink_but_the_cluster(
    stack: Stack,
    logs: LogCapture,
    telemetry_capture: TelemetryCapture,  # noqa: F811
) -> None:
    sinks = Sinks()
    client = Client(stack, sinks)
    stack.arm.instant()
    keys_at_start = issued_keys(stack.arm)
    requests, canaries = _requests()
    vault_requests, in_vault_only = _vault_requests()
    requests += vault_requests
    canaries |= in_vault_only
    for name, body in requests:
        status, _, answer = client.call("PUT", f"{LINKERS}/{name}?api-version={API}", body)
        assert status == 201, (name, answer)
    messages, queued = _servicebus_messages()
    canaries |= queued
    _send_messages(stack, messages)
    linkers = [name for name, _ in requests] + ["sbpassword", "sbsp"]
    _wait_for(stack, client, linkers)

    # What a user does next: read, list, list configurations, validate, update a secret, delete.
    for name in linkers:
        client.call("GET", f"{LINKERS}/{name}?api-version={API}")
        client.call("POST", f"{LINKERS}/{name}/listConfigurations?api-version={API}")
    status, _, page = client.call("GET", f"{LINKERS}?api-version={API}")
    while status == 200 and page.get("nextLink"):
        status, _, page = client.call("GET", page["nextLink"])
    client.call("GET", f"{CLUSTER}/providers/Microsoft.ServiceLinker/diagnostics?api-version={API}")
    operations = []
    for name in linkers[:4]:
        _, headers, _ = client.call("POST", f"{LINKERS}/{name}/validateLinker?api-version={API}")
        operations.append(headers.get("Azure-AsyncOperation", ""))
    rotated = _canary("sp-rotated")
    canaries.add(rotated)
    sp_name, sp_body = next((n, b) for n, b in requests if n.endswith("sp"))
    superseded = {sp_body["properties"]["authInfo"]["secret"], next(c for c in queued if "sb-rejected" in c)}
    sp_body["properties"]["authInfo"]["secret"] = rotated
    _, headers, _ = client.call("PUT", f"{LINKERS}/{sp_name}?api-version={API}", sp_body)
    operations.append(headers.get("Azure-AsyncOperation", ""))
    _, headers, _ = client.call("DELETE", f"{LINKERS}/{linkers[0]}?api-version={API}")
    operations.append(headers.get("Azure-AsyncOperation", ""))
    _, headers, _ = client.call("POST", "/api/reconcile")
    operations.append(headers.get("Azure-AsyncOperation", ""))
    stack.settle()
    for url in filter(None, operations):
        client.call("GET", url)

    keys = keys_at_start | issued_keys(stack.arm)
    canaries |= keys
    # The canaries are where they belong, or finding none of them elsewhere would mean nothing.
    in_cluster = "\n".join(_cluster_secret_values(stack))
    in_vault = "\n".join(_vault_values(stack))
    assert all(c in in_vault and c not in in_cluster for c in in_vault_only), "the vault holds its canary"
    assert any(k in in_vault for k in keys), "the storage key went to the vault"
    missing = {c for c in canaries - keys - in_vault_only if c not in in_cluster}
    # Only the rejected message's secret and the one the update replaced are on no cluster.
    assert missing == superseded, f"canaries not in any Secret: {missing - superseded}"
    assert sum(1 for k in keys if k in in_cluster) >= 8, "the issued keys were not written to Secrets"

    sinks.add("logs", *log_texts(logs.records))
    sinks.add("task hub", *_task_hub_texts(stack))
    sinks.add("registry", *_registry_texts(stack))
    sinks.add("service bus events", *_drain_events(stack))
    sinks.add("emulator journals", json.dumps(stack.journal()))
    sinks.add("telemetry", *telemetry_capture.texts())
    assert telemetry_capture.spans("activity ") and telemetry_capture.logs(), "telemetry was exported"
    assert len(sinks.texts["logs"]) > 100 and any("listKeys" in t for t in sinks.texts["logs"]), "DEBUG logs"
    assert any("ConnectionRequestRejected" in e for e in sinks.texts["service bus events"]), "events drained"
    assert len(sinks.texts["registry"]) >= len(linkers) - 1 and sinks.texts["task hub"], "rows were read"
    hits = sinks.hits(canaries)
    found = sum(len(h) for h in hits.values())
    record(
        "secret canaries",
        f"{len(canaries)} canaries ({len(keys)} keys the ARM emulator issued), "
        f"{len(sinks.texts)} sinks scanned, {found} found",
    )
    assert hits == {}, {sink: sorted(h)[:5] for sink, h in hits.items()}


def test_the_scan_finds_a_canary_in_plain_or_base64_form() -> None:
    sinks = Sinks()
    canary = _canary("probe")
    sinks.add("logs", f"password={canary}")
    sinks.add("registry", json.dumps({"data": base64.b64encode(canary.encode()).decode()}))
    assert sinks.hits({canary, "absent"}) == {"logs": {canary}, "registry": {canary}}
