"""A reconcile over 2,000 connections in one cluster: payloads and histories stay bounded, reads stay fixed.

The registry and the cluster are seeded directly (records as the trigger writes them, Secrets rendered exactly
as the product renders them), so only the reconcile itself is measured.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client as k8s

from activities.passes import plan_connections
from activities.target_values import TargetCache, resolve
from connector import manifests, naming
from tests.orchestrations.conftest import CLUSTER_1, Env, register_provider_now, secret_connection

N = 2_000
DRIFTED = 20
LIMIT = 45 * 1024


def _seed(env: Env) -> list[str]:
    """N secret connections on aks-demo-1, each with its Secret in place (no drift)."""
    register_provider_now(env)
    first = env.put_connection(secret_connection("conn0000"))
    assert env.connect(first).output["provisioningState"] == "Succeeded"  # the extension is installed
    core = env.core()
    cache = TargetCache()
    ids = [first]
    for n in range(1, N):
        connection = secret_connection(f"conn{n:04d}")
        ids.append(env.put_connection(connection, state="Succeeded"))
        values, kind = resolve(connection, env.clients, cache=cache)
        body = manifests.build_secret(connection, values, kind=kind)
        core.create_namespaced_secret("default", body)
    return ids


def _largest_payload_in(history: list[dict[str, Any]]) -> int:
    sizes = [
        len(json.dumps(event.get(key))) for event in history for key in ("Input", "Result") if key in event
    ]
    return max(sizes, default=0)


@pytest.mark.slow
def test_two_thousand_connections_in_one_cluster_reconcile_within_bounded_payloads(env: Env) -> None:
    ids = _seed(env)
    for name in (f"conn{n:04d}" for n in range(1, DRIFTED + 1)):
        env.core().delete_namespaced_secret(naming.secret_name(name), "default")
    env.clear_journals()

    run = env.reconcile()

    assert run.output["connections"] == N, run.output
    assert (run.output["drifted"], run.output["repaired"], run.output["failed"]) == (DRIFTED, DRIFTED, 0)
    writes = env.writes()
    assert len(writes) == DRIFTED and all("/secrets/sc-conn" in w for w in writes), writes[:5]
    # Reads: the cluster and its extension once each, one Secret list for the namespace, the target once.
    arm_reads = [e for e in env.arm_calls() if e["method"] == "GET"]
    assert len(arm_reads) <= 4, [e["path"] for e in arm_reads]
    kube_lists = [e for e in env.kube_calls() if e["method"] == "GET" and e["path"].endswith("/secrets")]
    assert len(kube_lists) <= 2, len(kube_lists)  # the pass's list, and the orphan check's
    # Every payload that crossed an orchestration boundary is small, and no history grows with N.
    statuses = [run.status, *run.children.values()]
    assert max(_largest_payload_in(s.get("historyEvents") or []) for s in statuses) < LIMIT
    assert max(len(s.get("historyEvents") or []) for s in statuses) < 200
    for linker_id in ids[:: N // 50]:
        assert env.record(linker_id)["lastReconcileTime"]  # type: ignore[index]


@pytest.mark.slow
def test_a_page_where_every_connection_drifted_is_still_under_the_payload_limit(env: Env) -> None:
    register_provider_now(env)
    for n in range(200):
        env.put_connection(secret_connection(f"drift{n:03d}"), state="Succeeded")

    page = plan_connections(CLUSTER_1, clients=env.clients)

    assert len(page["planned"]) >= 40  # the whole page drifted (no Secret exists)
    assert len(json.dumps(page)) < LIMIT
    assert page["continuation"] is not None


def test_the_seeded_secret_is_what_the_product_renders(env: Env) -> None:
    """The seeding above is only valid if a directly created Secret reads as converged."""
    register_provider_now(env)
    first = env.put_connection(secret_connection("conn0000"))
    assert env.connect(first).output["provisioningState"] == "Succeeded"
    connection = secret_connection("seeded")
    env.put_connection(connection, state="Succeeded")
    values, kind = resolve(connection, env.clients, cache=TargetCache())
    k8s.CoreV1Api(env.core().api_client).create_namespaced_secret(
        "default", manifests.build_secret(connection, values, kind=kind)
    )
    env.clear_journals()

    run = env.reconcile()

    assert run.output["drifted"] == 0, run.output
    assert env.writes() == []
