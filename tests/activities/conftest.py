"""Fixtures for the activity tests: the ARM and kube emulators (seeded with the demo), Clients built for them.

`world` resets both emulators, loads emulators/seeds/demo.yaml and gives a `World`: the Clients the activities
use (a recording sleeper: waits are asserted, never slept), journals of both emulators, and helpers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from activities.clients import Clients
from activities.settings import Settings
from emulators.common import EmulatorAdmin
from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness, arm, arm_emulator  # noqa: F401
from tests.fixtures.kube import kube, kube_emulator  # noqa: F401

SUB = DEMO_SUBSCRIPTION
RG = f"/subscriptions/{SUB}/resourceGroups/rg-demo"
CLUSTER_1 = f"{RG}/providers/Microsoft.ContainerService/managedClusters/aks-demo-1"
CLUSTER_2 = f"{RG}/providers/Microsoft.ContainerService/managedClusters/aks-demo-2"
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-demo-workload"
STORAGE = f"{RG}/providers/Microsoft.Storage/storageAccounts/stdemo0001"
BLOB = f"{STORAGE}/blobServices/default"
SERVICEBUS = f"{RG}/providers/Microsoft.ServiceBus/namespaces/sb-demo-0001"
KEYVAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-demo-0001"
POSTGRES_DB = f"{RG}/providers/Microsoft.DBforPostgreSQL/flexibleServers/psql-demo-0001/databases/appdb"
OPENAI = f"{RG}/providers/Microsoft.CognitiveServices/accounts/oai-demo-0001"
TENANT = "7e57c0de-0000-4000-8000-000000000001"
SEALING_KEY = os.urandom(32)

# Requests that only read, whatever their method (ARM list-keys actions are POSTs).
_READ_POSTS = ("/listkeys", "/listconnectionstrings", "/listclusterusercredential")


def is_write(entry: dict[str, Any]) -> bool:
    """True for a request that changes state (PUT, PATCH, DELETE, and POSTs other than list actions)."""
    method = entry["method"].upper()
    if method in ("GET", "HEAD"):
        return False
    if method == "POST":
        return not entry["path"].lower().endswith(_READ_POSTS)
    return True


@dataclass
class World:
    """The seeded emulators and the Clients the activities run with."""

    arm: ArmHarness
    kube_admin: EmulatorAdmin
    clients: Clients
    waits: list[float] = field(default_factory=list)

    def arm_calls(self) -> list[dict[str, Any]]:
        """Every ARM request since the last clear."""
        return list(self.arm.admin.journal()["entries"])

    def kube_calls(self) -> list[dict[str, Any]]:
        """Every Kubernetes API request since the last clear."""
        return list(self.kube_admin.journal()["entries"])

    def all_calls(self) -> list[dict[str, Any]]:
        """ARM and Kubernetes requests together."""
        return self.arm_calls() + self.kube_calls()

    def writes(self) -> list[str]:
        """`METHOD path` of every state-changing request since the last clear."""
        return [f"{e['method']} {e['path']}" for e in self.all_calls() if is_write(e)]

    def clear_journals(self) -> None:
        """Forget the requests recorded so far."""
        self.arm.admin.clear_journal()
        self.kube_admin.clear_journal()

    def fault(self, path: str, **rule: Any) -> dict[str, Any]:
        """Add an ARM fault rule."""
        return self.arm.admin.add_fault(path, **rule)

    def kube_key(self, cluster_id: str) -> str:
        """The kube emulator's key of a cluster."""
        from emulators.arm import kube_key

        return str(kube_key(cluster_id))


def make_settings(arm_harness: ArmHarness, **overrides: Any) -> Settings:
    """Settings pointing at the emulators (no backoff between retries: waits are recorded, not slept)."""
    values: dict[str, Any] = {
        "arm_endpoint": arm_harness.url,
        "allowed_scopes": (f"/subscriptions/{SUB}",),
        "arm_ca_bundle": arm_harness.ca_file,
        "arm_static_token": "local-emulator-token",
        "arm_polling_interval_seconds": 0.0,
        "arm_retry_total": 3,
        "arm_retry_backoff_factor": 0.5,
        "tenant_id": TENANT,
        "sealing_key": SEALING_KEY,
    }
    values.update(overrides)
    return Settings(**values)


def issued_keys(arm_harness: ArmHarness) -> set[str]:
    """Every key the ARM emulator holds right now (storage keys, SAS keys, Cosmos and Redis keys, ...)."""
    state = arm_harness.emulator.state
    with state.lock:
        return {
            v
            for r in state.resources.values()
            for v in r.secrets.values()
            if isinstance(v, str) and len(v) >= 8
        }


def leaked_keys(keys: set[str], texts: list[str]) -> set[str]:
    """The keys that appear in any of the texts."""
    return {k for k in keys if any(k in t for t in texts)}


def log_texts(records: list[logging.LogRecord]) -> list[str]:
    """Everything a log handler could write for these records: message, arguments, exception text."""
    texts = []
    for record in records:
        texts.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            texts.append(repr(record.exc_info[1]) + str(record.exc_info[1]))
        if record.exc_text:
            texts.append(record.exc_text)
    return texts


@pytest.fixture
def world(
    arm: ArmHarness,  # noqa: F811
    kube_emulator: Any,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> Iterator[World]:
    """Both emulators reset, the demo seed loaded (Microsoft.KubernetesConfiguration NotRegistered).

    At teardown, no key the ARM emulator issued (before or after the test: keys rotate) may appear in any
    log record of the test, captured at DEBUG.
    """
    arm.seed_demo()
    keys_at_start = issued_keys(arm)
    waits: list[float] = []
    clients = Clients(make_settings(arm), sleeper=waits.append)
    world = World(arm, EmulatorAdmin(kube_emulator.url, kube_emulator.ca_file), clients, waits)
    world.clear_journals()
    yield world
    keys = keys_at_start | issued_keys(arm)
    assert keys, "the demo seed issues keys"
    assert leaked_keys(keys, log_texts(caplog.records)) == set(), "a key issued by ARM reached a log record"


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Capture every log record at DEBUG, so secret-hygiene checks see all of them."""
    caplog.set_level(logging.DEBUG)


@pytest.fixture(scope="session")
def azurite_connection() -> Iterator[str]:
    """A connection string to an Azurite started for this session (stopped by PID at the end)."""
    from emulators.azurite import Azurite

    with Azurite() as running:
        yield running.connection_string


@pytest.fixture
def registry_clients(azurite_connection: str) -> Clients:
    """Clients whose registry table is fresh for this test."""
    import uuid

    table = "reg" + uuid.uuid4().hex[:12]
    settings = Settings(storage_connection=azurite_connection, registry_table=table)
    return Clients(settings, sleeper=lambda _: None)


@pytest.fixture(scope="session")
def activity_index() -> dict[str, Any]:
    """The activities as the Functions host discovers them (durable name -> FunctionInfo), indexed once."""
    from devhost.discovery import index_app
    from tests.activities import activities_app

    return dict(index_app(activities_app.app).activities)


@pytest.fixture
def durable(world: World, activity_index: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The Durable activities, running with this test's Clients as the process-wide ones."""
    from activities.clients import use_clients

    use_clients(world.clients)
    try:
        yield activity_index
    finally:
        use_clients(None)
