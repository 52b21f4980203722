"""Hostile input (issue 9, proof 1): the HTTP API tried as a hostile caller would, on the real app.

Two sources of requests, judged by one `Referee`:
- schemathesis, from the app's own /api/openapi.json (with the linker's links added so the stateful phase can
  chain PUT -> GET/PATCH/DELETE/validate/listConfigurations), stateless (positive and negative data) and
  stateful; half the cases aim at the allowed demo cluster so they get past the scope check;
- a hand-written corpus: deep nesting, 10 MB bodies, CRLF and request smuggling on a raw socket, lone
  surrogates, traversal in every route parameter, other subscriptions in every id field, a foreign Host
  header, duplicate api-version, wrong Content-Type.

Asserted for every response: no status >= 500; every 4xx body in ARM's error shape; no absolute URL naming a
host other than the configured one; no ARM or Kubernetes write (emulator journals) while handling a request
that was refused, and no call at all into the foreign subscription. Corpus requests the issue's contract
refuses (traversal, foreign ids, bad api-version, wrong Content-Type, ...) must be refused.

Answers the HTTP server gives before any function runs (an empty 401 for a missing key, an empty 404 for a
path no route matches, aiohttp's plain-text 400 or 404 for a malformed message) are counted apart: on Azure
the Functions front end gives them, not this app.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.generation.stateful import run_state_machine_as_test

from emulators.arm import kube_key
from tests.reliability._targets import (
    CLUSTER_NAME,
    FOREIGN_SUBSCRIPTION,
    RESOURCE_GROUP,
    arm_target_kinds,
    auth_types,
    cluster_id,
    foreign_seed,
    identity_id,
    target_id,
)
from tests.reliability.figures import record, scaled
from tests.reliability.stack import Stack, is_write

SUB = "00000000-0000-0000-0000-000000000001"
API = "2022-05-01"
API_2024 = "2024-04-01"
CLUSTER = cluster_id()
LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
BLOB = target_id("storage-blob")
KEYVAULT = target_id("keyvault")
FOREIGN_KUBE_KEY = kube_key(cluster_id(FOREIGN_SUBSCRIPTION))

# schemathesis: stateless cases over every operation and both generation modes; stateful scenarios (8 steps).
STATELESS_TOTAL = scaled(1_700, 17_000)
STATEFUL_SCENARIOS = scaled(50, 500)
SCHEMATHESIS_MINIMUM = scaled(2_000, 20_000)


@dataclass
class Exchange:
    """One request as sent and the answer to it."""

    label: str
    method: str
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    def describe(self) -> str:
        """The request and the start of the answer, for a failure message."""
        return f"[{self.label}] {self.method} {self.url[:300]} -> {self.status} {self.body[:300]!r}"


@dataclass
class Referee:
    """Judges every exchange and keeps what broke the contract, by kind."""

    stack: Stack
    counts: dict[str, int] = field(
        default_factory=lambda: {"schemathesis": 0, "stateful": 0, "corpus": 0, "server": 0}
    )
    server_errors: list[str] = field(default_factory=list)
    bad_error_shapes: list[str] = field(default_factory=list)
    foreign_urls: list[str] = field(default_factory=list)
    writes_after_refusal: list[str] = field(default_factory=list)
    calls_outside_scope: list[str] = field(default_factory=list)
    not_refused: list[str] = field(default_factory=list)

    @property
    def netloc(self) -> str:
        """host:port of the configured address."""
        return urlsplit(self.stack.url).netloc

    def judge(self, exchange: Exchange, source: str, *, expect: str | int | None = None) -> None:
        """Check one answer and the emulators' journals (which must hold nothing for a refused request)."""
        self.counts[source] += 1
        if exchange.status >= 500:
            self.server_errors.append(exchange.describe())
        # A DELETE of what is not there answers 204 (as ARM does) and must write nothing either.
        refused = exchange.status >= 400 or (exchange.method == "DELETE" and exchange.status == 204)
        if exchange.status >= 400 and _answered_by_server(exchange):
            self.counts["server"] += 1
        elif exchange.status >= 400 and not _arm_error_shaped(exchange.body):
            self.bad_error_shapes.append(exchange.describe())
        for url in _absolute_urls(exchange):
            if urlsplit(url).netloc.lower() != self.netloc:
                self.foreign_urls.append(f"{url} in {exchange.describe()}")
        if (expect == "refused" and not refused) or (isinstance(expect, int) and exchange.status != expect):
            self.not_refused.append(f"expected {expect}: {exchange.describe()}")
        self._check_writes(exchange, refused)

    def _check_writes(self, exchange: Exchange, refused: bool) -> None:
        # Anything a (wrongly) started orchestration does is attributed to the request that started it.
        if self.stack.running_instances():
            try:
                self.stack.settle(timeout=30)
            except AssertionError as stuck:  # keep judging the rest; this request already broke the contract
                self.writes_after_refusal.append(f"{stuck} after {exchange.describe()}")
        journal = self.stack.journal()
        foreign = [
            e
            for e in journal
            if FOREIGN_SUBSCRIPTION in e["path"].lower()
            or (e.get("extra") or {}).get("cluster") == FOREIGN_KUBE_KEY
        ]
        if foreign:
            listed = ", ".join(f"{e['method']} {e['path']}" for e in foreign[:5])
            self.calls_outside_scope.append(f"{len(foreign)} calls ({listed}) after {exchange.describe()}")
        writes = [e for e in journal if is_write(e)]
        if refused and writes:
            listed = ", ".join(f"{w['method']} {w['path']}" for w in writes[:5])
            self.writes_after_refusal.append(f"{len(writes)} writes ({listed}) after {exchange.describe()}")
        self.stack.clear_journals()

    def verdict(self) -> list[str]:
        """Every broken rule, with up to 10 examples each."""
        problems = []
        for name, found in (
            ("responses >= 500", self.server_errors),
            ("4xx bodies not in ARM's error shape", self.bad_error_shapes),
            ("URLs naming another host", self.foreign_urls),
            ("ARM/Kubernetes writes caused by a refused request", self.writes_after_refusal),
            ("ARM/Kubernetes calls into a subscription outside ALLOWED_SCOPES", self.calls_outside_scope),
            ("requests the contract refuses that were not refused as expected", self.not_refused),
        ):
            if found:
                problems.append(f"{len(found)} {name}:\n  " + "\n  ".join(found[:10]))
        return problems


