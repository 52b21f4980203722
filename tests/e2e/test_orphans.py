"""A reconcile reports the Kubernetes objects labelled as ours that no registry record owns (`orphans`), and
removes them only when RECONCILE_REMOVE_ORPHANS opts in; over real HTTP on DevHost."""

from __future__ import annotations

from typing import Any

import pytest

from activities.registry import cluster_key
from tests.e2e.conftest import API, CLUSTER, E2E, blob_secret_body

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"


def _connect(e2e: E2E, name: str) -> None:
    status, headers, body = e2e.http("PUT", f"{LINKERS}/{name}?api-version={API}", blob_secret_body())
    assert status == 201, body
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"


def _reconcile(e2e: E2E) -> dict[str, Any]:
    status, headers, _ = e2e.http("POST", "/api/reconcile")
    assert status == 202
    done = e2e.wait_operation(headers["Azure-AsyncOperation"], timeout=60)
    assert done["status"] == "Succeeded", done
    return dict(done["properties"])


def _lose_record(e2e: E2E, name: str) -> None:
    """The record vanishes (a lost write, a restored backup, a hand edit); the cluster keeps the Secret."""
    e2e.registry().delete_entity(cluster_key(CLUSTER), name)


def test_reconcile_reports_orphans_and_removes_them_only_when_opted_in(
    e2e: E2E, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect(e2e, "kept")
    _connect(e2e, "lost")
    _lose_record(e2e, "lost")

    report = _reconcile(e2e)

    assert report["orphans"] == 1
    [cluster] = report["details"]
    assert cluster["orphans"] == [
        {"kind": "Secret", "namespace": "default", "name": "sc-lost-secret", "linkerId": f"{LINKERS}/lost"}
    ]
    assert e2e.kube_secret(CLUSTER, "default", "sc-lost-secret") is not None  # reported, not removed

    monkeypatch.setenv("RECONCILE_REMOVE_ORPHANS", "true")
    report = _reconcile(e2e)

    [cluster] = report["details"]
    assert [(o["name"], o["removed"]) for o in cluster["orphans"]] == [("sc-lost-secret", True)]
    assert e2e.kube_secret(CLUSTER, "default", "sc-lost-secret") is None
    assert e2e.kube_secret(CLUSTER, "default", "sc-kept-secret") is not None
    assert _reconcile(e2e)["orphans"] == 0
