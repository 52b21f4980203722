"""Fixtures for the orchestration tests: the real function_app under DurableHarness, with the ARM and kube
emulators (demo seed) and Azurite behind the activities.

The activities read their settings from the environment, as on Azure: `env` sets those variables to point
at the emulators and a fresh registry table. The harness clock is linked to the ARM emulator's clock, so a
durable timer of N seconds also moves ARM by N seconds (a cluster Updating for 20 minutes settles after 20
virtual minutes of orchestration time). Nothing sleeps.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import client as k8s

from activities import registry as registry_ops
from activities.clients import Clients, use_clients
from activities.settings import Settings
from connector.model import ClusterRef, Connection, SecretAuth, WorkloadIdentityAuth
from connector.vocabulary import ClientType
from devhost.clock import VirtualClock
from devhost.discovery import FunctionIndex, load_app
from devhost.durable.harness import DurableHarness
from emulators.common import EmulatorAdmin
from emulators.common import VirtualClock as EmulatorClock
from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness, arm, arm_emulator  # noqa: F401
from tests.fixtures.azurite import azurite, azurite_connection_string  # noqa: F401
from tests.fixtures.kube import kube, kube_emulator  # noqa: F401

SUB = DEMO_SUBSCRIPTION
RG = f"/subscriptions/{SUB}/resourceGroups/rg-demo"
CLUSTER_1 = f"{RG}/providers/Microsoft.ContainerService/managedClusters/aks-demo-1"
CLUSTER_2 = f"{RG}/providers/Microsoft.ContainerService/managedClusters/aks-demo-2"
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-demo-workload"
STORAGE = f"{RG}/providers/Microsoft.Storage/storageAccounts/stdemo0001"
BLOB = f"{STORAGE}/blobServices/default"
KEYVAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-demo-0001"
POSTGRES_DB = f"{RG}/providers/Microsoft.DBforPostgreSQL/flexibleServers/psql-demo-0001/databases/appdb"
TENANT = "7e57c0de-0000-4000-8000-000000000001"
REF_1 = ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-1")
REF_2 = ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-2")
# Short waits keep virtual schedules readable; budgets stay generous.
POLICY = {
    "clusterReadyTimeoutSeconds": 3600,
    "extensionReadyTimeoutSeconds": 900,
    "backoffInitialSeconds": 5,
    "backoffMaxSeconds": 160,
    "maxParallelClusters": 2,
}
_READ_POSTS = ("/listkeys", "/listconnectionstrings", "/listclusterusercredential")


def is_write(entry: dict[str, Any]) -> bool:
    """True for a request that changes state (PUT, PATCH, DELETE, POSTs other than list actions)."""
    method = entry["method"].upper()
    if method in ("GET", "HEAD"):
        return False
    if method == "POST":
        return not entry["path"].lower().endswith(_READ_POSTS)
    return True


Scheduled = list[tuple[float, Callable[[], None]]]


class LinkedClock(VirtualClock):
    """The harness's virtual clock; moving it moves the ARM emulator's clock by the same amount.

    `scheduled` holds (seconds after the start, action) pairs: each action runs once, when the clock first
    reaches its time (e.g. the end of an outage injected with the emulators' fault rules).
    """

    def __init__(self, arm_clock: EmulatorClock, scheduled: Scheduled | None = None) -> None:
        super().__init__(datetime.fromtimestamp(arm_clock.now(), tz=UTC))
        self._arm_clock = arm_clock
        self._start = self.now()
        self._scheduled = sorted(scheduled or [], key=lambda item: item[0])

    def advance_to(self, when: datetime) -> datetime:
        """Move both clocks forward to `when`, running the scheduled actions whose time came first."""
        before = self.now()
        elapsed = (_aware_utc(when) - self._start).total_seconds()
        while self._scheduled and self._scheduled[0][0] <= elapsed:
            self._scheduled.pop(0)[1]()
        after = super().advance_to(when)
        if after > before:
            self._arm_clock.advance((after - before).total_seconds())
        return after


def _aware_utc(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass
class Run:
    """One orchestration run: its final status (with history), and the durable timers it asked for."""

    status: dict[str, Any]
    timers: list[datetime]
    started: datetime
    children: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def output(self) -> Any:
        """The orchestration's output."""
        return self.status["output"]

    def waits(self) -> list[float]:
        """Each requested timer as seconds after the previous one (the first after the start)."""
        points = [self.started, *self.timers]
        return [(b - a).total_seconds() for a, b in itertools.pairwise(points)]


@dataclass
class Env:
    """The seeded emulators, the registry table and the Clients the activities run with."""

    arm: ArmHarness
    kube_admin: EmulatorAdmin
    clients: Clients
    index: FunctionIndex
    # Actions the next run performs at given virtual times (seconds after its start); see LinkedClock.
    scheduled: Scheduled = field(default_factory=list)

    # ---- registry ---------------------------------------------------------------------------------------
    def put_connection(self, connection: Connection, state: str = "Accepted") -> str:
        """Write the desired state as the trigger does; returns the linker id."""
        operation = uuid.uuid4().hex
        existing = registry_ops.get_record(connection.linker_id, clients=self.clients)
        record = {
            "linkerId": connection.linker_id,
            "clusterId": connection.cluster.id,
            "name": connection.linker_name,
            "desired": connection.to_stored(),
            "desiredHash": connection.desired_hash(),
            "provisioningState": state,
            "generation": 1,
            "lastOperation": {"id": operation, "kind": "connect", "desiredHash": connection.desired_hash()},
        }
        registry_ops.put_record(record, etag=existing["etag"] if existing else None, clients=self.clients)
        return connection.linker_id

    def record(self, linker_id: str) -> dict[str, Any] | None:
        """The registry record of a linker."""
        return registry_ops.get_record(linker_id, clients=self.clients)

    # ---- journals -----------------------------------------------------------------------------------------
    def arm_calls(self) -> list[dict[str, Any]]:
        """ARM requests since the last clear."""
        return list(self.arm.admin.journal()["entries"])

    def kube_calls(self) -> list[dict[str, Any]]:
        """Kubernetes requests since the last clear."""
        return list(self.kube_admin.journal()["entries"])

    def writes(self) -> list[str]:
        """`METHOD path` of every state-changing ARM or Kubernetes request since the last clear."""
        return [f"{e['method']} {e['path']}" for e in self.arm_calls() + self.kube_calls() if is_write(e)]

    def clear_journals(self) -> None:
        """Forget the requests recorded so far."""
        self.arm.admin.clear_journal()
        self.kube_admin.clear_journal()

    def outage(self, admin: EmulatorAdmin, seconds: float | None, status: int = 500) -> None:
        """Every API request to an emulator fails with `status` from now until `seconds` into the next run
        (None: for good); the emulator's own fault rules do it, so the product sees real error answers."""
        body = {"error": {"code": "InternalServerError", "message": "The service is unavailable (outage)."}}
        if admin is self.kube_admin:
            body = {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "reason": "InternalError",
                "message": "The service is unavailable (outage).",
                "code": status,
            }
        admin.add_fault(".*", status=status, body=body)
        if seconds is not None:
            self.scheduled.append((seconds, admin.clear_faults))

    # ---- Kubernetes -------------------------------------------------------------------------------------
    def core(self, cluster_id: str = CLUSTER_1) -> k8s.CoreV1Api:
        """A CoreV1Api on a cluster of the kube emulator (the test's own client)."""
        from emulators.arm import kube_key

        return k8s.CoreV1Api(self.arm.kube.client_for(str(kube_key(cluster_id))))

    def secret(self, name: str, namespace: str = "default", cluster_id: str = CLUSTER_1) -> dict[str, str]:
        """A Secret's data, decoded."""
        found = self.core(cluster_id).read_namespaced_secret(name, namespace)
        return {k: base64.b64decode(v).decode() for k, v in (found.data or {}).items()}

    # ---- orchestrations ---------------------------------------------------------------------------------
    def run(self, name: str, payload: dict[str, Any], instance_id: str | None = None) -> Run:
        """Start an orchestration on a fresh harness and drive it (virtual time) until it ends."""
        return asyncio.run(self._run(name, payload, instance_id or f"op-{uuid.uuid4().hex[:12]}"))

    async def _run(self, name: str, payload: dict[str, Any], instance_id: str) -> Run:
        clock = LinkedClock(self.arm.clock, self.scheduled)
        self.scheduled = []
        async with DurableHarness(self.index, clock=clock) as harness:
            started = clock.now()
            await harness.client().start_new(name, instance_id, payload)
            await harness.wait_for(instance_id, timeout_virtual=timedelta(days=2).total_seconds())
            status = await harness.engine.get_status(instance_id, show_history=True, show_history_output=True)
            assert status is not None
            children: dict[str, dict[str, Any]] = {}
            for child in await harness.engine.list_instances():
                if child["instanceId"] != instance_id:
                    full = await harness.engine.get_status(
                        child["instanceId"], show_history=True, show_history_output=True
                    )
                    assert full is not None
                    children[child["instanceId"]] = full
            return Run(status, harness.requested_timers(instance_id), started, children)

    def connect(self, linker_id: str, **policy: Any) -> Run:
        """Run `connect` for a linker whose desired state is in the registry."""
        return self.run(
            "connect",
            {"linkerId": linker_id, "operationId": uuid.uuid4().hex, "policy": {**POLICY, **policy}},
        )

    def reconcile(self, **policy: Any) -> Run:
        """Run one `reconcile` over the whole registry."""
        return self.run("reconcile", {"slot": "2026-01-01T00:00:00Z", "policy": {**POLICY, **policy}})

    def disconnect(self, linker_id: str, forced_cleanup: bool = False) -> Run:
        """Run `disconnect` for a linker."""
        payload = {
            "linkerId": linker_id,
            "operationId": uuid.uuid4().hex,
            "forcedCleanup": forced_cleanup,
            "policy": POLICY,
        }
        return self.run("disconnect", payload)


def secret_connection(
    name: str = "blob1", cluster: ClusterRef = REF_1, namespace: str = "default"
) -> Connection:
    """Secret auth on the demo storage account's blob service."""
    return Connection(
        linker_name=name,
        cluster=cluster,
        target_id=BLOB,
        target_kind="storage-blob",
        auth=SecretAuth(),
        client_type=ClientType.PYTHON,
        namespace=namespace,
    )


def identity_client_id(env: Env) -> str:
    """The demo identity's client id (generated by the emulator at seed time)."""
    from azure.mgmt.msi import ManagedServiceIdentityClient

    msi = env.arm.mgmt_client(ManagedServiceIdentityClient)
    return str(msi.user_assigned_identities.get("rg-demo", "id-demo-workload").client_id)


def workload_connection(env: Env, name: str = "blobwi", cluster: ClusterRef = REF_2) -> Connection:
    """Workload identity on the demo storage account's blob service."""
    return Connection(
        linker_name=name,
        cluster=cluster,
        target_id=BLOB,
        target_kind="storage-blob",
        auth=WorkloadIdentityAuth(
            client_id=identity_client_id(env), subscription_id=SUB, identity_resource_id=IDENTITY
        ),
        client_type=ClientType.PYTHON,
        namespace="apps",
    )


def keyvault_csi_connection(name: str = "kvcsi", cluster: ClusterRef = REF_1) -> Connection:
    """Key Vault through the CSI driver (the add-on's identity)."""
    return Connection(
        linker_name=name,
        cluster=cluster,
        target_id=KEYVAULT,
        target_kind="keyvault",
        key_vault_csi=True,
        auth=WorkloadIdentityAuth(),
        client_type=ClientType.NONE,
        namespace="default",
    )


def storage_key(env: Env, which: int = 0) -> str:
    """The demo storage account's current key."""
    from azure.mgmt.storage import StorageManagementClient

    storage = env.arm.mgmt_client(StorageManagementClient)
    listed = storage.storage_accounts.list_keys("rg-demo", "stdemo0001").as_dict()
    return str(listed["keys"][which]["value"])


def register_provider_now(env: Env) -> None:
    """Register Microsoft.KubernetesConfiguration out of band and let it settle."""
    from azure.mgmt.resource.resources import ResourceManagementClient

    env.arm.mgmt_client(ResourceManagementClient).providers.register("Microsoft.KubernetesConfiguration")
    env.arm.advance(120)


def issued_keys(arm_harness: ArmHarness) -> set[str]:
    """Every key the ARM emulator holds right now (storage keys, SAS keys, ...)."""
    state = arm_harness.emulator.state
    with state.lock:
        return {
            v
            for r in state.resources.values()
            for v in r.secrets.values()
            if isinstance(v, str) and len(v) >= 8
        }


@pytest.fixture(scope="session")
def app_index() -> FunctionIndex:
    """The real function_app, indexed once per process as the worker does."""
    return load_app("function_app")


@pytest.fixture
def env(
    arm: ArmHarness,  # noqa: F811
    kube_emulator: Any,  # noqa: F811
    azurite_connection_string: str,  # noqa: F811
    app_index: FunctionIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Env]:
    """Emulators reset and seeded with the demo; activity settings in the environment; a fresh registry."""
    arm.seed_demo()
    settings = {
        "ARM_ENDPOINT": arm.url,
        "ALLOWED_SCOPES": f"/subscriptions/{SUB}",
        "ARM_CA_BUNDLE": arm.ca_file,
        "ARM_STATIC_TOKEN": "local-emulator-token",
        "ARM_POLLING_INTERVAL_SECONDS": "0",
        "ARM_RETRY_TOTAL": "0",  # retries are the orchestrator's, on durable timers
        "AZURE_TENANT_ID": TENANT,
        "AzureWebJobsStorage": azurite_connection_string,
        "REGISTRY_TABLE": "orch" + uuid.uuid4().hex[:12],
        "SECRET_SEALING_KEY": base64.b64encode(os.urandom(32)).decode(),
        # No events queue: publish_outcome does nothing (tests that want events set one).
        "SERVICEBUS_EVENTS_QUEUE": "",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    waits: list[float] = []
    # Built from the environment, as get_clients() would; the sleeper records instead of sleeping.
    clients = Clients(Settings.from_env(), sleeper=waits.append)
    use_clients(clients)
    environment = Env(arm, EmulatorAdmin(kube_emulator.url, kube_emulator.ca_file), clients, app_index)
    environment.clear_journals()
    try:
        yield environment
    finally:
        use_clients(None)