def _answered_by_server(exchange: Exchange) -> bool:
    """True for an answer no function gave: the key check, no matching route, or an unparseable message.

    The function app answers with JSON (or nothing, for 204); devhost's key check and route miss answer an
    empty 401 or 404, aiohttp's parser and router a text/plain 400 or 404.
    """
    if exchange.status in (401, 404) and not exchange.body:
        return True
    return exchange.headers.get("content-type", "").lower().startswith("text/plain")


def _arm_error_shaped(body: bytes) -> bool:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return False
    return isinstance(error.get("code"), str) and isinstance(error.get("message"), str)


def _absolute_urls(exchange: Exchange) -> list[str]:
    urls = [exchange.headers[h] for h in ("azure-asyncoperation", "location") if h in exchange.headers]
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        urls += [
            s for s in _strings(json.loads(exchange.body or b"null")) if s.startswith(("http://", "https://"))
        ]
    return [u for u in urls if u.startswith(("http://", "https://", "//"))]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --- sending ---------------------------------------------------------------------------------------------


def send(
    stack: Stack,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    label: str,
    headers: dict[str, str] | None = None,
    content_type: str | None = "application/json",
    key: bool = True,
) -> Exchange:
    """One request through http.client, which sends the path and headers as given (Host included)."""
    parts = urlsplit(stack.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        extra = dict(headers or {})
        connection.putrequest(method, path, skip_host="Host" in extra, skip_accept_encoding=True)
        if content_type is not None and body is not None:
            connection.putheader("Content-Type", content_type)
        if key:
            connection.putheader("x-functions-key", stack.key)
        for name, value in extra.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        answer = response.read()
        return Exchange(
            label, method, path, response.status, {k.lower(): v for k, v in response.getheaders()}, answer
        )
    finally:
        connection.close()


def send_raw(stack: Stack, message: bytes, *, label: str) -> Exchange:
    """Bytes on a socket, for what no HTTP client will send (CRLF in the request line, CL + TE)."""
    parts = urlsplit(stack.url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30) as sock:
        response = http.client.HTTPResponse(sock, method="PUT")
        try:
            sock.sendall(message)
            response.begin()
            answer = response.read()
        except (http.client.HTTPException, ConnectionError, TimeoutError) as error:
            # A server that closes the connection on a malformed message refused it; that is fine.
            return Exchange(
                label,
                "RAW",
                message[:120].decode("latin-1"),
                400,
                {"content-type": "text/plain"},
                f"connection closed: {error!r}".encode(),
            )
        request_line = message.split(b"\r\n", 1)[0].decode("latin-1")
        return Exchange(
            label,
            "RAW",
            request_line,
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            answer,
        )


def encode(document: Any) -> bytes:
    """JSON as the API expects it."""
    return json.dumps(document).encode()


def linker_body(target: str = BLOB, auth: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    """A linker body that is valid unless told otherwise."""
    return {
        "properties": {
            "targetService": {"type": "AzureResource", "id": target},
            "authInfo": auth or {"authType": "secret"},
            "clientType": "python",
            "scope": "default",
            **props,
        }
    }


# --- the stack, seeded with a foreign subscription and a few linkers ---------------------------------------


@pytest.fixture(scope="module")
def referee(stack: Stack) -> Referee:
    """A referee for this module's stack, which also holds FOREIGN_SUBSCRIPTION (outside ALLOWED_SCOPES)."""
    stack.arm.seed(foreign_seed())
    stack.arm.instant()
    return Referee(stack)


@pytest.fixture(scope="module")
def existing_linkers(referee: Referee) -> list[str]:
    """Three connections that exist (so GET, PATCH, DELETE and list pages have something to act on)."""
    stack = referee.stack
    names = ["existing1", "existing2", "existing3"]
    for name in names:
        status, _, body = stack.http("PUT", f"{LINKERS}/{name}?api-version={API}", linker_body())
        assert status == 201, body
    stack.settle()
    stack.clear_journals()
    return names


# --- schemathesis ----------------------------------------------------------------------------------------

_LINKER_PATH = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
    "Microsoft.ContainerService/managedClusters/{clusterName}/providers/Microsoft.ServiceLinker/linkers/{linkerName}"
)
_IN_SCOPE = {"subscriptionId": SUB, "resourceGroupName": RESOURCE_GROUP, "clusterName": CLUSTER_NAME}


def _with_links(document: dict[str, Any]) -> dict[str, Any]:
    """The served document plus OpenAPI links between one linker's operations (the stateful phase's map)."""
    same_linker = {name: f"$request.path.{name}" for name in (*_IN_SCOPE, "linkerName")}
    same_linker["api-version"] = "$request.query.api-version"
    path = document["paths"][_LINKER_PATH]
    targets = {
        "Get": "Linker_Get",
        "Update": "Linker_Update",
        "Delete": "Linker_Delete",
        "Validate": "Linker_Validate",
        "ListConfigurations": "Linker_ListConfigurations",
        "Recreate": "Linker_CreateOrUpdate",
    }
    links = {name: {"operationId": op, "parameters": same_linker} for name, op in targets.items()}
    for method, status in (("put", "201"), ("patch", "201"), ("get", "200")):
        path[method]["responses"][status]["links"] = links
    path["delete"]["responses"]["202"]["links"] = {"Get": links["Get"], "Recreate": links["Recreate"]}
    return document


def _schema(referee: Referee) -> Any:
    status, _, document = referee.stack.http("GET", "/api/openapi.json")
    assert status == 200
    schema = schemathesis.openapi.from_dict(_with_links(document))

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        # Half the cases name the allowed demo cluster, so they reach the validation behind the scope check.
        if not isinstance(path_parameters, dict):
            return st.just(path_parameters)
        in_scope = {k: v for k, v in _IN_SCOPE.items() if k in path_parameters}
        return st.sampled_from([path_parameters, {**path_parameters, **in_scope}])

    return schema


def _call(referee: Referee, case: Any, label: str) -> Any:
    stack = referee.stack
    response = case.call(base_url=stack.url, headers={"x-functions-key": stack.key}, timeout=60)
    request = response.request
    exchange = Exchange(
        label,
        str(request.method),
        str(request.url),
        response.status_code,
        {k.lower(): v[0] if isinstance(v, list) else v for k, v in response.headers.items()},
        response.content or b"",
    )
    referee.judge(exchange, "schemathesis")
    return response


# Derandomized: `make test` replays the same cases; no example database, no shrinking (the referee collects).
_SETTINGS = hypothesis.settings(
    database=None,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    verbosity=hypothesis.Verbosity.quiet,
    phases=[Phase.generate],
)


def _run_stateless(referee: Referee, strategy: Any, label: str, examples: int) -> None:
    @hypothesis.settings(_SETTINGS, max_examples=examples)
    @hypothesis.given(case=strategy)
    def stateless(case: Any) -> None:
        _call(referee, case, label)

    # An operation without parameters or body has no negative case to offer.
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        stateless()


def test_schemathesis_stateless_and_stateful(referee: Referee, existing_linkers: list[str]) -> None:
    schema = _schema(referee)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Operations without parameters (health, reconcile, the document) have a handful of distinct cases.
    with_parameters = [op for op in operations if op.path_parameters or op.query or op.body]
    per_run = max(1, STATELESS_TOTAL // (2 * len(with_parameters)))
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            _run_stateless(referee, strategy, f"schemathesis {mode.value} {operation.label}", per_run)
    stateless_cases = referee.counts["schemathesis"]

    machine = schema.as_state_machine()

    class Scenario(machine):  # type: ignore[valid-type, misc]
        def call(self, case: Any, **kwargs: Any) -> Any:
            return _call(referee, case, f"schemathesis stateful {case.operation.label}")

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            """The referee judges every response; schemathesis's own checks are not this proof's contract."""

    run_state_machine_as_test(
        Scenario,
        settings=hypothesis.settings(
            _SETTINGS,
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
        ),
    )
    cases = referee.counts["schemathesis"]
    referee.counts["stateful"] = cases - stateless_cases
    assert cases >= SCHEMATHESIS_MINIMUM, f"only {cases} schemathesis cases ran"
    problems = referee.verdict()
    assert not problems, "\n".join(problems)


# --- the hand-written corpus -----------------------------------------------------------------------------

_TRAVERSAL = [
    "..",
    "%2e%2e",
    "%2f",
    "..%2f..%2fadmin",
    "%2e%2e%2f%2e%2e",
    ".",
    "a%20b",
    "%00",
    "%0d%0aX:1",
    "%ff",
    "%c0%ae%c0%ae",
    "~",
    "a" * 300,
]


def _route_templates() -> list[tuple[str, str, dict[str, str], bytes | None]]:
    """(method, path template, the parameters' good values, body) for every route with parameters."""
    cluster_part = (
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/"
        "Microsoft.ContainerService/managedClusters/{cluster}/providers/Microsoft.ServiceLinker"
    )
    linker_part = cluster_part + "/linkers/{name}"
    good = {
        "subscription": SUB,
        "resource_group": RESOURCE_GROUP,
        "cluster": CLUSTER_NAME,
        "name": "existing1",
    }
    operation = {"subscription": SUB, "location": "global", "operation": "0" * 32}
    body = encode(linker_body())
    return [
        ("GET", cluster_part + "/linkers?api-version=" + API, good, None),
        ("GET", linker_part + "?api-version=" + API, good, None),
        ("PUT", linker_part + "?api-version=" + API, good, body),
        ("PATCH", linker_part + "?api-version=" + API, good, body),
        ("DELETE", linker_part + "?api-version=" + API, good, None),
        ("POST", linker_part + "/validateLinker?api-version=" + API, good, None),
        ("POST", linker_part + "/listConfigurations?api-version=" + API, good, None),
        ("GET", cluster_part + "/diagnostics?api-version=" + API, good, None),
        ("POST", cluster_part + "/resetExtension?api-version=" + API, good, None),
        (
            "GET",
            "/subscriptions/{subscription}/providers/Microsoft.ServiceLinker/locations/{location}/"
            "operationStatuses/{operation}?api-version=" + API,
            operation,
            None,
        ),
    ]


def _corpus_traversal(referee: Referee) -> None:
    for method, template, good, body in _route_templates():
        for parameter in (p for p in good if "{" + p + "}" in template):
            for hostile in _TRAVERSAL:
                path = template.format(**{**good, parameter: hostile})
                exchange = send(referee.stack, method, path, body, label=f"traversal in {parameter}")
                referee.judge(exchange, "corpus", expect="refused")


def _corpus_api_versions(referee: Referee) -> None:
    for method, template, good, body in _route_templates():
        path = template.format(**good)
        for query in (
            "api-version=1999-01-01",
            "",
            f"api-version={API}&api-version=1999-01-01",
            f"api-version=1999-01-01&api-version={API}",
            "api-version=" + "9" * 5000,
        ):
            bad = path.split("?", 1)[0] + ("?" + query if query else "")
            single_bad = "&" not in query
            exchange = send(referee.stack, method, bad, body, label=f"api-version {query[:40]!r}")
            operation_status = "operationStatuses" in path
            expect = "refused" if single_bad and not operation_status else None
            referee.judge(exchange, "corpus", expect=expect)


def _corpus_bodies(referee: Referee) -> None:
    put = f"{LINKERS}/hostilebody?api-version={API}"
    patch = f"{LINKERS}/existing2?api-version={API}"
    deep_object = b'{"properties":' + b'{"a":' * 1000 + b"1" + b"}" * 1000 + b"}"
    deep_array = b'{"properties":{"targetService":' + b"[" * 1000 + b"]" * 1000 + b"}}"
    bodies: list[tuple[str, bytes]] = [
        ("object nested 1,000 deep", deep_object),
        ("array nested 1,000 deep", deep_array),
        ("array nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
        ("10 MB string", encode(linker_body(scope="a" * 10_000_000))),
        ("10 MB of array elements", b'{"properties":{"targetService":[' + b"0," * 5_000_000 + b"0]}}"),
        ("200,000 keys", encode({"properties": {f"k{i}": i for i in range(200_000)}})),
        (
            "lone surrogate in scope",
            b'{"properties":{"targetService":{"type":"AzureResource","id":"'
            + BLOB.encode()
            + b'"},"authInfo":{"authType":"secret"},"clientType":"python","scope":"\\ud800"}}',
        ),
        ("lone surrogate in target id", encode(linker_body(target=BLOB + "\ud800"))),
        (
            "lone surrogate in auth",
            b'{"properties":{"targetService":{"type":"AzureResource","id":"'
            + BLOB.encode()
            + b'"},"authInfo":{"authType":"secret\\udfff"}}}',
        ),
        ("invalid UTF-8", b'{"properties":{"scope":"\xed\xa0\x80\xff"}}'),
        ("UTF-16 body", json.dumps(linker_body()).encode("utf-16")),
        ("not JSON", b"{'properties': }"),
        ("JSON null", b"null"),
        ("JSON array", b"[]"),
        ("JSON number", b"1e999999"),
        ("huge integer", b'{"properties":{"scope":' + b"9" * 100_000 + b"}}"),
        ("NaN", b'{"properties":{"scope":NaN}}'),
        (
            "PATH as a customized key",
            encode(
                linker_body(
                    configurationInfo={"customizedKeys": {"AZURE_STORAGEBLOB_CONNECTIONSTRING": "PATH"}}
                )
            ),
        ),
        (
            "LD_PRELOAD as a customized key",
            encode(
                linker_body(
                    configurationInfo={"customizedKeys": {"AZURE_STORAGEBLOB_CONNECTIONSTRING": "LD_PRELOAD"}}
                )
            ),
        ),
    ]
    for label, body in bodies:
        for method, path in (("PUT", put), ("PATCH", patch), ("PUT", put.replace(API, API_2024))):
            exchange = send(referee.stack, method, path, body, label=f"{label} ({method} {path[-10:]})")
            referee.judge(exchange, "corpus", expect="refused")


def _corpus_content_types(referee: Referee) -> None:
    body = encode(linker_body())
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonp",
        "json",
    ):
        for method, name in (("PUT", "wrongtype"), ("PATCH", "existing2")):
            exchange = send(
                referee.stack,
                method,
                f"{LINKERS}/{name}?api-version={API}",
                body,
                content_type=content_type,
                label=f"Content-Type {content_type}",
            )
            referee.judge(exchange, "corpus", expect=415)


def foreign_identity_client_id(stack: Stack) -> str:
    """The client id of the identity seeded in FOREIGN_SUBSCRIPTION (a real one: a lookup would find it)."""
    from azure.mgmt.msi import ManagedServiceIdentityClient

    client = stack.arm.mgmt_client(ManagedServiceIdentityClient, FOREIGN_SUBSCRIPTION)
    return str(client.user_assigned_identities.get(RESOURCE_GROUP, "id-demo-workload").client_id)


def _foreign_bodies(foreign_client: str) -> list[tuple[str, dict[str, Any], str | None]]:
    """(label, body, expectation): every id field of a body naming FOREIGN_SUBSCRIPTION."""
    principal = "00000000-0000-4000-8000-00000000f0f0"
    bodies: list[tuple[str, dict[str, Any], str | None]] = [
        (
            f"targetService.id of a foreign {kind}",
            linker_body(
                target=target_id(kind, FOREIGN_SUBSCRIPTION),
                auth={"authType": "secret"}
                if "secret" in auth_types(kind)
                else {
                    "authType": "servicePrincipalSecret",
                    "clientId": principal,
                    "principalId": principal,
                    "secret": "s3cr3t-value",
                },
            ),
            "refused",
        )
        for kind in arm_target_kinds()  # a target outside Azure has no subscription to be foreign to
    ]
    foreign_vault = target_id("keyvault", FOREIGN_SUBSCRIPTION)
    foreign_blob = target_id("storage-blob", FOREIGN_SUBSCRIPTION)
    bodies += [
        (
            "authInfo.subscriptionId foreign (workload identity)",
            linker_body(
                auth={
                    "authType": "userAssignedIdentity",
                    "clientId": foreign_client,
                    "subscriptionId": FOREIGN_SUBSCRIPTION,
                }
            ),
            "refused",
        ),
        (
            "secretStore.keyVaultId foreign",
            linker_body(
                target=target_id("postgres-flexible"),
                secretStore={"keyVaultId": foreign_vault},
                auth={
                    "authType": "secret",
                    "name": "app",
                    "secretInfo": {"secretType": "keyVaultSecretReference", "name": "pg-password"},
                },
            ),
            "refused",
        ),
        (
            "Key Vault CSI on a foreign vault",
            {
                "properties": {
                    "targetService": {
                        "type": "AzureResource",
                        "id": foreign_vault,
                        "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": True},
                    },
                    "authInfo": {"authType": "userAssignedIdentity"},
                    "clientType": "none",
                    "scope": "default",
                }
            },
            "refused",
        ),
        # The API resolves an identity by client id in authInfo.subscriptionId: a foreign identity's client id
        # under the allowed subscription may be accepted, but must not lead to any call into the foreign one.
        (
            "a foreign identity's client id under the allowed subscription",
            linker_body(
                auth={"authType": "userAssignedIdentity", "clientId": foreign_client, "subscriptionId": SUB}
            ),
            None,
        ),
        (
            "identityResourceId foreign",
            linker_body(
                auth={
                    "authType": "userAssignedIdentity",
                    "clientId": foreign_client,
                    "subscriptionId": SUB,
                    "identityResourceId": identity_id(FOREIGN_SUBSCRIPTION),
                }
            ),
            None,
        ),
        ("foreign target id in upper case", linker_body(target=foreign_blob.upper()), "refused"),
        ("foreign target id with a trailing slash", linker_body(target=foreign_blob + "/"), "refused"),
        (
            "foreign target id behind traversal",
            linker_body(target=f"/subscriptions/{SUB}/../..{foreign_blob}"),
            "refused",
        ),
    ]
    return bodies


def _corpus_foreign_ids(referee: Referee) -> None:
    stack = referee.stack
    foreign_client = foreign_identity_client_id(stack)
    stack.clear_journals()  # that lookup was this test's, not the product's
    for index, (label, body, expect) in enumerate(_foreign_bodies(foreign_client)):
        exchange = send(
            stack, "PUT", f"{LINKERS}/foreign{index}?api-version={API}", encode(body), label=label
        )
        referee.judge(exchange, "corpus", expect=expect)
        patched = send(
            stack, "PATCH", f"{LINKERS}/existing3?api-version={API}", encode(body), label=f"PATCH {label}"
        )
        referee.judge(patched, "corpus", expect=expect)
    foreign_cluster = cluster_id(FOREIGN_SUBSCRIPTION)
    for method, suffix, payload in (
        ("PUT", "/linkers/x", encode(linker_body())),
        ("DELETE", "/linkers/x", None),
        ("POST", "/resetExtension", None),
        ("GET", "/diagnostics", None),
        ("GET", "/linkers", None),
        ("POST", "/linkers/x/validateLinker", None),
    ):
        path = f"{foreign_cluster}/providers/Microsoft.ServiceLinker{suffix}?api-version={API}"
        referee.judge(send(stack, method, path, payload, label="foreign cluster"), "corpus", expect=403)


def _corpus_host_header(referee: Referee) -> None:
    stack = referee.stack
    for host in ("evil.example.com", "evil.example.com:443", "127.0.0.1.evil.example.com", "[::1]:1"):
        headers = {"Host": host}
        sent = [
            send(
                stack,
                "PUT",
                f"{LINKERS}/hostheader?api-version={API}",
                encode(linker_body()),
                headers=headers,
                label=f"Host {host}",
            ),
            send(stack, "GET", f"{LINKERS}?api-version={API}", headers=headers, label=f"Host {host} (list)"),
            send(
                stack,
                "POST",
                f"{LINKERS}/existing1/validateLinker?api-version={API}",
                headers=headers,
                label=f"Host {host}",
            ),
            send(stack, "POST", "/api/reconcile", headers=headers, label=f"Host {host}"),
            send(stack, "GET", "/api/openapi.json", headers=headers, label=f"Host {host}"),
        ]
        for exchange in sent:
            referee.judge(exchange, "corpus")
        deleted = send(
            stack, "DELETE", f"{LINKERS}/hostheader?api-version={API}", headers=headers, label=f"Host {host}"
        )
        referee.judge(deleted, "corpus")


def _corpus_raw(referee: Referee) -> None:
    stack = referee.stack
    netloc = urlsplit(stack.url).netloc.encode()
    key = stack.key.encode()
    path = f"{LINKERS}/smuggled?api-version={API}".encode()
    body = encode(linker_body())
    head = b"Host: " + netloc + b"\r\nx-functions-key: " + key + b"\r\nContent-Type: application/json\r\n"
    smuggled = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
    messages = {
        "CL + TE chunked": b"PUT " + path + b" HTTP/1.1\r\n" + head + b"Content-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        + f"{len(body):x}".encode()
        + b"\r\n"
        + body
        + b"\r\n0\r\n\r\n"
        + smuggled,
        "TE chunked + CL (CL first short)": b"PUT "
        + path
        + b" HTTP/1.1\r\n"
        + head
        + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"
        + smuggled,
        "two Content-Lengths": b"PUT "
        + path
        + b" HTTP/1.1\r\n"
        + head
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\nContent-Length: 0\r\n\r\n"
        + body,
        "TE chunked, identity": b"PUT "
        + path
        + b" HTTP/1.1\r\n"
        + head
        + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        "TE with obs-fold": b"PUT "
        + path
        + b" HTTP/1.1\r\n"
        + head
        + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
        "bad chunk size": b"PUT " + path + b" HTTP/1.1\r\n" + head + b"Transfer-Encoding: chunked\r\n\r\n"
        b"fffffffffffffffff\r\n{}\r\n0\r\n\r\n",
        "CRLF in the path": b"PUT "
        + path
        + b"\r\nX-Injected: 1 HTTP/1.1\r\n"
        + head
        + b"Content-Length: 0\r\n\r\n",
        "bare LF in a header": b"PUT "
        + path
        + b" HTTP/1.1\r\n"
        + head
        + b"X-A: a\nHost: evil.example.com\r\nContent-Length: 0\r\n\r\n",
        "CR in a header value": b"PUT "
        + path
        + b" HTTP/1.1\r\n"
        + head
        + b"X-A: a\rHost: evil.example.com\r\nContent-Length: 0\r\n\r\n",
        "encoded CRLF in the query": b"PUT "
        + path
        + b"%0d%0aX-Injected:%201 HTTP/1.1\r\n"
        + head
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body,
        "encoded CRLF in a path parameter": b"PUT "
        + path.replace(b"smuggled", b"a%0d%0aSet-Cookie:x=1")
        + b" HTTP/1.1\r\n"
        + head
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body,
        "NUL in the path": b"GET " + path.replace(b"smuggled", b"a\x00b") + b" HTTP/1.1\r\n" + head + b"\r\n",
        "HTTP/0.9-style request": b"GET " + path + b"\r\n\r\n",
        "absolute-form URI to another host": b"GET http://evil.example.com"
        + path
        + b" HTTP/1.1\r\n"
        + head
        + b"\r\n",
        "10 MB header": b"GET "
        + path
        + b" HTTP/1.1\r\n"
        + head
        + b"X-Big: "
        + b"a" * 10_000_000
        + b"\r\n\r\n",
    }
    for label, message in messages.items():
        referee.judge(send_raw(stack, message, label=label), "corpus")


def test_hostile_corpus(referee: Referee, existing_linkers: list[str]) -> None:
    for part in (
        _corpus_bodies,
        _corpus_content_types,
        _corpus_foreign_ids,
        _corpus_api_versions,
        _corpus_traversal,
        _corpus_host_header,
        _corpus_raw,
    ):
        part(referee)
    problems = referee.verdict()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module", autouse=True)
def _figure(referee: Referee) -> Iterator[None]:
    """Record the figure once both tests have run (whatever they found)."""
    yield
    counts = referee.counts
    record(
        "hostile input",
        (
            f"{counts['schemathesis']:,} schemathesis cases ({counts['stateful']:,} stateful steps) + "
            f"{counts['corpus']:,} corpus requests, "
            f"{len(referee.server_errors)} responses >= 500, {len(referee.writes_after_refusal)} writes from "
            f"rejected requests, {len(referee.calls_outside_scope)} calls into a foreign subscription, "
            f"{len(referee.bad_error_shapes)} 4xx bodies not in ARM's error shape, "
            f"{len(referee.foreign_urls)} URLs naming another host, "
            f"{len(referee.not_refused)} hostile requests "
            f"not refused as the contract says ({counts['server']:,} answered by the HTTP server before any "
            "function)"
        ),
    )
