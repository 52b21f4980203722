"""One reconciliation at a time, over HTTP on DevHost: `POST /api/reconcile` and the timer share a singleton.

A request while a reconciliation runs is given the running one (same operation id, `alreadyRunning: true`);
concurrent requests start exactly one; a timer firing meanwhile starts nothing; a finished one starts again.
Assertions read the engine's instance list. A reconciliation is held unfinished by suspending it (a 1 s ARM
latency on the cluster read keeps it from ending before the suspend arrives), not by sleeping.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.e2e.conftest import API, BLOB, CLUSTER, E2E
from triggers.schedule import RECONCILE_INSTANCE_ID

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
CLUSTER_READ = r".*/managedClusters/aks-demo-1$"


def _connect(e2e: E2E, name: str) -> None:
    body = {
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "authInfo": {"authType": "secret"},
            "clientType": "python",
        }
    }
    status, headers, answer = e2e.http("PUT", f"{LINKERS}/{name}?api-version={API}", body)
    assert status == 201, answer
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"


def _reconciles(e2e: E2E) -> list[dict[str, Any]]:
    instances = e2e.host.run(e2e.host.host.engine.list_instances())
    return [i for i in instances if i.get("name") == "reconcile"]


def _post_reconcile(e2e: E2E) -> tuple[int, dict[str, str], Any]:
    return e2e.http("POST", "/api/reconcile")


def _fire_timer_and_wait(e2e: E2E) -> None:
    """Run the timer function through the admin API and wait until its invocation has returned."""
    status, _, _ = e2e.http(
        "POST", "/admin/functions/reconcile_timer", {"input": ""}, key=e2e.host.host.keys.master_key
    )
    assert status == 202
    e2e.host.run(e2e.host.host.http.drain())


def _hold(e2e: E2E, instance_id: str) -> None:
    e2e.host.run(e2e.host.host.engine.suspend(instance_id, "held by the test"))


def _release(e2e: E2E, instance_id: str) -> None:
    e2e.host.run(e2e.host.host.engine.resume(instance_id, "released by the test"))


def test_requests_and_the_timer_while_a_reconcile_runs_get_the_running_operation(e2e: E2E) -> None:
    _connect(e2e, "single1")
    e2e.arm.admin.add_fault(CLUSTER_READ, method="GET", latency=1.0, times=1)
    status, headers, first = _post_reconcile(e2e)
    assert status == 202 and first["alreadyRunning"] is False
    operation = first["id"]
    _hold(e2e, operation)
    [running] = _reconciles(e2e)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: _post_reconcile(e2e), range(2)))
    _fire_timer_and_wait(e2e)

    for status, answer_headers, body in answers:
        assert status == 202
        assert body["id"] == operation and body["alreadyRunning"] is True
        assert answer_headers["Azure-AsyncOperation"] == headers["Azure-AsyncOperation"]
    assert _reconciles(e2e) == [running]  # no second instance, the running one neither replaced nor restarted
    assert running["input"]["slot"] == "manual"  # the timer's slot never started

    _release(e2e, operation)
    done = e2e.wait_operation(headers["Azure-AsyncOperation"], timeout=60)
    assert done["status"] == "Succeeded" and done["properties"]["connections"] == 1

    # A finished reconciliation is started again by the next request: a new run under the same operation.
    status, _, again = _post_reconcile(e2e)
    assert status == 202 and again == {**first, "alreadyRunning": False}
    assert e2e.wait_operation(headers["Azure-AsyncOperation"], timeout=60)["status"] == "Succeeded"
    [rerun] = _reconciles(e2e)
    assert rerun["createdTime"] >= running["createdTime"] and rerun["runtimeStatus"] == "Completed"


def test_concurrent_requests_with_none_running_start_exactly_one(e2e: E2E) -> None:
    _connect(e2e, "single2")
    # The first reconciliation's cluster read takes 2 s: it is still running when the other requests land.
    e2e.arm.admin.add_fault(CLUSTER_READ, method="GET", latency=2.0, times=1)
    started = time.monotonic()

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: _post_reconcile(e2e), range(4)))

    assert time.monotonic() - started < 2.0, "the requests did not all land while the first one ran"
    assert [status for status, _, _ in answers] == [202] * 4
    assert {body["id"] for _, _, body in answers} == {RECONCILE_INSTANCE_ID}
    assert sorted(body["alreadyRunning"] for _, _, body in answers) == [False, True, True, True]
    [only] = _reconciles(e2e)
    assert e2e.wait_operation(answers[0][1]["Azure-AsyncOperation"], timeout=60)["status"] == "Succeeded"
    assert _reconciles(e2e)[0]["createdTime"] == only["createdTime"]  # one run, never replaced


def test_a_timer_firing_while_a_manual_reconcile_runs_is_skipped(e2e: E2E) -> None:
    _connect(e2e, "single3")
    e2e.arm.admin.add_fault(CLUSTER_READ, method="GET", latency=1.0, times=1)
    _, headers, manual = _post_reconcile(e2e)
    _hold(e2e, manual["id"])
    [before] = _reconciles(e2e)

    _fire_timer_and_wait(e2e)

    assert _reconciles(e2e) == [before]
    _release(e2e, manual["id"])
    assert e2e.wait_operation(headers["Azure-AsyncOperation"], timeout=60)["status"] == "Succeeded"
    assert _reconciles(e2e)[0]["input"]["slot"] == "manual"
