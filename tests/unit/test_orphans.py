"""connector.orphans: which labelled objects no record owns (pure)."""

from __future__ import annotations

from typing import Any

from connector.orphans import find_orphans
from connector.wire import parse_linker

CLUSTER = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
    "/providers/Microsoft.ContainerService/managedClusters/aks"
)
LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
BLOB = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
    "/providers/Microsoft.Storage/storageAccounts/st0001/blobServices/default"
)


def _record(name: str, namespace: str = "apps") -> dict[str, Any]:
    body = {
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "scope": namespace,
            "authInfo": {"authType": "secret"},
            "clientType": "python",
        }
    }
    connection = parse_linker(f"{LINKERS}/{name}", body, "2022-05-01")
    return {"linkerId": connection.linker_id, "desired": connection.to_stored()}


def test_a_secret_no_record_names_is_an_orphan_and_one_a_record_names_is_not() -> None:
    secrets = [
        {"namespace": "apps", "name": "sc-mine-secret", "linkerId": f"{LINKERS}/mine"},
        {"namespace": "apps", "name": "sc-gone-secret", "linkerId": f"{LINKERS}/gone"},
        # Left behind by a move of `mine`: its record still owns it, through the annotation.
        {"namespace": "old", "name": "sc-mine-secret", "linkerId": f"{LINKERS}/MINE"},
    ]
    accounts = [{"namespace": "apps", "name": "sc-account-unused"}]

    assert find_orphans(secrets, accounts, [_record("mine")]) == [
        {"kind": "Secret", "namespace": "apps", "name": "sc-gone-secret", "linkerId": f"{LINKERS}/gone"},
        {"kind": "ServiceAccount", "namespace": "apps", "name": "sc-account-unused"},
    ]


def test_an_unreadable_record_makes_nothing_an_orphan() -> None:
    secrets = [{"namespace": "apps", "name": "sc-gone-secret", "linkerId": None}]
    broken = {"linkerId": f"{LINKERS}/broken", "desired": {"namespace": 3}}

    assert find_orphans(secrets, [], [_record("mine"), broken]) == []
