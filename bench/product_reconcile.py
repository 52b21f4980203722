"""Reconcile passes over many connections on many clusters, without and with drift.

Seeding, done directly (not through the product, which would take far longer than the pass it prepares):
- ARM: `clusters` AKS clusters in resource group rg-bench, each with sc-extension installed, and the
  Microsoft.KubernetesConfiguration provider Registered (one seed document, emulators/seeds/README.md).
- Kubernetes: per cluster `namespaces` namespaces and every connection's Secret exactly as the product renders
  it (`connector.manifests.build_secret` with the values `activities.target_values.resolve` returns, read
  once: every connection uses secret auth on the demo blob service), loaded through the kube emulator's
  in-process seed (no HTTP, no journal entry).
- Registry: one record per connection as the trigger writes it (desired state, hash, last operation), state
  Succeeded, through `activities.registry.put_record` from 16 threads.
Sizes grow in place: the 5,000 run adds 4,000 connections to the 1,000 already there.

A pass is `POST /api/reconcile`; it ends when that orchestration is terminal. Its figures come from the
emulators' journals (cleared before the pass) and from the task hub (the instances the pass wrote).
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from activities import registry
from activities.clients import get_clients
from activities.target_values import resolve
from bench.product_create import BLOB, SUB
from bench.product_stack import Stack, arm_calls, kube_calls, kube_lists, reads, writes
from bench.taskhub import TERMINAL, HistoryFigures, TaskHub
from connector import manifests, naming
from connector.model import ClusterRef, Connection, SecretAuth
from connector.vocabulary import ClientType
from emulators.arm import kube_key
from emulators.kube.kinds import SECRET

RESOURCE_GROUP = "rg-bench"
_SEED_THREADS = 16


@dataclass
class PassResult:
    """Figures of one reconcile pass."""

    connections: int
    clusters: int
    namespaces: int
    seconds: float
    timed_out: bool
    arm_reads: int
    kube_lists: int
    kube_reads: int
    writes: int
    history: HistoryFigures | None
    seed_seconds: float = 0.0
    drifted: int = 0
    repaired: int = 0
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ms_per_connection(self) -> float:
        """Pass time per connection, in milliseconds."""
        return self.seconds / self.connections * 1000 if self.connections else 0.0


def cluster_ref(index: int) -> ClusterRef:
    """The benchmark's cluster number `index`."""
    return ClusterRef(subscription_id=SUB, resource_group=RESOURCE_GROUP, name=f"aks-bench-{index:03d}")


