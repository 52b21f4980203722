"""End-to-end fixtures: the real function_app on DevHost (in a background event loop, port 0), with the ARM,
kube and Service Bus emulators and Azurite, and the official azure-mgmt-servicelinker client pointed at it.

The emulators' install and registration delays are set to zero and the orchestration backoff to a fraction of
a second, so operations finish in real time within seconds; the waits themselves are the orchestrators' tests'
business (virtual clock there).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.durable_functions.models.utils import http_utils
from azure.mgmt.servicelinker import ServiceLinkerManagementClient

from activities.clients import use_clients
from devhost.app import DevHost, DevHostConfig
from devhost.clock import Clock, VirtualClock
from emulators.entra import EntraEmulator
from emulators.servicebus import ServiceBusEmulator
from tests.contract import traffic
from tests.contract.traffic import OavValidator, RecordingPolicy, TrafficRecorder, describe
from tests.fixtures.arm import DEMO_SEED, DEMO_SUBSCRIPTION, ArmHarness, arm, arm_emulator  # noqa: F401
from tests.fixtures.azurite import OAuthAzurite, azurite, azurite_connection_string, azurite_oauth  # noqa: F401
from tests.fixtures.entra import ProductApplication, ca_bundle, entra_emulator, entra_product, verified_by  # noqa: F401
from tests.fixtures.kube import kube, kube_emulator  # noqa: F401
from tests.fixtures.servicebus import new_servicebus_queue, servicebus_emulator  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
SUB = DEMO_SUBSCRIPTION
RG = f"/subscriptions/{SUB}/resourceGroups/rg-demo"
CLUSTER = f"{RG}/providers/Microsoft.ContainerService/managedClusters/aks-demo-1"
CLUSTER_2 = f"{RG}/providers/Microsoft.ContainerService/managedClusters/aks-demo-2"
STORAGE = f"{RG}/providers/Microsoft.Storage/storageAccounts/stdemo0001"
BLOB = f"{STORAGE}/blobServices/default"
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-demo-workload"
POSTGRES_DB = f"{RG}/providers/Microsoft.DBforPostgreSQL/flexibleServers/psql-demo-0001/databases/appdb"
TENANT = "7e57c0de-0000-4000-8000-000000000001"
API = "2022-05-01"


def blob_secret_body(client_type: str = "python") -> dict[str, Any]:
    """The PUT body of a secret-auth connection to the demo blob service in namespace default."""
    return {
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "authInfo": {"authType": "secret"},
            "clientType": client_type,
            "scope": "default",
        }
    }


T = TypeVar("T")


class FunctionKeyPolicy(SansIOHTTPPolicy[Any, Any]):
    """Authenticates to the Functions host with a function key instead of an Entra bearer token.

    Given to the client as `authentication_policy`, it replaces the bearer-token policy, which refuses plain
    http; every request (PUT, polls, nextLink pages) carries the key in `x-functions-key`.
    """

    def __init__(self, key: str) -> None:
        self._key = key

    def on_request(self, request: PipelineRequest[Any]) -> None:
        """Add the key header."""
        request.http_request.headers["x-functions-key"] = self._key


class _NoCredential:
    """The client insists on a credential object; the function key policy makes it unused."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("the function key policy should replace bearer tokens")


@dataclass
class HostThread:
    """A DevHost running on its own event loop in a daemon thread."""

    host: DevHost
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the host's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def url(self) -> str:
        """The host's base URL."""
        return self.host.base_url


def start_host_thread(config: DevHostConfig, clock: Clock | None = None) -> HostThread:
    """Start DevHost in a background loop (on `clock`, real time by default); returns once it serves."""
    # The Durable SDK keeps one module-global aiohttp session bound to the loop that created it.
    http_utils._client_session = None
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="devhost", daemon=True)
    thread.start()
    host = DevHost(config, clock=clock)
    running = HostThread(host, loop, thread)
    running.run(host.start(), timeout=60)
    return running


