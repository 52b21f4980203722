"""Orphans: Kubernetes objects labelled as the connector's that no registry record owns (pure, no I/O).

They arise when a record vanished while its operation had written to the cluster, or when a delete without
ForcedCleanup kept the resources. A record owns the Secret named for it in its namespace (and any Secret
annotated with its linker id, such as one an unfinished move left behind) and the workload-identity
ServiceAccount it uses in its namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connector import manifests, naming
from connector.model import Connection

SECRET = "Secret"
SERVICE_ACCOUNT = "ServiceAccount"


def _owned(records: Iterable[Mapping[str, Any]]) -> tuple[set[str], set[tuple[str, str, str]], bool]:
    """(linker ids, (kind, namespace, name) owned, whether every record could be read)."""
    linker_ids: set[str] = set()
    objects: set[tuple[str, str, str]] = set()
    all_read = True
    for record in records:
        if record.get("linkerId"):
            linker_ids.add(str(record["linkerId"]).lower())
        try:
            connection = Connection.from_stored(record.get("desired"))
        except (ValueError, TypeError):
            all_read = False  # what it owns is unknown: nothing it might own is called an orphan
            continue
        objects.add((SECRET, connection.namespace, naming.secret_name(connection.linker_name)))
        account = manifests.service_account_name(connection)
        if account:
            objects.add((SERVICE_ACCOUNT, connection.namespace, account))
    return linker_ids, objects, all_read


def find_orphans(
    secrets: Iterable[Mapping[str, Any]],
    service_accounts: Iterable[Mapping[str, Any]],
    records: Iterable[Mapping[str, Any]],
) -> list[dict[str, str]]:
    """The observed objects (`{namespace, name}`, Secrets with `linkerId` from their annotation) that none of
    the cluster's `records` owns, as sorted `{kind, namespace, name, linkerId?}`."""
    linker_ids, owned, all_read = _owned(records)
    found: list[dict[str, str]] = []
    for secret in secrets:
        key = (SECRET, str(secret["namespace"]), str(secret["name"]))
        annotated = str(secret.get("linkerId") or "").lower()
        if key not in owned and annotated not in linker_ids and all_read:
            orphan = {"kind": SECRET, "namespace": key[1], "name": key[2]}
            if secret.get("linkerId"):
                orphan["linkerId"] = str(secret["linkerId"])
            found.append(orphan)
    for account in service_accounts:
        key = (SERVICE_ACCOUNT, str(account["namespace"]), str(account["name"]))
        if key not in owned and all_read:
            found.append({"kind": SERVICE_ACCOUNT, "namespace": key[1], "name": key[2]})
    return sorted(found, key=lambda o: (o["kind"], o["namespace"], o["name"]))
