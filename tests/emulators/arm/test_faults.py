# mypy: disable-error-code="union-attr, index, operator, no-untyped-call"
# (SDK models type every field Optional and the kubernetes client is untyped; these tests assert on both.)
"""Fault rules, throttling (429 honoured via Retry-After by the SDK's retry policy), the call journal."""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.fixtures.arm import ArmHarness

KC = "Microsoft.KubernetesConfiguration"
PROVIDER_PATH = r"/providers/Microsoft\.KubernetesConfiguration$"


@pytest.fixture
def seeded(arm: ArmHarness) -> ArmHarness:
    arm.seed_demo()
    arm.admin.clear_journal()
    return arm


def test_status_rule_fires_n_times_and_the_sdk_retries_through_it(seeded: ArmHarness) -> None:
    seeded.admin.add_fault(PROVIDER_PATH, method="GET", status=503, times=2)
    client = seeded.mgmt_client(ResourceManagementClient, retry_total=3, retry_backoff_factor=0)
    assert client.providers.get(KC).registration_state == "NotRegistered"
    statuses = [e["status"] for e in seeded.admin.journal()["entries"]]
    assert statuses == [503, 503, 200]


def test_status_rule_with_arm_error_body_reaches_the_caller(seeded: ArmHarness) -> None:
    body = {"error": {"code": "InternalServerError", "message": "boom"}}
    seeded.admin.add_fault(PROVIDER_PATH, status=500, body=body, times=1)
    with pytest.raises(HttpResponseError) as err:
        seeded.mgmt_client(ResourceManagementClient).providers.get(KC)
    assert err.value.status_code == 500 and err.value.error.code == "InternalServerError"


def test_probability_rule_with_a_seeded_rng_is_repeatable(seeded: ArmHarness) -> None:
    client = seeded.mgmt_client(ResourceManagementClient)

    def outcomes() -> list[bool]:
        seeded.admin.clear_faults()
        seeded.admin.add_fault(PROVIDER_PATH, status=500, probability=0.5, seed=7)
        results = []
        for _ in range(12):
            try:
                client.providers.get(KC)
                results.append(True)
            except HttpResponseError:
                results.append(False)
        return results

    first = outcomes()
    assert first == outcomes()
    assert True in first and False in first


def test_drop_rule_closes_the_connection(seeded: ArmHarness) -> None:
    seeded.admin.add_fault(PROVIDER_PATH, drop=True, times=1)
    with pytest.raises((ServiceResponseError, ServiceRequestError)):
        seeded.mgmt_client(ResourceManagementClient).providers.get(KC)
    assert seeded.admin.journal()["entries"][0]["status"] == 0


def test_latency_rule_delays_and_proceeds(seeded: ArmHarness) -> None:
    seeded.admin.add_fault(PROVIDER_PATH, latency=0.2, times=1)
    started = time.monotonic()
    assert seeded.mgmt_client(ResourceManagementClient).providers.get(KC).namespace == KC
    assert time.monotonic() - started >= 0.2
    assert seeded.admin.journal()["entries"][0]["durationMs"] >= 200


def test_throttling_429_is_honoured_through_retry_after_by_the_sdk(seeded: ArmHarness) -> None:
    seeded.admin.call(
        "POST", "/arm/throttle", {"reads": 2, "writes": 5, "refillPerSecond": 1, "retryAfter": 1}
    )
    headers: list[dict[str, str]] = []

    def hook(response: Any) -> None:
        headers.append(dict(response.http_response.headers))

    client = seeded.mgmt_client(
        ResourceManagementClient, retry_total=2, retry_backoff_factor=0, raw_response_hook=hook
    )
    client.providers.get(KC)
    client.providers.get(KC)
    started = time.monotonic()
    assert client.providers.get(KC).namespace == KC  # 429 first, then the SDK waits Retry-After and retries
    assert time.monotonic() - started >= 0.9
    entries = seeded.admin.journal()["entries"]
    assert [e["status"] for e in entries] == [200, 200, 429, 200]
    assert all("x-ms-ratelimit-remaining-subscription-reads" in h for h in headers)
    # Writes have their own bucket.
    assert client.providers.register(KC).registration_state == "Registering"
    seeded.admin.call("DELETE", "/arm/throttle")


def test_throttled_response_carries_retry_after_and_arm_code(seeded: ArmHarness) -> None:
    seeded.admin.call(
        "POST", "/arm/throttle", {"reads": 0, "writes": 0, "refillPerSecond": 0, "retryAfter": 1}
    )
    with pytest.raises(HttpResponseError) as err:
        seeded.mgmt_client(ResourceManagementClient).providers.get(KC)
    assert err.value.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    assert err.value.error.code == "SubscriptionRequestsThrottled"


def test_journal_counts_requests_per_route(seeded: ArmHarness) -> None:
    client = seeded.mgmt_client(ResourceManagementClient)
    client.providers.get(KC)
    client.providers.get("Microsoft.Storage")
    client.resource_groups.get("rg-demo")
    counters = seeded.admin.journal()["counters"]
    assert counters == {"GET provider": 2, "GET resourceGroup": 1}
