"""Fault rules (N times, probability, dropped connections, latency) and the call journal, via the client."""

# mypy: disable-error-code="union-attr, index, arg-type, operator"
# (the kubernetes models declare every field Optional; these tests assert the emulator fills them)

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import urllib3
from kubernetes import client

from emulators.common import AdminCallError
from tests.fixtures.kube import KubeHarness

from .helpers import BUILT_IN_NAMESPACES, meta, namespace_names, status_of

SECRETS_ROUTE = "GET /clusters/{cluster}/api/v1/namespaces/{namespace}/secrets"


def test_fault_answers_n_times_then_the_real_handler(core: client.CoreV1Api, harness: KubeHarness) -> None:
    rule = harness.link.add_fault("/secrets$", method="GET", status=503, times=2)
    for _ in range(2):
        status = status_of(lambda: core.list_namespaced_secret("apps"))
        assert (status["code"], status["reason"]) == (503, "ServiceUnavailable")
    assert core.list_namespaced_secret("apps").items == []
    core.create_namespaced_secret("apps", client.V1Secret(metadata=meta("s")))  # POST is not matched
    entries = [e for e in harness.link.journal()["entries"] if f"{e['method']} {e['route']}" == SECRETS_ROUTE]
    assert [(e["status"], e["fault"]) for e in entries] == [(503, rule["id"]), (503, rule["id"]), (200, None)]
    assert harness.link.faults()[0]["fired"] == 2


def test_fault_with_body_and_headers(core: client.CoreV1Api, harness: KubeHarness) -> None:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "code": 429,
        "reason": "TooManyRequests",
        "message": "slow down",
    }
    harness.link.add_fault("/namespaces/apps$", status=429, body=body, headers={"X-Hint": "7"}, times=1)
    with pytest.raises(client.ApiException) as info:
        core.read_namespace("apps")
    assert info.value.status == 429
    assert info.value.headers["X-Hint"] == "7"
    assert "slow down" in info.value.body


def test_client_retries_429_with_retry_after_on_its_own(core: client.CoreV1Api, harness: KubeHarness) -> None:
    # urllib3's default Retry (which the kubernetes client keeps) honours Retry-After on 413/429/503.
    harness.link.add_fault("/namespaces/apps$", status=429, headers={"Retry-After": "0"}, times=1)
    assert core.read_namespace("apps").metadata.name == "apps"
    statuses = [
        e["status"] for e in harness.link.journal()["entries"] if e["path"].endswith("/namespaces/apps")
    ]
    assert statuses[-2:] == [429, 200]


def _pattern(core: client.CoreV1Api, harness: KubeHarness, seed: int) -> list[int]:
    harness.link.clear_faults()
    harness.link.add_fault("/configmaps$", status=500, probability=0.5, seed=seed)
    outcomes = []
    for _ in range(24):
        try:
            core.list_namespaced_config_map("apps")
            outcomes.append(200)
        except client.ApiException as exc:
            outcomes.append(exc.status)
    return outcomes


def test_probability_is_reproducible_with_a_seed(core: client.CoreV1Api, harness: KubeHarness) -> None:
    first = _pattern(core, harness, seed=42)
    assert set(first) == {200, 500}
    assert _pattern(core, harness, seed=42) == first
    assert _pattern(core, harness, seed=7) != first


def test_dropped_connection_is_retried_by_the_client_for_get(
    core: client.CoreV1Api, harness: KubeHarness
) -> None:
    harness.link.add_fault("/namespaces/apps$", method="GET", drop=True, times=1)
    assert core.read_namespace("apps").metadata.name == "apps"  # urllib3 retried the idempotent GET
    statuses = [
        e["status"] for e in harness.link.journal()["entries"] if e["path"].endswith("/namespaces/apps")
    ]
    assert statuses[-2:] == [0, 200]


def test_dropped_connection_fails_a_post(core: client.CoreV1Api, harness: KubeHarness) -> None:
    harness.link.add_fault("/secrets$", method="POST", drop=True)
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.create_namespaced_secret("apps", client.V1Secret(metadata=meta("s")))
    harness.link.clear_faults()
    with pytest.raises(client.ApiException):
        core.read_namespaced_secret("s", "apps")  # nothing was written


def test_latency_delays_then_answers_normally(core: client.CoreV1Api, harness: KubeHarness) -> None:
    harness.link.add_fault("/serviceaccounts$", latency=0.15, times=1)
    started = time.monotonic()
    assert core.list_namespaced_service_account("apps").items == []
    assert time.monotonic() - started >= 0.15
    entry = harness.link.journal()["entries"][-1]
    assert entry["status"] == 200 and entry["durationMs"] >= 150


def test_journal_counts_per_route_and_skips_admin_calls(core: client.CoreV1Api, harness: KubeHarness) -> None:
    harness.link.clear_journal()
    for _ in range(3):
        core.list_namespaced_secret("apps")
    core.read_namespace("apps")
    harness.link.register_cluster("c1")
    journal = harness.link.journal()
    assert journal["counters"] == {
        SECRETS_ROUTE: 3,
        "GET /clusters/{cluster}/api/v1/namespaces/{name}": 1,
    }
    assert {e["extra"]["cluster"] for e in journal["entries"]} == {"c1"}
    harness.link.clear_journal()
    assert harness.link.journal() == {"entries": [], "counters": {}}


def test_reset_empties_clusters_and_clears_faults_but_keeps_tokens(
    core: client.CoreV1Api, harness: KubeHarness
) -> None:
    harness.link.add_fault("/secrets", status=500)
    harness.link.reset()
    assert harness.link.faults() == []
    assert namespace_names(core) == BUILT_IN_NAMESPACES  # the same client (and token) still works
    assert core.list_secret_for_all_namespaces().items == []


def test_malformed_fault_rules_are_refused(harness: KubeHarness) -> None:
    with pytest.raises(AdminCallError) as info:
        harness.link.call("POST", "/faults", {"path": "/x"})
    assert info.value.status == 400 and "needs status, drop or latency" in info.value.body
    with pytest.raises(AdminCallError):
        harness.link.add_fault("/x", status=500, probability=2)


def test_creation_timestamps_follow_the_virtual_clock(core: client.CoreV1Api, harness: KubeHarness) -> None:
    before = core.create_namespaced_config_map("apps", client.V1ConfigMap(metadata=meta("a")))
    now = harness.link.advance_clock(3600)
    after = core.create_namespaced_config_map("apps", client.V1ConfigMap(metadata=meta("b")))
    gap = after.metadata.creation_timestamp - before.metadata.creation_timestamp
    assert gap.total_seconds() == 3600
    assert after.metadata.creation_timestamp == datetime.fromtimestamp(int(now), tz=UTC)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (403, "Forbidden"),
        (409, "Conflict"),
        (429, "TooManyRequests"),
        (500, "InternalError"),
        (504, "Timeout"),
    ],
)
def test_injected_faults_answer_a_status_with_the_matching_reason(
    core: client.CoreV1Api, harness: KubeHarness, code: int, reason: str
) -> None:
    harness.link.add_fault("/secrets/s$", status=code, times=1)
    status = status_of(lambda: core.read_namespaced_secret("s", "apps"))
    assert (status["code"], status["reason"]) == (code, reason)
