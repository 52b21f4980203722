"""Create N connections through the HTTP API, against the floor: the same ARM and Kubernetes calls, direct.

Both demo clusters are made ready first (one connection each: provider registered, extension installed).
Then one more connection per cluster is created alone and the emulators' journals give its calls (the
*profile*: e.g. GET extension, GET cluster, GET target, POST listKeys, list Secrets, PATCH Secret).

- The floor replays the profile N times (the linker's Secret name and the namespace substituted; a namespace
  of its own, so its Secrets are not in the product's lists) with the product's own `Clients` (the same
  azure-mgmt and kubernetes clients, pipelines and caches), from `concurrency` threads.
- The product run PUTs N connections (secret auth, demo storage blob, alternating clusters, distinct names)
  from `concurrency` threads; each thread waits until its operation is terminal (read from the task hub, so
  polling costs the host nothing) before it sends the next.
Both are timed from the first request to the last terminal operation, in the same run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from azure.core.rest import HttpRequest
from kubernetes import client as k8s

from activities import registry
from activities.clients import Clients
from activities.settings import Settings
from activities.target_values import resolve
from bench.product_stack import Stack, arm_calls, kube_calls
from bench.taskhub import TERMINAL, TaskHub
from connector import manifests, naming
from connector.model import ClusterRef, Connection, SecretAuth
from connector.vocabulary import ClientType
from emulators.arm import kube_key

SUB = "00000000-0000-0000-0000-000000000001"
CLUSTERS = (
    ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-1"),
    ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-2"),
)
BLOB = (
    f"/subscriptions/{SUB}/resourceGroups/rg-demo/providers/Microsoft.Storage/storageAccounts/stdemo0001"
    "/blobServices/default"
)
API = "2022-05-01"
FLOOR_NAMESPACE = "bench-floor"
FIELD_MANAGER = "aks-service-connector"  # activities/kube_resources.py
APPLY = "application/apply-patch+yaml"
OPERATION_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class CreateResult:
    """Figures of one create run and its floor."""

    connections: int
    concurrency: int
    product_s: float
    floor_s: float
    succeeded: int
    profile: tuple[str, ...]  # "METHOD route" of one connection's calls, in order

    @property
    def ratio(self) -> float:
        """Product time over floor time."""
        return self.product_s / self.floor_s if self.floor_s > 0 else float("inf")

    @property
    def per_second(self) -> float:
        """Connections created per second through the product."""
        return self.connections / self.product_s


def blob_body() -> dict[str, Any]:
    """A PUT body: secret auth on the demo storage account's blob service."""
    return {
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "authInfo": {"authType": "secret"},
            "clientType": "python",
            "scope": "default",
        }
    }


def linker_path(cluster: ClusterRef, name: str) -> str:
    """The ARM path of a linker on a cluster, with the api-version."""
    return f"{cluster.id}/providers/Microsoft.ServiceLinker/linkers/{name}?api-version={API}"


def put_and_wait(stack: Stack, hub: TaskHub, cluster: ClusterRef, name: str, body: dict[str, Any]) -> str:
    """PUT one linker and wait until its operation is terminal; the operation id (= orchestration id)."""
    status, headers, answer = stack.http("PUT", linker_path(cluster, name), body)
    if status not in (200, 201):
        raise RuntimeError(f"PUT {name} answered {status}: {answer}")
    operation_id = urlparse(headers["Azure-AsyncOperation"]).path.rstrip("/").rsplit("/", 1)[-1]
    deadline = time.monotonic() + OPERATION_TIMEOUT_S
    while hub.status(operation_id) not in TERMINAL:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"operation {operation_id} of {name} still running after {OPERATION_TIMEOUT_S} s"
            )
        time.sleep(0.02)
    return operation_id


def _profile(stack: Stack, hub: TaskHub, cluster: ClusterRef, name: str) -> list[dict[str, Any]]:
    stack.clear_journals()
    put_and_wait(stack, hub, cluster, name, blob_body())
    return arm_calls(stack) + kube_calls(stack)


