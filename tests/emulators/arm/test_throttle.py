# mypy: disable-error-code="union-attr, no-untyped-call"
"""ARM's token bucket throttling in the emulator: documented figures, per principal, on the emulator clock."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resource.resources import ResourceManagementClient

from emulators.arm.throttle import Throttle
from tests.fixtures.arm import ArmHarness, StaticTokenCredential

KC = "Microsoft.KubernetesConfiguration"


@pytest.fixture
def throttled(arm: ArmHarness) -> ArmHarness:
    arm.seed_demo()
    arm.admin.call("POST", "/arm/throttle", {"preset": "arm", "clock": "emulator"})
    arm.admin.clear_journal()
    return arm


def _reads_until_throttled(
    client: ResourceManagementClient, limit: int = 400
) -> tuple[int, HttpResponseError]:
    for done in range(limit):
        try:
            client.providers.get(KC)
        except HttpResponseError as exc:
            return done, exc
    raise AssertionError(f"{limit} reads were never throttled")


def test_the_arm_preset_is_the_documented_token_bucket(throttled: ArmHarness) -> None:
    described = throttled.admin.call("GET", "/arm/throttle")
    assert {k: described[k] for k in ("reads", "readsPerSecond", "writes", "writesPerSecond")} == {
        "reads": 250,
        "readsPerSecond": 25,
        "writes": 200,
        "writesPerSecond": 10,
    }
    assert described["deletes"] == 200 and described["deletesPerSecond"] == 10
    assert described["perPrincipal"] is True and described["clock"] == "emulator"


def test_reads_burst_to_250_then_refill_25_per_second_of_emulator_time(throttled: ArmHarness) -> None:
    client = throttled.mgmt_client(ResourceManagementClient)
    done, refused = _reads_until_throttled(client)
    assert done == 250
    assert refused.status_code == 429 and refused.error.code == "SubscriptionRequestsThrottled"
    assert refused.response.headers["Retry-After"] == "1"  # one token is back within a second at 25/s

    throttled.advance(2)  # 2 s of emulator time: 50 tokens, no real waiting
    done, _ = _reads_until_throttled(client)
    assert done == 50


def test_writes_have_their_own_bucket_of_200_refilling_10_per_second(throttled: ArmHarness) -> None:
    client = throttled.mgmt_client(ResourceManagementClient)
    _reads_until_throttled(client)  # reads exhausted; writes untouched
    for _ in range(200):
        client.providers.register(KC)
    with pytest.raises(HttpResponseError) as refused:
        client.providers.register(KC)
    assert refused.value.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "1"
    throttled.advance(1)
    for _ in range(10):
        client.providers.register(KC)
    with pytest.raises(HttpResponseError):
        client.providers.register(KC)


def test_each_principal_has_its_own_buckets(throttled: ArmHarness) -> None:
    _reads_until_throttled(throttled.mgmt_client(ResourceManagementClient))
    other = throttled.mgmt_client(ResourceManagementClient, credential=StaticTokenCredential("another-app"))
    assert other.providers.get(KC).namespace == KC


def test_remaining_tokens_are_reported_in_the_ratelimit_header(throttled: ArmHarness) -> None:
    headers: list[str] = []
    client = throttled.mgmt_client(
        ResourceManagementClient,
        raw_response_hook=lambda r: headers.append(
            r.http_response.headers["x-ms-ratelimit-remaining-subscription-reads"]
        ),
    )
    client.providers.get(KC)
    client.providers.get(KC)
    assert headers == ["249", "248"]


def test_retry_after_is_the_time_until_a_token_is_back() -> None:
    now = [0.0]
    throttle = Throttle(emulator_now=lambda: now[0])
    throttle.configure({"preset": "arm", "clock": "emulator", "writes": 1, "writesPerSecond": 0.25})
    assert throttle.spend("s", "writes", "p")[0]
    assert throttle.spend("s", "writes", "p") == (False, 0, 4)
    now[0] += 3
    assert throttle.spend("s", "writes", "p") == (False, 0, 1)
    now[0] += 1
    assert throttle.spend("s", "writes", "p")[0]


def test_a_malformed_throttle_body_is_refused(arm: ArmHarness) -> None:
    from emulators.common import AdminCallError

    for body in ({"preset": "azure"}, {"readz": 3}, {"clock": "wall"}, {"reads": -1}):
        with pytest.raises(AdminCallError) as refused:
            arm.admin.call("POST", "/arm/throttle", body)
        assert refused.value.status == 400