def stop_host_thread(running: HostThread) -> None:
    """Stop the host and its loop."""

    async def close_sdk_session() -> None:
        session = http_utils._client_session
        http_utils._client_session = None
        if session is not None:
            await session.close()

    try:
        running.run(running.host.stop(), timeout=30)
        running.run(close_sdk_session(), timeout=10)
    finally:
        running.loop.call_soon_threadsafe(running.loop.stop)
        running.thread.join(10)


@dataclass
class E2E:
    """The running product and its surroundings, for one test."""

    host: HostThread
    arm: ArmHarness
    key: str
    servicebus: ServiceBusEmulator
    requests_queue: str
    events_queue: str
    clock: VirtualClock | None = None  # set in tests marked `virtual_clock`
    # Every exchange through http() and linker_client(), judged against the spec when the test ends.
    traffic: TrafficRecorder = field(default_factory=TrafficRecorder)
    # The Azurite holding the product's registry (an HTTPS one with identity-based connections), and its CA.
    storage: str = ""
    storage_ca: str | None = None

    def registry(self) -> Any:
        """The product's registry table, reached with the account key whichever way the product connects."""
        from azure.data.tables import TableServiceClient

        verify = {"connection_verify": self.storage_ca} if self.storage_ca else {}
        service = TableServiceClient.from_connection_string(self.storage, **verify)
        return service.get_table_client(os.environ["REGISTRY_TABLE"])

    @property
    def url(self) -> str:
        """DevHost's base URL."""
        return self.host.url

    def linker_client(self) -> Any:
        """The official client, pointed at DevHost, authenticating with the function key.

        Typed Any: the generated models declare every field Optional, which tests would only assert away.
        """
        return ServiceLinkerManagementClient(
            _NoCredential(),
            base_url=self.url,
            authentication_policy=FunctionKeyPolicy(self.key),
            polling_interval=0.2,
            retry_total=0,
            per_call_policies=[RecordingPolicy(self.traffic)],
        )

    def http(
        self, method: str, path: str, body: Any = None, *, key: str | None = "default"
    ) -> tuple[int, dict[str, str], Any]:
        """A raw HTTP call: (status, headers, parsed JSON body or None)."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(
            self.url + path if path.startswith("/") else path, data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        if key is not None:
            request.add_header("x-functions-key", self.key if key == "default" else key)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read()
        parsed = json.loads(raw) if raw else None
        self.traffic.record(method, request.full_url, body, status, headers, parsed)
        return status, headers, parsed

    def wait_operation(self, url: str, timeout: float = 30) -> dict[str, Any]:
        """Poll an Azure-AsyncOperation URL until the operation has ended; its final ARM status body."""
        deadline = time.monotonic() + timeout
        while True:
            status, _, body = self.http("GET", url)
            assert status == 200, body
            if body["status"] not in ("Accepted", "Deleting"):
                return dict(body)
            assert time.monotonic() < deadline, body
            time.sleep(0.1)

    def kube_secret(self, cluster_id: str, namespace: str, name: str) -> dict[str, str] | None:
        """The decoded data of a Secret on an emulated cluster, or None."""
        from emulators.arm import kube_key

        client = self.arm.kube.client_for(kube_key(cluster_id))
        from kubernetes import client as k8s
        from kubernetes.client.exceptions import ApiException

        try:
            secret = k8s.CoreV1Api(client).read_namespaced_secret(name, namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


def fast_demo_seed() -> dict[str, Any]:
    """The demo seed with its registration, update and install delays at zero."""
    data: dict[str, Any] = yaml.safe_load(DEMO_SEED.read_text(encoding="utf-8"))
    data["settings"] = {k: 0 for k in data.get("settings", {})}
    return data


def product_environment(
    arm_harness: ArmHarness, storage: str, servicebus: ServiceBusEmulator, requests: str, events: str
) -> dict[str, str]:
    """The app settings that point the product at this test's emulators."""
    return {
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "AzureWebJobsStorage": storage,
        "DURABLE_TASK_HUB": "E2EHub",
        "ARM_ENDPOINT": arm_harness.url,
        "ARM_CA_BUNDLE": arm_harness.ca_file,
        "ARM_STATIC_TOKEN": "local-emulator-token",
        "ARM_POLLING_INTERVAL_SECONDS": "0",
        "ARM_RETRY_TOTAL": "2",
        "ARM_RETRY_BACKOFF_FACTOR": "0",
        "AZURE_TENANT_ID": TENANT,
        "ALLOWED_SCOPES": f"/subscriptions/{SUB}",
        "REGISTRY_TABLE": "e2e" + uuid.uuid4().hex[:12],
        "SECRET_SEALING_KEY": base64.b64encode(os.urandom(32)).decode(),
        "SERVICEBUS_CONNECTION": servicebus.connection_string,
        "SERVICEBUS_REQUESTS_QUEUE": requests,
        "SERVICEBUS_EVENTS_QUEUE": events,
        "RECONCILE_SCHEDULE": "0 0 * * * *",
        "RECONCILE_JITTER_SECONDS": "0",
        "CLUSTER_READY_TIMEOUT_SECONDS": "60",
        "EXTENSION_READY_TIMEOUT_SECONDS": "60",
        "BACKOFF_INITIAL_SECONDS": "0.2",
        "BACKOFF_MAX_SECONDS": "0.5",
        "LIST_PAGE_SIZE": "2",
    }


