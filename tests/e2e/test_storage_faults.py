"""The registry's store fails: stopped, restarted, hung or emptied. The API answers 503 with Retry-After
within the registry timeout, and the first call after the store is back succeeds, over real HTTP on DevHost.

Each test has its own Azurite keeping its data in a folder, so a restart by PID loses nothing (as a real
storage account's outage would not); DevHost's task hub is in memory and does not depend on it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

from emulators.azurite import Azurite
from tests.e2e.conftest import API, CLUSTER, E2E, blob_secret_body

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
REGISTRY_TIMEOUT = 2.0


@pytest.fixture
def own_azurite(tmp_path: Path) -> Iterator[Azurite]:
    """An Azurite for this test only, persisting to a folder (so it can be stopped and restarted)."""
    folder = tmp_path / "azurite"
    folder.mkdir()
    with Azurite(location=folder) as running:
        yield running


@pytest.fixture
def azurite_connection_string(own_azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> str:
    """The e2e fixture's storage is this test's Azurite, with a short registry timeout."""
    monkeypatch.setenv("REGISTRY_TIMEOUT_SECONDS", str(REGISTRY_TIMEOUT))
    return own_azurite.connection_string


def _assert_unavailable(answer: tuple[int, dict[str, str], Any]) -> None:
    status, headers, body = answer
    assert status == 503, (status, body)
    assert int(headers["Retry-After"]) >= 1
    assert body["error"]["code"] == "RegistryUnavailable"
    assert set(body["error"]) >= {"code", "message", "target", "details"}


def _put_and_finish(e2e: E2E, name: str) -> None:
    status, headers, body = e2e.http("PUT", f"{LINKERS}/{name}?api-version={API}", blob_secret_body())
    assert status == 201, body
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"


def test_a_stopped_store_answers_503_and_the_next_call_after_its_restart_succeeds(
    e2e: E2E, own_azurite: Azurite
) -> None:
    _put_and_finish(e2e, "before")
    own_azurite.stop()

    _assert_unavailable(e2e.http("PUT", f"{LINKERS}/during?api-version={API}", blob_secret_body()))
    _assert_unavailable(e2e.http("GET", f"{LINKERS}?api-version={API}"))

    own_azurite.start()  # same ports, same folder
    listed = e2e.http("GET", f"{LINKERS}?api-version={API}")
    assert listed[0] == 200, listed
    assert [item["name"] for item in listed[2]["value"]] == ["before"]
    _put_and_finish(e2e, "after")


def test_a_restarted_store_that_lost_the_table_gets_it_created_again(e2e: E2E, own_azurite: Azurite) -> None:
    _put_and_finish(e2e, "before")
    # What an in-memory store's restart does: the table the product created and cached is gone.
    service = TableServiceClient.from_connection_string(own_azurite.connection_string)
    service.delete_table(os.environ["REGISTRY_TABLE"])

    listed = e2e.http("GET", f"{LINKERS}?api-version={API}")
    assert (listed[0], listed[2]["value"]) == (200, [])
    _put_and_finish(e2e, "after")
    assert e2e.http("GET", f"{LINKERS}/after?api-version={API}")[0] == 200


def test_a_hung_store_answers_503_within_the_registry_timeout(e2e: E2E, own_azurite: Azurite) -> None:
    _put_and_finish(e2e, "before")
    own_azurite.pause()
    try:
        started = time.monotonic()
        answer = e2e.http("PUT", f"{LINKERS}/during?api-version={API}", blob_secret_body())
        elapsed = time.monotonic() - started
    finally:
        own_azurite.resume()

    _assert_unavailable(answer)
    # One attempt, bounded by the timeout (plus the time an HTTP round trip and a 503 take).
    assert elapsed < REGISTRY_TIMEOUT + 1.5, elapsed
    _put_and_finish(e2e, "after")


def test_an_operation_rides_out_a_store_outage_and_completes_when_it_is_back(
    e2e: E2E, own_azurite: Azurite, caplog: pytest.LogCaptureFixture
) -> None:
    # The first cluster read is slow: the store goes away while the operation runs, before it records its end.
    e2e.arm.admin.add_fault(r".*/managedClusters/aks-demo-1$", method="GET", latency=1.0, times=1)
    status, headers, body = e2e.http("PUT", f"{LINKERS}/outage?api-version={API}", blob_secret_body())
    assert status == 201, body
    own_azurite.stop()
    # The store is back only once an activity of this operation has failed on it (and is to be retried).
    deadline = time.monotonic() + 30
    while not any("(activity Failed" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "no activity failed while the store was down"
        time.sleep(0.05)
    own_azurite.start()

    done = e2e.wait_operation(headers["Azure-AsyncOperation"])
    assert done["status"] == "Succeeded", done
    linker = e2e.http("GET", f"{LINKERS}/outage?api-version={API}")[2]
    assert linker["properties"]["provisioningState"] == "Succeeded"


def test_an_operation_status_is_read_while_the_store_hangs(e2e: E2E, own_azurite: Azurite) -> None:
    status, headers, body = e2e.http("PUT", f"{LINKERS}/statusread?api-version={API}", blob_secret_body())
    assert status == 201, body
    url = headers["Azure-AsyncOperation"]
    assert e2e.wait_operation(url)["status"] == "Succeeded"
    own_azurite.pause()
    try:
        answer = e2e.http("GET", url)
    finally:
        own_azurite.resume()

    assert answer[0] == 200, answer
    assert answer[2]["status"] == "Succeeded"
