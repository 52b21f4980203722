"""The connection registry: one Table Storage entity per linker, with ETag concurrency.

PartitionKey is the cluster (so listing a cluster's connections is one partition query); RowKey is the linker
name. Entities hold the desired state as stored by the trigger (`Connection.to_stored()`: a sealed token at
most, never a secret value), the provisioning state, the last operation and error, a generation and the last
reconcile time. Records cross the orchestration boundary as JSON-safe dicts with their `etag`.

Every call reaches the table through `_on_table`: a store that lost the table (restarted empty) gets it
created again once and the call repeated; a store that did not answer leaves no cached client behind. Each
call is one attempt bounded by REGISTRY_TIMEOUT_SECONDS (activities/clients.py); its failure is TRANSIENT.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableTransactionError, UpdateMode

from activities.clients import Clients, get_clients
from activities.failures import classified
from connector import naming
from connector.errors import Category, ConnectorFailure, connection_not_found, make_error
from connector.ids import split_linker_id
from telemetry import connection_state_recorded

_JSON_FIELDS = {
    "desired": "Desired",
    "lastOperation": "LastOperation",
    "lastError": "LastError",
    "lastReconcile": "LastReconcile",
    "granted": "Granted",
    # ARM's systemData of the linker (who created and last changed it, and when), answered on GET.
    "systemData": "SystemData",
}
_PLAIN_FIELDS = {
    "linkerId": "LinkerId",
    "clusterId": "ClusterId",
    "name": "LinkerName",
    "desiredHash": "DesiredHash",
    "provisioningState": "ProvisioningState",
    "generation": "Generation",
    "lastReconcileTime": "LastReconcileTime",
    "updatedAt": "UpdatedAt",
    # The catalog kind the Secret was last rendered as, when it is not the one the id matched (an Azure OpenAI
    # account matches the Cognitive Services pattern; its ARM `kind` says OpenAI).
    "appliedTargetKind": "AppliedTargetKind",
}


T = TypeVar("T")
_TABLE_NOT_FOUND = "TableNotFound"


def _is_table_missing(error: ResourceNotFoundError) -> bool:
    # Some operations set error_code; others (create_entity) only carry the service's code in the text.
    return str(getattr(error, "error_code", "") or "") == _TABLE_NOT_FOUND or _TABLE_NOT_FOUND in str(error)


def _on_table(clients: Clients, call: Callable[[Any], T]) -> T:
    """`call(table)`; once more on a fresh client (which creates the table) when the table is gone."""
    for attempt in (1, 2):
        try:
            return call(clients.table())
        except ResourceNotFoundError as missing:
            if attempt == 2 or not _is_table_missing(missing):
                raise
            clients.forget_table()
        except (ServiceRequestError, ServiceResponseError):
            clients.forget_table()  # the next call connects afresh (the store may come back empty)
            raise
    raise AssertionError("unreachable")


def cluster_key(cluster_id: str) -> str:
    """The PartitionKey of a cluster: its id, lower-cased, with '/' (not allowed in keys) as ':'."""
    return cluster_id.strip().strip("/").lower().replace("/", ":")


def _keys(linker_id: str) -> tuple[str, str]:
    cluster_id, name = split_linker_id(linker_id)
    return cluster_key(cluster_id), name.lower()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _if_unchanged(etag: str | None) -> dict[str, Any]:
    """The keyword arguments that make a write conditional on `etag` (none: unconditional)."""
    return {} if etag is None else {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _to_entity(record: dict[str, Any]) -> dict[str, Any]:
    partition, row = _keys(record["linkerId"])
    entity: dict[str, Any] = {"PartitionKey": partition, "RowKey": row}
    for key, column in _PLAIN_FIELDS.items():
        if record.get(key) is not None:
            entity[column] = record[key]
    for key, column in _JSON_FIELDS.items():
        if record.get(key) is not None:
            entity[column] = _json(record[key])
    desired = record.get("desired")
    if isinstance(desired, dict) and desired.get("linker_name") and desired.get("namespace"):
        # What a PUT checks for Secret name collisions, queried without reading the whole cluster.
        entity["SecretKey"] = secret_key(
            str(desired["namespace"]), naming.secret_name(desired["linker_name"])
        )
        client_id = _workload_client_id(desired)
        if client_id:
            # Who else runs as this identity's ServiceAccount in the namespace, queried the same way.
            entity["ServiceAccountKey"] = secret_key(str(desired["namespace"]), client_id)
    return entity


def _workload_client_id(desired: dict[str, Any]) -> str:
    """The workload identity's client id of a stored connection ('' for other auth or the CSI driver)."""
    auth = desired.get("auth") or {}
    if desired.get("key_vault_csi") or auth.get("auth_type") != "userAssignedIdentity":
        return ""
    return str(auth.get("client_id") or "").lower()


