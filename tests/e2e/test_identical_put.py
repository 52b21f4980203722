"""Over HTTP, as a client sees it: a PUT that asks for nothing new changes nothing in Azure or the cluster."""

from __future__ import annotations

from tests.e2e.conftest import API, CLUSTER, E2E, blob_secret_body

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"


def test_an_identical_put_writes_nothing_to_azure_or_the_cluster(e2e: E2E) -> None:
    first = e2e.http("PUT", f"{LINKERS}/samebody?api-version={API}", blob_secret_body())
    assert e2e.wait_operation(first[1]["Azure-AsyncOperation"])["status"] == "Succeeded"
    e2e.arm.admin.clear_journal()
    e2e.arm.kube.link.clear_journal()

    again = e2e.http("PUT", f"{LINKERS}/samebody?api-version={API}", blob_secret_body())

    assert again[0] == 201
    assert e2e.wait_operation(again[1]["Azure-AsyncOperation"])["status"] == "Succeeded"
    calls = e2e.arm.admin.journal()["entries"] + e2e.arm.kube.link.journal()["entries"]
    assert calls, "the second PUT still observed the cluster"
    assert [f"{c['method']} {c['path']}" for c in calls if c["method"] in ("PUT", "PATCH", "DELETE")] == []
