"""Identical requests sent at once join the one operation they start; only a different request is refused.

A client that retries after a timeout sends the same request again while the first may still be in flight:
it must get the running operation (201/202 with the same Azure-AsyncOperation), not a spurious 409.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from emulators.common import EmulatorAdmin
from tests.e2e.conftest import API, CLUSTER, E2E, blob_secret_body

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
AT_ONCE = 5


def _all_at_once(e2e: E2E, method: str, path: str, body: Any = None) -> list[tuple[int, dict[str, str], Any]]:
    """`AT_ONCE` identical requests, released together from as many threads."""
    barrier = threading.Barrier(AT_ONCE)

    def send(_: int) -> tuple[int, dict[str, str], Any]:
        barrier.wait()
        return e2e.http(method, path, body)

    with ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(send, range(AT_ONCE)))


def _keep_operations_running(e2e: E2E) -> None:
    # The operation's first cluster read is slow, so it still runs while the requests race.
    e2e.arm.admin.add_fault(r".*/managedClusters/aks-demo-1$", method="GET", latency=2.0, times=1)


def test_identical_concurrent_puts_all_return_the_one_running_operation(e2e: E2E) -> None:
    _keep_operations_running(e2e)
    path = f"{LINKERS}/together?api-version={API}"

    answers = _all_at_once(e2e, "PUT", path, blob_secret_body())

    assert [status for status, _, _ in answers] == [201] * AT_ONCE, [body for _, _, body in answers]
    urls = {headers["Azure-AsyncOperation"] for _, headers, _ in answers}
    assert len(urls) == 1
    different = e2e.http("PUT", path, blob_secret_body("dotnet"))
    assert different[0] == 409
    assert different[2]["error"]["code"] == "AnotherOperationInProgress"
    assert e2e.wait_operation(urls.pop())["status"] == "Succeeded"
    linker = e2e.http("GET", path)[2]
    assert linker["properties"]["clientType"] == "python"


def test_identical_concurrent_deletes_all_return_the_one_running_operation(e2e: E2E) -> None:
    path = f"{LINKERS}/gone?api-version=2024-04-01"
    body = blob_secret_body()
    body["properties"]["configurationInfo"] = {"deleteOrUpdateBehavior": "ForcedCleanup"}
    status, headers, answer = e2e.http("PUT", path, body)
    assert status == 201, answer
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"
    # The forced cleanup's Secret deletion is slow, so the delete still runs while the requests race.
    kube_admin = EmulatorAdmin(e2e.arm.kube.emulator.url, e2e.arm.kube.emulator.ca_file)
    kube_admin.add_fault(r".*/secrets/.*", method="DELETE", latency=2.0, times=1)

    answers = _all_at_once(e2e, "DELETE", path)

    assert [status for status, _, _ in answers] == [202] * AT_ONCE, [body for _, _, body in answers]
    urls = {headers["Azure-AsyncOperation"] for _, headers, _ in answers}
    assert len(urls) == 1
    assert e2e.wait_operation(urls.pop())["status"] == "Succeeded"
    assert e2e.http("GET", path)[0] == 404