def secret_key(namespace: str, secret_name: str) -> str:
    """The SecretKey column: the namespace and name of the Secret a record's linker writes."""
    return f"{namespace}/{secret_name}"


def _from_entity(entity: Any, etag: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {key: entity.get(column) for key, column in _PLAIN_FIELDS.items()}
    for key, column in _JSON_FIELDS.items():
        raw = entity.get(column)
        record[key] = json.loads(raw) if raw else None
    generation = record.get("generation")
    record["generation"] = int(generation) if generation is not None else 0
    metadata = getattr(entity, "metadata", None) or {}
    record["etag"] = etag or metadata.get("etag")
    return record


def _conflict(linker_id: str, what: str) -> ConnectorFailure:
    return ConnectorFailure(
        make_error(
            Category.CONFLICT,
            "RegistryConflict",
            f"The registry entry of {linker_id} {what}; read it again and retry.",
            resource=linker_id,
        )
    )


@classified
def get_record(linker_id: str, *, clients: Clients | None = None) -> dict[str, Any] | None:
    """The registry record of a linker (with its etag), or None."""
    clients = clients or get_clients()
    partition, row = _keys(linker_id)
    try:
        return _from_entity(_on_table(clients, lambda table: table.get_entity(partition, row)))
    except ResourceNotFoundError:
        return None


@classified
def put_record(
    record: dict[str, Any], *, etag: str | None = None, clients: Clients | None = None
) -> dict[str, Any]:
    """Create a record (etag None: fails if it exists) or replace it if unchanged since `etag`."""
    clients = clients or get_clients()
    entity = _to_entity({**record, "updatedAt": _now()})

    def write(table: Any) -> Any:
        if etag is None:
            return table.create_entity(entity)
        return table.update_entity(entity, mode=UpdateMode.REPLACE, **_if_unchanged(etag))

    try:
        meta = _on_table(clients, write)
    except ResourceExistsError:
        raise _conflict(record["linkerId"], "already exists") from None
    except ResourceModifiedError:
        raise _conflict(record["linkerId"], "was changed by another operation") from None
    connection_state_recorded(str(record.get("provisioningState") or ""))
    return _from_entity(entity, meta.get("etag"))


@classified
def update_status(
    linker_id: str,
    provisioning_state: str,
    *,
    last_operation: dict[str, Any] | None = None,
    last_error: dict[str, Any] | None = None,
    clear_error: bool = False,
    reconciled: bool = False,
    last_reconcile: dict[str, Any] | None = None,
    etag: str | None = None,
    clients: Clients | None = None,
) -> dict[str, Any]:
    """Merge a new provisioning state (last operation/error, reconcile time and findings) into a record."""
    clients = clients or get_clients()
    partition, row = _keys(linker_id)
    now = _now()
    entity: dict[str, Any] = {
        "PartitionKey": partition,
        "RowKey": row,
        "ProvisioningState": provisioning_state,
        "UpdatedAt": now,
    }
    if last_operation is not None:
        entity["LastOperation"] = _json(last_operation)
    if last_error is not None:
        entity["LastError"] = _json(last_error)
    elif clear_error:
        entity["LastError"] = ""
    if reconciled:
        entity["LastReconcileTime"] = now
    if last_reconcile is not None:
        entity["LastReconcile"] = _json(last_reconcile)
    try:
        _on_table(
            clients, lambda table: table.update_entity(entity, mode=UpdateMode.MERGE, **_if_unchanged(etag))
        )
    except ResourceNotFoundError:
        raise ConnectorFailure(connection_not_found(linker_id)) from None
    except ResourceModifiedError:
        raise _conflict(linker_id, "was changed by another operation") from None
    connection_state_recorded(provisioning_state)
    found = get_record(linker_id, clients=clients)
    assert found is not None
    return found


@classified
def delete_record(linker_id: str, *, etag: str | None = None, clients: Clients | None = None) -> bool:
    """Delete a record (only if unchanged since `etag`, when given); an absent record is success (False)."""
    clients = clients or get_clients()
    partition, row = _keys(linker_id)
    if get_record(linker_id, clients=clients) is None:
        return False
    try:
        _on_table(clients, lambda table: table.delete_entity(partition, row, **_if_unchanged(etag)))
    except ResourceModifiedError:
        raise _conflict(linker_id, "was changed by another operation") from None
    return True


@classified
def list_by_secret(
    cluster_id: str, namespace: str, secret_name: str, *, clients: Clients | None = None
) -> list[dict[str, Any]]:
    """The cluster's records whose linker writes this Secret (one filtered query, whatever the size)."""
    clients = clients or get_clients()
    parameters = {"pk": cluster_key(cluster_id), "key": secret_key(namespace, secret_name)}

    def query(table: Any) -> list[dict[str, Any]]:
        found = table.query_entities("PartitionKey eq @pk and SecretKey eq @key", parameters=parameters)
        return [_from_entity(e) for e in found]

    return _on_table(clients, query)


@classified
def record_applied_kind(linker_id: str, kind: str, *, clients: Clients | None = None) -> None:
    """Remember the catalog kind a linker's Secret was rendered as (one merge; a vanished record is fine)."""
    clients = clients or get_clients()
    partition, row = _keys(linker_id)
    entity = {"PartitionKey": partition, "RowKey": row, "AppliedTargetKind": kind}
    with contextlib.suppress(ResourceNotFoundError):
        _on_table(clients, partial(_update, entity, {"mode": UpdateMode.MERGE}))


@classified
def service_account_users(
    cluster_id: str,
    namespace: str,
    client_id: str,
    *,
    exclude_linker_id: str = "",
    clients: Clients | None = None,
) -> list[str]:
    """Ids of the cluster's linkers whose workloads run as identity `client_id`'s ServiceAccount in
    `namespace` (one filtered query, ids only)."""
    clients = clients or get_clients()
    parameters = {"pk": cluster_key(cluster_id), "key": secret_key(namespace, client_id.lower())}

    def query(table: Any) -> list[str]:
        found = table.query_entities(
            "PartitionKey eq @pk and ServiceAccountKey eq @key", parameters=parameters, select=["LinkerId"]
        )
        return [str(e.get("LinkerId")) for e in found]

    users = _on_table(clients, query)
    return [u for u in users if u.lower() != exclude_linker_id.lower()]


@classified
def list_by_cluster(cluster_id: str, *, clients: Clients | None = None) -> list[dict[str, Any]]:
    """Every record of one cluster (one partition query)."""
    clients = clients or get_clients()
    parameters = {"pk": cluster_key(cluster_id)}

    def query(table: Any) -> list[dict[str, Any]]:
        return [_from_entity(e) for e in table.query_entities("PartitionKey eq @pk", parameters=parameters)]

    return _on_table(clients, query)


@classified
def linkers_granted(
    client_id: str, target_id: str, *, exclude_linker_id: str = "", clients: Clients | None = None
) -> list[str]:
    """Ids of the linkers (any cluster) whose workload identity `client_id` is granted on `target_id`.

    Role assignments belong to the identity and the target, not to one cluster, so a forced cleanup may remove
    one only when no other linker relies on it. One scan of the table, returning ids only.
    """
    clients = clients or get_clients()
    found = []
    entities = _on_table(clients, lambda table: list(table.list_entities(select=["LinkerId", "Desired"])))
    for entity in entities:
        desired = json.loads(entity.get("Desired") or "null") or {}
        auth = desired.get("auth") or {}
        linker_id = str(entity.get("LinkerId") or "")
        if (
            linker_id.lower() != exclude_linker_id.lower()
            and auth.get("auth_type") == "userAssignedIdentity"
            and str(auth.get("client_id") or "").lower() == client_id.lower()
            and str(desired.get("target_id") or "").lower() == target_id.lower()
        ):
            found.append(linker_id)
    return found


GRANT_KINDS = ("roleAssignments", "federatedCredentials")


def _same_grant(one: dict[str, Any], other: dict[str, Any]) -> bool:
    return {k: str(v).lower() for k, v in one.items()} == {k: str(v).lower() for k, v in other.items()}


def _merge(clients: Clients, entity: dict[str, Any], etag: str | None) -> None:
    _on_table(
        clients, lambda table: table.update_entity(entity, mode=UpdateMode.MERGE, **_if_unchanged(etag))
    )


@classified
def record_grant(
    linker_id: str, kind: str, grant: dict[str, Any], *, clients: Clients | None = None
) -> dict[str, list[dict[str, str]]]:
    """Add one grant a connect made (a role assignment or federated credential: ids and names only) to the
    linker's `granted` record, so that a failed operation still says what it granted; the updated `granted`.

    A grant already listed is not written again. Merged under the record's ETag, re-read on a conflict.
    """
    if kind not in GRANT_KINDS:
        raise ValueError(f"Not a grant kind: {kind!r}")
    clients = clients or get_clients()
    partition, row = _keys(linker_id)
    wanted = {k: str(v) for k, v in grant.items()}
    for _ in range(5):
        record = get_record(linker_id, clients=clients)
        if record is None:
            raise ConnectorFailure(connection_not_found(linker_id))
        granted = {k: list((record.get("granted") or {}).get(k) or []) for k in GRANT_KINDS}
        if any(_same_grant(found, wanted) for found in granted[kind]):
            return granted
        granted[kind].append(wanted)
        entity = {"PartitionKey": partition, "RowKey": row, "Granted": _json(granted)}
        try:
            _merge(clients, entity, record["etag"])
        except ResourceModifiedError:
            continue
        return granted
    raise _conflict(linker_id, "kept changing while a grant was recorded")


# --- Reconcile passes: pages of one cluster, the clusters, stamps in batches ------------------------------

# Azure Table transactions hold at most 100 operations, all in one partition (one cluster here).
TRANSACTION_LIMIT = 100


@classified
def page_by_cluster(
    cluster_id: str,
    page_size: int,
    continuation: dict[str, Any] | None = None,
    *,
    clients: Clients | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a cluster's records, and the continuation token of the next page (None at the end)."""
    clients = clients or get_clients()
    parameters = {"pk": cluster_key(cluster_id)}

    def read_page(table: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        pager = table.query_entities(
            "PartitionKey eq @pk", parameters=parameters, results_per_page=page_size
        ).by_page(continuation_token=continuation)
        items = [_from_entity(e) for e in next(pager, [])]
        token = pager.continuation_token
        return items, (dict(token) if token else None)

    return _on_table(clients, read_page)


@classified
def cluster_ids(*, clients: Clients | None = None) -> list[str]:
    """Every cluster that holds at least one record, sorted (one scan reading two columns)."""
    clients = clients or get_clients()
    columns = ["PartitionKey", "ClusterId"]
    entities = _on_table(clients, lambda table: list(table.list_entities(select=columns)))
    found: dict[str, str] = {}
    for entity in entities:
        cluster_id = str(entity.get("ClusterId") or "")
        if cluster_id:
            found.setdefault(str(entity["PartitionKey"]), cluster_id)
    return [found[key] for key in sorted(found)]


@classified
def stamp_reconciled(
    cluster_id: str,
    stamps: list[dict[str, Any]],
    errors: list[dict[str, Any]] | None = None,
    *,
    clients: Clients | None = None,
) -> dict[str, int]:
    """Write a reconcile pass's outcome on many records of one cluster, in transactions of up to 100.

    Each stamp is {name, generation, provisioningState, previousState, lastReconcile, error?: index into
    `errors`}. A record is stamped only while it holds the generation the pass planned and a settled state: a
    request that arrived meanwhile owns it now. Its current ETag guards the write (grants recorded during the
    repair change the ETag, not the generation). When a transaction is refused because a record changed in
    between, its stamps are written one by one. Returns {"stamped", "skipped"}.
    """
    clients = clients or get_clients()
    errors = errors or []
    partition = cluster_key(cluster_id)
    rows = sorted(str(stamp["name"]).lower() for stamp in stamps)
    current = {r["row"]: r for r in _light_records(clients, partition, rows[0], rows[-1])} if rows else {}
    now = _now()
    operations = []
    skipped = 0
    for stamp in stamps:
        found = current.get(str(stamp["name"]).lower())
        if (
            found is None
            or int(found.get("generation") or 0) != int(stamp.get("generation") or 0)
            or str(found.get("provisioningState") or "").lower() not in ("succeeded", "failed")
        ):
            skipped += 1
            continue
        error = errors[stamp["error"]] if isinstance(stamp.get("error"), int) else None
        entity = _stamp_entity(partition, stamp, error, now)
        operations.append(("update", entity, {"mode": UpdateMode.MERGE, **_if_unchanged(found.get("etag"))}))
    stamped = 0
    for start in range(0, len(operations), TRANSACTION_LIMIT):
        chunk = operations[start : start + TRANSACTION_LIMIT]
        try:
            _on_table(clients, partial(_submit, chunk))
            stamped += len(chunk)
            continue
        except TableTransactionError:
            pass  # one record changed or vanished meanwhile: write the others one by one
        for _, entity, options in chunk:
            try:
                _on_table(clients, partial(_update, entity, options))
                stamped += 1
            except (ResourceModifiedError, ResourceNotFoundError):
                skipped += 1
    return {"stamped": stamped, "skipped": skipped}


def _light_records(clients: Clients, partition: str, first: str, last: str) -> list[dict[str, Any]]:
    """The records of a cluster whose RowKey lies in [first, last] (a page's range: a page is a run of
    RowKeys), without their JSON columns: row key, generation, state and ETag."""
    columns = ["RowKey", "Generation", "ProvisioningState"]
    bounds = {"pk": partition, "first": first, "last": last}

    def query(table: Any) -> list[dict[str, Any]]:
        entities = table.query_entities(
            "PartitionKey eq @pk and RowKey ge @first and RowKey le @last", parameters=bounds, select=columns
        )
        return [
            {
                "row": str(e.get("RowKey") or ""),
                "generation": e.get("Generation"),
                "provisioningState": e.get("ProvisioningState"),
                "etag": (getattr(e, "metadata", None) or {}).get("etag"),
            }
            for e in entities
        ]

    return _on_table(clients, query)


def _submit(operations: list[Any], table: Any) -> None:
    table.submit_transaction(operations)


def _update(entity: dict[str, Any], options: dict[str, Any], table: Any) -> None:
    table.update_entity(entity, **options)


def _stamp_entity(
    partition: str, stamp: dict[str, Any], error: dict[str, Any] | None, now: str
) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": partition,
        "RowKey": str(stamp["name"]).lower(),
        "ProvisioningState": stamp["provisioningState"],
        "LastReconcileTime": now,
        "LastReconcile": _json(stamp.get("lastReconcile") or {}),
        "LastError": _json(error) if error else "",
    }
    if stamp["provisioningState"] != stamp.get("previousState"):
        entity["UpdatedAt"] = now
    return entity