@pytest.fixture(scope="session")
def oav_validator() -> Iterator[OavValidator]:
    """One oav LiveValidator for the session (loading the specs once)."""
    validator = OavValidator()
    try:
        yield validator
    finally:
        validator.close()


def identity_environment(
    settings: dict[str, str], entra: EntraEmulator, storage: OAuthAzurite, servicebus: ServiceBusEmulator
) -> dict[str, str]:
    """`settings` with identity-based storage and Service Bus connections instead of connection strings.

    Storage uses a user-assigned managed identity (`__credential`, `__clientId`), Service Bus the default
    credential chain; both get their tokens from the Entra stand-in's App Service identity endpoint.
    """
    strings = ("AzureWebJobsStorage", "SERVICEBUS_CONNECTION")
    identity = {name: value for name, value in settings.items() if name not in strings}
    identity |= entra.managed_identity_environment()
    identity |= {
        "AzureWebJobsStorage__tableServiceUri": storage.table_service_uri,
        "AzureWebJobsStorage__credential": "managedidentity",
        "AzureWebJobsStorage__clientId": entra.add_user_assigned_identity(),
        "SERVICEBUS_CONNECTION__fullyQualifiedNamespace": f"{servicebus.host}:{servicebus.port}",
        # azure-core's default transport (requests) trusts this bundle: Azurite's HTTPS certificate.
        "REQUESTS_CA_BUNDLE": storage.ca_file,
    }
    return identity


@pytest.fixture
def connections(request: pytest.FixtureRequest) -> str:
    """How the product connects to storage and Service Bus: `connection_string` or `identity`.

    Tests marked `both_connections` run once each way; others as E2E_CONNECTIONS says (default strings):
    `E2E_CONNECTIONS=identity pytest tests/e2e` runs the whole suite with identity-based connections only.
    """
    return str(getattr(request, "param", None) or os.environ.get("E2E_CONNECTIONS") or "connection_string")


