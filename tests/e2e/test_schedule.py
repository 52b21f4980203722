"""The reconciliation timer: one reconciliation per slot, skipped while one runs, jitter within bounds."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.conftest import API, BLOB, CLUSTER, E2E
from triggers.schedule import RECONCILE_INSTANCE_ID, jitter_seconds, slot_of

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"


def _reconciles(e2e: E2E) -> list[dict[str, Any]]:
    instances = e2e.host.run(e2e.host.host.engine.list_instances())
    return [i for i in instances if i.get("name") == "reconcile"]


def _run_of(instance: dict[str, Any]) -> tuple[str, str, str]:
    """What tells one run from another: its id, its creation and its slot (not its progress)."""
    return instance["instanceId"], instance["createdTime"], instance["input"]["slot"]


def _fire_timer(e2e: E2E) -> None:
    """Run the timer function through the admin API; return once its invocation has returned."""
    status, _, _ = e2e.http(
        "POST", "/admin/functions/reconcile_timer", {"input": ""}, key=e2e.host.host.keys.master_key
    )
    assert status == 202
    e2e.host.run(e2e.host.host.http.drain())


def test_timer_starts_one_reconcile_per_slot_and_skips_while_one_runs(e2e: E2E) -> None:
    body = {
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "authInfo": {"authType": "secret"},
            "clientType": "python",
        }
    }
    _, headers, _ = e2e.http("PUT", f"{LINKERS}/timed?api-version={API}", body)
    while e2e.http("GET", headers["Azure-AsyncOperation"])[2]["status"] == "Accepted":
        time.sleep(0.1)
    # Observing the cluster is slow, so the first reconciliation is still running when the timer fires again.
    e2e.arm.admin.add_fault(r".*/managedClusters/aks-demo-1$", method="GET", latency=2.0, times=1)

    _fire_timer(e2e)
    [first] = _reconciles(e2e)
    _fire_timer(e2e)

    started = _reconciles(e2e)
    assert [_run_of(i) for i in started] == [_run_of(first)]  # neither a second instance nor a restart
    assert started[0]["instanceId"] == RECONCILE_INSTANCE_ID
    deadline = time.monotonic() + 30
    while _reconciles(e2e)[0]["runtimeStatus"] not in ("Completed", "Failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert _reconciles(e2e)[0]["runtimeStatus"] == "Completed"
    assert _reconciles(e2e)[0]["input"]["policy"]["backoffInitialSeconds"] == 0.2


def test_jitter_is_bounded_and_stable_per_host_and_slot() -> None:
    slot = slot_of(datetime(2026, 1, 1, 10, 0, 30, tzinfo=UTC))
    assert slot == "2026-01-01T10:00Z"
    delays = {jitter_seconds(slot, f"host-{n}", 60) for n in range(50)}
    assert all(0 <= d < 60 for d in delays)
    assert len(delays) > 40  # hosts spread out
    assert jitter_seconds(slot, "host-1", 60) == jitter_seconds(slot, "host-1", 60)
    assert jitter_seconds(slot, "host-1", 0) == 0


def test_a_slot_already_reconciled_is_not_started_again(e2e: E2E) -> None:
    # Two hosts fire for the same slot: the second one finds this slot's reconciliation, even finished.
    _fire_timer(e2e)
    [first] = _reconciles(e2e)
    deadline = time.monotonic() + 30
    while _reconciles(e2e)[0]["runtimeStatus"] != "Completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    finished = _reconciles(e2e)

    fired_in = {slot_of(datetime.now(UTC))}
    _fire_timer(e2e)
    fired_in.add(slot_of(datetime.now(UTC)))

    if fired_in != {first["input"]["slot"]}:
        pytest.skip("the minute turned between the two firings: the second was another slot's")
    assert _reconciles(e2e) == finished