class FloorReplay:
    """Issues one connection's recorded calls directly, with the product's clients."""

    def __init__(
        self, clients: Clients, profiles: dict[str, list[dict[str, Any]]], profile_names: dict[str, str]
    ) -> None:
        self.clients = clients
        self.profiles = profiles
        self.profile_names = profile_names
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _secret(self, connection: Connection) -> dict[str, Any]:
        with self._lock:
            if "blob" not in self._values:
                self._values["blob"] = resolve(connection, self.clients)
        values, kind = self._values["blob"]
        return manifests.build_secret(connection, values, kind=kind)

    def _arm(self, cluster: ClusterRef, entry: dict[str, Any]) -> None:
        route = str(entry.get("route") or "")
        if route == "managedCluster" and entry["method"] == "GET":
            self.clients.container_service(SUB).managed_clusters.get(cluster.resource_group, cluster.name)
        elif route == "extension" and entry["method"] == "GET":
            self.clients.extensions(SUB).extensions.get(
                cluster.resource_group,
                "Microsoft.ContainerService",
                "managedClusters",
                cluster.name,
                "sc-extension",
            )
        else:
            request = HttpRequest(entry["method"], entry["path"], params={"api-version": entry["apiVersion"]})
            self.clients.resources(SUB).send_request(request).raise_for_status()

    def _kube(self, connection: Connection, entry: dict[str, Any], original: str) -> None:
        core = k8s.CoreV1Api(self.clients.kube(connection.cluster))
        route = str(entry.get("route") or "")
        method = str(entry["method"]).upper()
        name = naming.secret_name(connection.linker_name)
        namespace = connection.namespace
        if method == "GET" and route.endswith("/secrets"):
            core.list_namespaced_secret(
                namespace, label_selector=naming.managed_by_selector(), _preload_content=False
            )
        elif method == "GET" and route.endswith("/serviceaccounts"):
            core.list_namespaced_service_account(
                namespace, label_selector=naming.managed_by_selector(), _preload_content=False
            )
        elif method == "GET" and route.endswith("/secrets/{name}"):
            core.read_namespaced_secret(name, namespace, _preload_content=False)
        elif method == "PATCH" and route.endswith("/secrets/{name}"):
            core.patch_namespaced_secret(
                name,
                namespace,
                self._secret(connection),
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type=APPLY,
                _preload_content=False,
            )
        else:
            raise NotImplementedError(f"the floor cannot replay {method} {route} (seen for {original})")

    def one(self, index: int) -> None:
        """Replay the profile for floor connection `index`."""
        cluster = CLUSTERS[index % len(CLUSTERS)]
        connection = floor_connection(cluster, f"floor_{index:05d}")
        for entry in self.profiles[cluster.name]:
            if entry["path"].startswith("/clusters/"):
                self._kube(connection, entry, self.profile_names[cluster.name])
            else:
                self._arm(cluster, entry)


def floor_connection(cluster: ClusterRef, name: str) -> Connection:
    """A secret-auth blob connection in the floor's namespace."""
    return Connection(
        linker_name=name,
        cluster=cluster,
        target_id=BLOB,
        target_kind="storage-blob",
        auth=SecretAuth(),
        client_type=ClientType.PYTHON,
        namespace=FLOOR_NAMESPACE,
    )


def _timed(count: int, concurrency: int, one: Callable[[int], Any]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(one, range(count)):
            pass
    return time.perf_counter() - started


def run(stack: Stack, connections: int = 500, concurrency: int = 20) -> CreateResult:
    """Warm up, profile, time the floor, then time the product; on a freshly started stack."""
    hub = TaskHub(stack.store_path)
    for number, cluster in enumerate(CLUSTERS, 1):
        put_and_wait(stack, hub, cluster, f"warmup_{number}", blob_body())
    profile_names = {c.name: f"profile_{n}" for n, c in enumerate(CLUSTERS, 1)}
    profiles = {c.name: _profile(stack, hub, c, profile_names[c.name]) for c in CLUSTERS}
    for cluster in CLUSTERS:
        k8s.CoreV1Api(stack.arm.kube.client_for(kube_key(cluster.id))).create_namespace(
            k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=FLOOR_NAMESPACE))
        )
    floor = FloorReplay(Clients(Settings.from_env()), profiles, profile_names)
    for warm in range(len(CLUSTERS)):  # client construction and credentials, as the product's are warm
        floor.one(connections + warm)
    floor_s = _timed(connections, concurrency, floor.one)

    def product_one(index: int) -> str:
        return put_and_wait(stack, hub, CLUSTERS[index % len(CLUSTERS)], f"bench_{index:05d}", blob_body())

    operations: list[str] = []
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        operations = list(pool.map(product_one, range(connections)))
    product_s = time.perf_counter() - started
    succeeded = sum(
        1
        for cluster in CLUSTERS
        for record in registry.list_by_cluster(cluster.id)
        if str(record.get("name") or "").startswith("bench_")
        and record.get("provisioningState") == "Succeeded"
    )
    del operations
    profile = tuple(f"{e['method']} {e.get('route') or e['path']}" for e in profiles[CLUSTERS[0].name])
    return CreateResult(connections, concurrency, product_s, floor_s, succeeded, profile)


def table(result: CreateResult) -> str:
    """The figures as a Markdown table."""
    bar = "ok" if result.ratio <= 1.25 else "over 1.25"
    return "\n".join(
        [
            "| connections | client threads | product | floor | ratio (bar <= 1.25) | connections/s "
            "| Succeeded |",
            "|---|---|---|---|---|---|---|",
            f"| {result.connections} | {result.concurrency} | {result.product_s:.1f} s "
            f"| {result.floor_s:.1f} s "
            f"| {result.ratio:.2f} ({bar}) | {result.per_second:.1f} | {result.succeeded} |",
            "",
            f"Floor per connection ({len(result.profile)} calls, from the journals): "
            + ", ".join(result.profile),
        ]
    )