def e2e_credential() -> str:
    """How the product authenticates to ARM and the clusters: `entra` (the default: azure-identity's client
    secret credential against the Entra stand-in, whose tokens the emulators verify) or `static`
    (E2E_CREDENTIAL=static: the ARM_STATIC_TOKEN fallback, tokens unverified)."""
    return os.environ.get("E2E_CREDENTIAL") or "entra"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run `both_connections` tests with connection strings and with identity-based connections."""
    if metafunc.definition.get_closest_marker("both_connections") and "e2e" in metafunc.fixturenames:
        metafunc.parametrize("connections", ["connection_string", "identity"], indirect=True)


@pytest.fixture
def e2e(
    arm: ArmHarness,  # noqa: F811
    azurite_connection_string: str,  # noqa: F811
    servicebus_emulator: ServiceBusEmulator,  # noqa: F811
    new_servicebus_queue: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    oav_validator: OavValidator,
    connections: str,
) -> Iterator[E2E]:
    """The product on DevHost with fresh emulators, a fresh registry table and fresh queues.

    When the test ends, every response it received is judged against its api-version's spec (oav); one that
    breaks the schema fails the test, naming the operation, the JSON path and the rule.

    The Service Bus trigger listens only in tests marked `servicebus` (its receivers slow the host's stop).
    Tests marked `virtual_clock` get DevHost on a VirtualClock starting at the ARM emulator's time
    (`e2e.clock`).
    """
    listen = request.node.get_closest_marker("servicebus") is not None
    virtual = request.node.get_closest_marker("virtual_clock") is not None
    clock = VirtualClock(start=datetime.fromtimestamp(arm.clock.now(), UTC)) if virtual else None
    arm.seed(fast_demo_seed())
    # A high delivery count: the redelivery test fails deliveries on purpose before letting one through.
    requests, events = new_servicebus_queue(max_delivery_count=10_000), new_servicebus_queue()
    environment = product_environment(arm, azurite_connection_string, servicebus_emulator, requests, events)
    storage, storage_ca = azurite_connection_string, None
    # The Entra stand-in over HTTPS: the product's credential and the identity-based connections use it.
    entra_app: ProductApplication = request.getfixturevalue("entra_product")
    entra: EntraEmulator = entra_app.emulator
    if connections == "identity":
        oauth: OAuthAzurite = request.getfixturevalue("azurite_oauth")
        environment = identity_environment(environment, entra, oauth, servicebus_emulator)
        storage, storage_ca = oauth.instance.connection_string, oauth.ca_file
        servicebus_emulator.trust_jwt(entra.issuer.verify)
        request.addfinalizer(lambda: servicebus_emulator.trust_jwt(None))
        for name in ("AzureWebJobsStorage", "SERVICEBUS_CONNECTION"):
            monkeypatch.delenv(name, raising=False)
    if e2e_credential() == "entra":
        del environment["ARM_STATIC_TOKEN"]
        monkeypatch.delenv("ARM_STATIC_TOKEN", raising=False)
        bundle = ca_bundle(tmp_path / "entra-ca-bundle.pem", entra.ca_file, storage_ca or "")
        environment |= entra_app.environment(bundle)
        arm.credential = entra_app.credential()  # the tests' own ARM clients need Entra tokens too
        verification = verified_by(entra_app.trust(), arm.emulator, arm.kube.emulator)
        verification.__enter__()
        request.addfinalizer(lambda: verification.__exit__(None, None, None))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    use_clients(None)  # the activities' clients are rebuilt from this environment
    config = DevHostConfig(
        app_dir=str(REPO),
        port=0,
        store_path=None,
        keys_path=str(tmp_path / "keys.json"),
        timer_status_path=None,
        load_local_settings=False,
        timers=False,
        service_bus=listen,
        service_bus_max_wait_time=0.2,
    )
    running = start_host_thread(config, clock)
    # Operation URLs are built on the configured public address (never the request's Host): devhost's own.
    monkeypatch.setenv("PUBLIC_BASE_URL", running.url)
    try:
        key = running.host.keys.host_keys["default"]
        product = E2E(
            running,
            arm,
            key,
            servicebus_emulator,
            requests,
            events,
            clock,
            storage=storage,
            storage_ca=storage_ca,
        )
        traffic.activate(product.traffic)  # the SDK side environment's answers are judged too
        yield product
    finally:
        traffic.activate(None)
        stop_host_thread(running)
        use_clients(None)
    issues = oav_validator.issues(product.traffic.take())
    if issues:
        pytest.fail(f"responses that break the ServiceLinker spec:\n{describe(issues)}", pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    """Register this folder's marker."""
    config.addinivalue_line("markers", "servicebus: the test needs DevHost's Service Bus trigger listening")
    config.addinivalue_line("markers", "virtual_clock: DevHost runs on a VirtualClock (e2e.clock)")
    config.addinivalue_line(
        "markers", "both_connections: run with connection strings and with identity-based connections"
    )