class Fleet:
    """The benchmark's clusters and connections, seeded into the emulators and the registry."""

    def __init__(self, stack: Stack, clusters: int = 100, namespaces: int = 4) -> None:
        self.stack = stack
        self.clusters = clusters
        self.namespaces = namespaces
        self.size = 0
        self.over_budget = False  # a pass timed out: the engine may still be busy with it
        self._values: Any = None
        self._seed_arm_and_namespaces()

    def connection(self, index: int) -> Connection:
        """Connection number `index`: round-robin over clusters, then over each cluster's namespaces."""
        return Connection(
            linker_name=f"conn_{index:05d}",
            cluster=cluster_ref(index % self.clusters),
            target_id=BLOB,
            target_kind="storage-blob",
            auth=SecretAuth(),
            client_type=ClientType.PYTHON,
            namespace=f"ns-{(index // self.clusters) % self.namespaces}",
        )

    def rendered_secret(self, connection: Connection) -> dict[str, Any]:
        """The Secret the product would write for a connection now."""
        if self._values is None:
            self._values = resolve(connection, get_clients())
        values, kind = self._values
        return manifests.build_secret(connection, values, kind=kind)

    def _seed_arm_and_namespaces(self) -> None:
        extension = {
            "name": "sc-extension",
            "extensionType": "microsoft.servicelinker.connection",
            "releaseNamespace": "sc-system",
            "releaseTrain": "Stable",
            "autoUpgradeMinorVersion": True,
        }
        self.stack.arm.seed(
            {
                "subscriptions": [
                    {
                        "id": SUB,
                        "providers": {"Microsoft.KubernetesConfiguration": "Registered"},
                        "resourceGroups": [
                            {
                                "name": RESOURCE_GROUP,
                                "location": "eastus",
                                "clusters": [
                                    {
                                        "name": cluster_ref(i).name,
                                        "kubernetesVersion": "1.31.2",
                                        "extensions": [extension],
                                    }
                                    for i in range(self.clusters)
                                ],
                            }
                        ],
                    }
                ]
            }
        )
        namespaces = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{n}"}}
            for n in range(self.namespaces)
        ]
        self.stack.arm.kube.emulator.seed(
            {
                "clusters": [
                    {"key": kube_key(cluster_ref(i).id), "objects": namespaces} for i in range(self.clusters)
                ]
            }
        )

    def grow(self, total: int) -> float:
        """Seed connections up to `total` (Secrets and registry records); the seconds it took."""
        started = time.perf_counter()
        new = [self.connection(i) for i in range(self.size, total)]
        by_cluster: dict[str, list[dict[str, Any]]] = {}
        for connection in new:
            secret = self.rendered_secret(connection)
            by_cluster.setdefault(kube_key(connection.cluster.id), []).append(secret)
        self.stack.arm.kube.emulator.seed(
            {"clusters": [{"key": key, "objects": objects} for key, objects in by_cluster.items()]}
        )
        with ThreadPoolExecutor(max_workers=_SEED_THREADS) as pool:
            for _ in pool.map(_put_record, new):
                pass
        self.size = total
        return time.perf_counter() - started

    def drift(self, share: float = 0.01) -> list[Connection]:
        """Delete half of `share` of the Secrets and change a value in the other half; the drifted ones."""
        count = max(1, round(self.size * share))
        step = max(1, self.size // count)
        drifted = [self.connection(i) for i in range(0, self.size, step)][:count]
        store = self.stack.arm.kube.emulator.store
        for number, connection in enumerate(drifted):
            cluster = store.clusters[kube_key(connection.cluster.id)]
            name = naming.secret_name(connection.linker_name)
            if number % 2 == 0:
                store.delete(cluster, SECRET, connection.namespace, name)
            else:
                secret = self.rendered_secret(connection)
                first = sorted(secret["data"])[0]
                secret["data"][first] = "Y2hhbmdlZA=="  # "changed": a rotated or hand-edited key
                store.upsert(cluster, secret)
        return drifted

    def converged(self, connections: list[Connection]) -> int:
        """How many of the connections have their Secret on the cluster exactly as rendered."""
        store = self.stack.arm.kube.emulator.store
        count = 0
        for connection in connections:
            cluster = store.clusters[kube_key(connection.cluster.id)]
            try:
                found = store.get(
                    cluster, SECRET, connection.namespace, naming.secret_name(connection.linker_name)
                )
            except Exception:  # the emulator's 404
                continue
            wanted = manifests.content_hash(self.rendered_secret(connection))
            count += manifests.content_hash({**found, "kind": "Secret"}) == wanted
        return count


def _put_record(connection: Connection) -> None:
    desired_hash = connection.desired_hash()
    started = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    registry.put_record(
        {
            "linkerId": connection.linker_id,
            "clusterId": connection.cluster.id,
            "name": connection.linker_name,
            "desired": connection.to_stored(),
            "desiredHash": desired_hash,
            "provisioningState": "Succeeded",
            "generation": 1,
            "lastOperation": {
                "id": str(uuid.uuid4()),
                "kind": "connect",
                "desiredHash": desired_hash,
                "startTime": started,
            },
        }
    )


def _engine_time() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reconcile_pass(fleet: Fleet, timeout: float) -> PassResult:
    """One `POST /api/reconcile`, waited for (at most `timeout` seconds), and its figures."""
    stack = fleet.stack
    hub = TaskHub(stack.store_path)
    stack.clear_journals()
    since = _engine_time()
    started = time.perf_counter()
    status, headers, body = stack.http("POST", "/api/reconcile", {})
    if status != 202:
        raise RuntimeError(f"POST /api/reconcile answered {status}: {body}")
    instance_id = (
        str((body or {}).get("id") or "")
        or urlparse(headers["Azure-AsyncOperation"]).path.rstrip("/").rsplit("/", 1)[-1]
    )
    timed_out = False
    while hub.status(instance_id) not in TERMINAL:
        if time.perf_counter() - started > timeout:
            timed_out = True
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    arm, kube = arm_calls(stack), kube_calls(stack)
    output = hub.output(instance_id) if not timed_out else None
    return PassResult(
        connections=fleet.size,
        clusters=fleet.clusters,
        namespaces=fleet.namespaces,
        seconds=seconds,
        timed_out=timed_out,
        arm_reads=len(reads(arm)),
        kube_lists=len(kube_lists(kube)),
        kube_reads=len(reads(kube)),
        writes=len(writes(arm + kube)),
        history=hub.figures(hub.updated_since(since)),
        summary=output if isinstance(output, dict) else {},
    )


def run_sizes(fleet: Fleet, sizes: list[int], timeout: float, budget_end: float) -> list[PassResult]:
    """A no-drift pass at each size (ascending); once one runs over, the larger ones are not tried."""
    results = []
    for size in sorted(sizes):
        remaining = budget_end - time.monotonic()
        if remaining <= 0:
            break
        seed_seconds = fleet.grow(size)
        result = reconcile_pass(fleet, min(timeout, max(remaining, 1.0)))
        result.seed_seconds = seed_seconds
        results.append(result)
        if result.timed_out:
            fleet.over_budget = True
            break
    return results


def run_drift(fleet: Fleet, timeout: float, share: float = 0.01) -> PassResult:
    """Drift `share` of the Secrets, then one pass; repaired = drifted Secrets back as rendered."""
    drifted = fleet.drift(share)
    result = reconcile_pass(fleet, timeout)
    result.drifted = len(drifted)
    result.repaired = fleet.converged(drifted)
    return result


def _kb(value: int) -> str:
    return f"{value / 1024:.1f} KB"


def no_drift_table(results: list[PassResult], skipped: list[int]) -> str:
    """The no-drift passes as a Markdown table."""
    lines = [
        "| connections | clusters | time | per connection | t/t(smallest) | ARM reads per cluster "
        "| kube lists per namespace | writes | largest activity payload (bar < 45 KB) | largest history "
        "| seeding |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    base = next((r for r in results if not r.timed_out), None)
    for r in results:
        time_text = f"over budget (> {r.seconds:.0f} s)" if r.timed_out else f"{r.seconds:.1f} s"
        ratio = f"{r.seconds / base.seconds:.1f}" if base and not r.timed_out else "-"
        history = r.history
        payload = (
            f"{_kb(history.largest_activity_payload)} ({history.largest_activity_payload_name})"
            if history
            else "-"
        )
        longest = f"{history.largest_history} events" if history else "-"
        lines.append(
            f"| {r.connections:,} | {r.clusters} | {time_text} | {r.ms_per_connection:.1f} ms | {ratio} "
            f"| {r.arm_reads / r.clusters:.1f} | {r.kube_lists / (r.clusters * r.namespaces):.1f} "
            f"| {r.writes} "
            f"| {payload} | {longest} | {r.seed_seconds:.0f} s |"
        )
    for size in skipped:
        lines.append(f"| {size:,} | - | not run (a smaller size was over budget) | | | | | | | | |")
    if base and len(results) > 1 and not results[-1].timed_out:
        lines.append("")
        lines.append(
            f"t({results[-1].connections:,}) / t({base.connections:,}) = "
            f"{results[-1].seconds / base.seconds:.1f} (bar: <= "
            f"{1.2 * results[-1].connections / base.connections:.0f}, i.e. 1.2 x the size ratio)"
        )
    return "\n".join(lines)


def drift_table(result: PassResult | None, reason: str = "") -> str:
    """The drift pass as a Markdown table."""
    lines = [
        "| connections | drifted (Secrets deleted or changed) | repaired | writes | time | per connection |",
        "|---|---|---|---|---|---|",
    ]
    if result is None:
        lines.append(f"| - | not run: {reason} | | | | |")
        return "\n".join(lines)
    time_text = f"over budget (> {result.seconds:.0f} s)" if result.timed_out else f"{result.seconds:.1f} s"
    verdict = "ok" if result.repaired == result.drifted and result.writes == result.repaired else "NOT OK"
    lines.append(
        f"| {result.connections:,} | {result.drifted} | {result.repaired} ({verdict}) "
        f"| {result.writes} | {time_text} | {result.ms_per_connection:.1f} ms |"
    )
    return "\n".join(lines)
