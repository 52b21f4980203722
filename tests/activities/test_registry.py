"""The connection registry on Azurite (Table Storage) through azure-data-tables."""

from __future__ import annotations

from typing import Any

import pytest

from activities.clients import Clients
from activities.registry import (
    cluster_ids,
    cluster_key,
    delete_record,
    get_record,
    list_by_cluster,
    page_by_cluster,
    put_record,
    update_status,
)
from connector.errors import Category, ConnectorFailure
from tests.activities.conftest import CLUSTER_1, CLUSTER_2

LINKER_SEGMENT = "/providers/Microsoft.ServiceLinker/linkers/"


def record(cluster: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "linkerId": f"{cluster}{LINKER_SEGMENT}{name}",
        "clusterId": cluster,
        "name": name,
        "desired": {"linker_name": name, "namespace": "apps", "auth": {"auth_type": "secret"}},
        "desiredHash": "h-" + name,
        "provisioningState": "Accepted",
        "generation": 1,
        **extra,
    }


def test_put_get_and_etag_concurrency(registry_clients: Clients) -> None:
    created = put_record(record(CLUSTER_1, "conn1"), clients=registry_clients)
    assert created["etag"]
    fetched = get_record(f"{CLUSTER_1}{LINKER_SEGMENT}conn1".upper(), clients=registry_clients)
    assert fetched is not None
    assert fetched["desired"]["namespace"] == "apps"
    assert fetched["generation"] == 1 and fetched["etag"] == created["etag"]

    with pytest.raises(ConnectorFailure) as duplicate:
        put_record(record(CLUSTER_1, "conn1"), clients=registry_clients)
    assert duplicate.value.error.code == "RegistryConflict"

    updated = put_record({**fetched, "generation": 2}, etag=fetched["etag"], clients=registry_clients)
    assert updated["generation"] == 2
    with pytest.raises(ConnectorFailure) as stale:
        put_record({**fetched, "generation": 3}, etag=fetched["etag"], clients=registry_clients)
    assert stale.value.error.category is Category.CONFLICT
    latest = get_record(fetched["linkerId"], clients=registry_clients)
    assert latest is not None and latest["generation"] == 2


def test_update_status_merges_state_error_and_reconcile_time(registry_clients: Clients) -> None:
    put_record(record(CLUSTER_1, "conn1"), clients=registry_clients)
    linker = f"{CLUSTER_1}{LINKER_SEGMENT}conn1"
    error = {
        "category": "clusterBusy",
        "code": "OperationNotAllowed",
        "message": "busy",
        "mitigation": "wait",
    }
    failed = update_status(
        linker,
        "Failed",
        last_error=error,
        last_operation={"id": "op1", "kind": "connect"},
        clients=registry_clients,
    )
    assert failed["provisioningState"] == "Failed"
    assert failed["lastError"] == error
    assert failed["desired"]["namespace"] == "apps"  # merge keeps the rest
    done = update_status(linker, "Succeeded", clear_error=True, reconciled=True, clients=registry_clients)
    assert done["lastError"] is None and done["lastReconcileTime"]
    assert done["lastOperation"] == {"id": "op1", "kind": "connect"}
    with pytest.raises(ConnectorFailure) as stale:
        update_status(linker, "Updating", etag=failed["etag"], clients=registry_clients)
    assert stale.value.error.code == "RegistryConflict"
    with pytest.raises(ConnectorFailure) as missing:
        update_status(f"{CLUSTER_1}{LINKER_SEGMENT}nope", "Failed", clients=registry_clients)
    assert missing.value.error.category is Category.NOT_FOUND


def test_a_cluster_is_read_whole_or_in_pages_and_the_clusters_are_listed(registry_clients: Clients) -> None:
    for i in range(5):
        put_record(record(CLUSTER_1, f"one{i}"), clients=registry_clients)
    for i in range(3):
        put_record(record(CLUSTER_2, f"two{i}"), clients=registry_clients)
    assert sorted(r["name"] for r in list_by_cluster(CLUSTER_1, clients=registry_clients)) == [
        f"one{i}" for i in range(5)
    ]
    seen: list[str] = []
    continuation = None
    pages = 0
    while True:
        page, continuation = page_by_cluster(CLUSTER_1, 2, continuation, clients=registry_clients)
        seen += [r["name"] for r in page]
        pages += 1
        if continuation is None:
            break
    assert sorted(seen) == [f"one{i}" for i in range(5)]
    assert pages == 3
    assert [c.lower() for c in cluster_ids(clients=registry_clients)] == sorted(
        c.lower() for c in (CLUSTER_1, CLUSTER_2)
    )


def test_delete_tolerates_absence_and_honours_etag(registry_clients: Clients) -> None:
    created = put_record(record(CLUSTER_1, "conn1"), clients=registry_clients)
    update_status(created["linkerId"], "Deleting", clients=registry_clients)
    with pytest.raises(ConnectorFailure):
        delete_record(created["linkerId"], etag=created["etag"], clients=registry_clients)
    assert delete_record(created["linkerId"], clients=registry_clients) is True
    assert delete_record(created["linkerId"], clients=registry_clients) is False
    assert get_record(created["linkerId"], clients=registry_clients) is None


def test_cluster_key_is_a_valid_table_key() -> None:
    key = cluster_key(CLUSTER_1.upper())
    assert "/" not in key and key == key.lower()
    assert cluster_key(CLUSTER_1) == key
