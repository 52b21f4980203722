"""Starting operations: the one place where a request becomes registry state and an orchestration.

Every mutating operation on a connection follows the same steps: read the registry record; refuse (409
AnotherOperationInProgress) if another operation on it still runs, or return the running one if it is the same
request; write the desired state and the current operation `{id, kind, desiredHash, startTime}` with the
record's ETag (so two racing requests cannot both win; a loser that is the same request as the winner joins
the winner's operation, so identical concurrent requests all get it); then start the orchestration by name
with instance id = operation id. The registry is reached only through the plain functions of
`activities.registry`, in a worker thread (they are synchronous SDK calls; the host's event loop must not
block on them).

An update that moves a connection (namespace, workload identity) names the placements it leaves in the connect
input (`previous`, see orchestrators/moves.py) and in the record's lastOperation, so that a retry after an
unfinished cleanup still removes them. A record whose operation was terminated or crashed before writing its
outcome is settled as Canceled/Failed when read (`settle_abandoned`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from activities import registry
from connector import naming
from connector.errors import Category, ConnectorFailure, make_error, parse_failure_text
from connector.model import Connection, DeleteOrUpdateBehavior, WorkloadIdentityAuth, secret_fingerprint
from sealing import linker_context, seal
from telemetry import log as log_record
from triggers.settings import TriggerSettings

CONNECT = "connect"
DISCONNECT = "disconnect"
VALIDATE = "validate"
RESET_EXTENSION = "reset_extension"
RECONCILE = "reconcile"

ACCEPTED = "Accepted"
DELETING = "Deleting"
_RUNNING = frozenset(
    {
        OrchestrationRuntimeStatus.Pending,
        OrchestrationRuntimeStatus.Running,
        OrchestrationRuntimeStatus.ContinuedAsNew,
        OrchestrationRuntimeStatus.Suspended,
    }
)
# A record names its operation before the orchestration exists; for this long a missing instance is taken as
# "still starting". After it, the start is taken as failed and the connection is free again.
START_GRACE = timedelta(minutes=2)
_LOG = logging.getLogger(__name__)
_MESSAGE_NAMESPACE = uuid.UUID("8d5c7d1e-2f0b-4d4e-9a57-6b1f3c0e2a41")


class OperationConflict(Exception):
    """Another operation on the connection is running (ARM's 409 AnotherOperationInProgress)."""

    def __init__(self, linker_id: str, running: dict[str, Any] | None) -> None:
        running_id = (running or {}).get("id")
        detail = f" (operation {running_id}, {(running or {}).get('kind')})" if running_id else ""
        super().__init__(
            f"Another operation is in progress on {linker_id}{detail}. Wait for it to finish, then retry."
        )
        self.linker_id = linker_id
        self.running = running


class SealingKeyMissing(Exception):
    """A request carries a secret but SECRET_SEALING_KEY is not set (a configuration error)."""


@dataclass(frozen=True)
class Started:
    """An operation accepted for a connection: its id, and whether this request started it."""

    operation_id: str
    kind: str
    linker_id: str
    new: bool
    system_data: dict[str, str] | None = None  # the linker's systemData as written (connect only)


def new_operation_id() -> str:
    """A fresh operation id (also the orchestration instance id)."""
    return str(uuid.uuid4())


def operation_id_for_message(message_id: str) -> str:
    """The operation id of a Service Bus message: the same message id always gives the same operation."""
    return str(uuid.uuid5(_MESSAGE_NAMESPACE, f"servicebus:{message_id}"))


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def stored_connection(record: dict[str, Any] | None) -> Connection | None:
    """The connection a registry record holds, or None."""
    if record is None or not record.get("desired"):
        return None
    return Connection.from_stored(record["desired"])


def seal_connection(connection: Connection, settings: TriggerSettings) -> Connection:
    """The connection with any raw secret from the request replaced by its sealed token and fingerprint."""
    raw = connection.raw_secret()
    if raw is None:
        return connection
    if settings.sealing_key is None:
        raise SealingKeyMissing("SECRET_SEALING_KEY is not set: secrets in requests cannot be accepted.")
    plain = raw.get_secret_value()
    sealed = seal(plain, settings.sealing_key, context=linker_context(connection.linker_id))
    return connection.with_sealed_secret(sealed, secret_fingerprint(plain, settings.sealing_key))


async def get_record(linker_id: str) -> dict[str, Any] | None:
    """The registry record of a linker (read in a worker thread)."""
    return await asyncio.to_thread(registry.get_record, linker_id)


async def list_records(cluster_id: str) -> list[dict[str, Any]]:
    """Every registry record of one cluster, sorted by linker name (read in a worker thread)."""
    records = await asyncio.to_thread(registry.list_by_cluster, cluster_id)
    return sorted(records, key=lambda r: str(r.get("name") or "").lower())


async def instance_status(client: df.DurableOrchestrationClient, instance_id: str) -> Any:
    """The orchestration's status (runtime_status None when there is no such instance)."""
    return await client.get_status(instance_id, show_input=True)


async def _is_running(client: df.DurableOrchestrationClient, operation: dict[str, Any] | None) -> bool:
    if not operation or not operation.get("id"):
        return False
    status = await client.get_status(operation["id"])
    if status.runtime_status is None:
        started = operation.get("startTime")
        try:
            begun = datetime.fromisoformat(str(started).replace("Z", "+00:00"))
        except ValueError:
            return False
        return _now() - begun < START_GRACE
    return status.runtime_status in _RUNNING


# What a linker reads when its operation's orchestration ended without writing the outcome.
_ABANDONED_STATE = {
    OrchestrationRuntimeStatus.Terminated: "Canceled",
    OrchestrationRuntimeStatus.Canceled: "Canceled",
    OrchestrationRuntimeStatus.Failed: "Failed",
}
ABANDONED = frozenset(_ABANDONED_STATE)
# Ended: what settle_abandoned may settle a record from (a completed operation whose outcome write was lost).
ENDED = ABANDONED | {OrchestrationRuntimeStatus.Completed}
_UNSETTLED = frozenset({ACCEPTED, DELETING})
_OUTCOME_WRITTEN = frozenset({"Succeeded", "Failed", "Canceled"})


def _abandoned_error(operation_id: str, kind: str, status: Any, state: str) -> dict[str, Any]:
    if state == "Canceled":
        error = make_error(
            Category.CONFLICT,
            "OperationCanceled",
            f"The {kind} operation {operation_id} was stopped before it finished.",
        )
        return error.to_dict()
    output = status.output
    parsed = parse_failure_text(output) if isinstance(output, str) else None
    if parsed is not None:
        return parsed.to_dict()
    # An unclassified crash: its text may hold anything, so it is not copied (the operation status agrees).
    return make_error(
        Category.TRANSIENT, "InternalServerError", "The operation failed unexpectedly; see the app's logs."
    ).to_dict()


async def settle_abandoned(
    client: df.DurableOrchestrationClient, record: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The record, Canceled or Failed when it still reads Accepted/Deleting but its operation's orchestration
    was terminated or crashed (so it will never write the outcome), or the outcome of an operation that
    completed but whose last write was lost; written back with the record's ETag."""
    if record is None or record.get("provisioningState") not in _UNSETTLED:
        return record
    operation = record.get("lastOperation") or {}
    if not operation.get("id"):
        return record
    try:
        status = await client.get_status(operation["id"])
    except Exception as exc:  # a read of the linker must not fail because the task hub did not answer
        log_record(
            logging.WARNING,
            "operation status unavailable",
            operation_id=operation["id"],
            error_code=type(exc).__name__,
        )
        return record
    if status.runtime_status == OrchestrationRuntimeStatus.Completed:
        return await _adopt_outcome(record, status.output)
    state = _ABANDONED_STATE.get(status.runtime_status) if status.runtime_status is not None else None
    if state is None:
        return record
    error = _abandoned_error(str(operation["id"]), str(operation.get("kind") or "connect"), status, state)
    try:
        updated: dict[str, Any] = await asyncio.to_thread(
            registry.update_status, record["linkerId"], state, last_error=error, etag=record.get("etag")
        )
    except ConnectorFailure as failure:
        if failure.error.category not in (Category.CONFLICT, Category.NOT_FOUND):
            raise
        # A newer request (or the orchestration's own last write) got there first: it tells the truth.
        return await get_record(record["linkerId"])
    return updated


async def _adopt_outcome(record: dict[str, Any], output: Any) -> dict[str, Any] | None:
    """A record still Accepted/Deleting whose operation completed: its outcome write was lost (the store
    crashed after the orchestration's last step). The operation's output says how it ended; the record
    takes that (a completed delete removes the record)."""
    output = output if isinstance(output, dict) else {}
    state = output.get("provisioningState")
    if state not in ("Succeeded", "Failed"):
        return record
    linker_id = str(record["linkerId"])
    try:
        if record.get("provisioningState") == DELETING and state == "Succeeded":
            await asyncio.to_thread(registry.delete_record, linker_id, etag=record.get("etag"))
            return None
        error = output.get("error") if state == "Failed" else None
        updated: dict[str, Any] = await asyncio.to_thread(
            registry.update_status,
            linker_id,
            str(state),
            last_error=error if isinstance(error, dict) else None,
            clear_error=state == "Succeeded",
            etag=record.get("etag"),
        )
    except ConnectorFailure as failure:
        if failure.error.category not in (Category.CONFLICT, Category.NOT_FOUND):
            raise
        return await get_record(linker_id)  # changed meanwhile: the newer write tells the truth
    return updated


def _operation(operation_id: str, kind: str, desired_hash: str | None) -> dict[str, Any]:
    return {"id": operation_id, "kind": kind, "desiredHash": desired_hash, "startTime": _iso(_now())}


def placement(connection: Connection) -> dict[str, Any]:
    """Where a connection's Kubernetes resources and trust live: its namespace and workload identity."""
    auth = connection.auth
    identity = None
    if connection.is_workload_identity and isinstance(auth, WorkloadIdentityAuth) and auth.client_id:
        identity = {
            "clientId": auth.client_id,
            "subscriptionId": auth.subscription_id,
            "identityResourceId": auth.identity_resource_id,
        }
    return {"namespace": connection.namespace, "workloadIdentity": identity}


def _identity_key(place: dict[str, Any]) -> str:
    return str((place.get("workloadIdentity") or {}).get("clientId") or "").lower()


def _left_behind(place: dict[str, Any], current: dict[str, Any]) -> bool:
    """True when a previous placement holds something the current one does not use."""
    moved_namespace = place.get("namespace") != current.get("namespace")
    old_identity = _identity_key(place)
    return moved_namespace or bool(old_identity and old_identity != _identity_key(current))


def previous_placements(record: dict[str, Any] | None, connection: Connection) -> list[dict[str, Any]]:
    """The placements an update moves `connection` away from (ids and names only), for `connect` to clean.

    The stored desired state is one; so are those a connect that did not succeed was still to clean
    (carried in its lastOperation), so that a retried update finishes the job.
    """
    current = placement(connection)
    found: list[dict[str, Any]] = []
    if record is not None and record.get("provisioningState") != "Succeeded":
        operation = record.get("lastOperation") or {}
        found.extend(p for p in operation.get("previous") or [] if isinstance(p, dict))
    old = stored_connection(record)
    if old is not None:
        found.append(placement(old))
    unique: list[dict[str, Any]] = []
    for place in found:
        if _left_behind(place, current) and place not in unique:
            unique.append(place)
    return unique


async def _check_free(
    client: df.DurableOrchestrationClient, record: dict[str, Any] | None, kind: str, desired_hash: str | None
) -> Started | None:
    """None when no operation runs; the running one when it is this same request; else OperationConflict."""
    if record is None or record.get("provisioningState") in _OUTCOME_WRITTEN:
        # The operation has recorded its outcome; at most its outcome event is still being sent, which
        # touches neither the registry nor the cluster: the connection is free.
        return None
    running = record.get("lastOperation")
    if not await _is_running(client, running):
        return None
    assert running is not None
    if running.get("kind") == kind and running.get("desiredHash") == desired_hash:
        written = record.get("systemData")
        return Started(running["id"], kind, record["linkerId"], new=False, system_data=written)
    raise OperationConflict(record["linkerId"], running)


async def _write_or_join(
    record: dict[str, Any],
    etag: str | None,
    kind: str,
    desired_hash: str | None,
) -> Started | None:
    """Write the record (None); when another request wrote it first, the operation it started if that request
    was this same one (same kind and desired hash), else OperationConflict."""
    try:
        await asyncio.to_thread(registry.put_record, record, etag=etag)
        return None
    except ConnectorFailure as failure:
        if failure.error.category is not Category.CONFLICT:
            raise
    # Another request wrote the record between our read and our write: it won. Read what it wrote. An
    # identical request's operation is this request's too, whether it still runs or has just ended.
    current = await get_record(record["linkerId"])
    winner = (current or {}).get("lastOperation") or {}
    if winner.get("id") and winner.get("kind") == kind and winner.get("desiredHash") == desired_hash:
        written = (current or {}).get("systemData")
        return Started(str(winner["id"]), kind, record["linkerId"], new=False, system_data=written)
    raise OperationConflict(record["linkerId"], winner or None)


def _names_operation(record: dict[str, Any] | None, operation_id: str) -> bool:
    """True when the record already names this operation (a redelivered message whose write went through)."""
    current = (record or {}).get("lastOperation") or {}
    return bool(current.get("id") == operation_id)


@dataclass(frozen=True)
class Caller:
    """Who asks for a change, as ARM's systemData names it (createdByType: User, Application,
    ManagedIdentity or Key)."""

    name: str
    kind: str


# The Functions host authenticates a request with a function key but does not tell the app which key, nor
# who holds it: an HTTP caller is recorded as a key, the kind ARM's systemData documents for key-authenticated
# callers, named for what authenticated it (assumption, written here only).
FUNCTION_KEY_CALLER = Caller("function key", "Key")
# A Service Bus request comes from an application that can send to the requests queue (same assumption).
SERVICE_BUS_CALLER = Caller("service bus requests queue", "Application")


def system_data(record: dict[str, Any] | None, caller: Caller, now: datetime) -> dict[str, str]:
    """ARM's systemData after `caller` changes the linker at `now`: creation kept from the stored record."""
    created = (record or {}).get("systemData") if (record or {}).get("desired") else None
    created = created if isinstance(created, dict) else {}
    stamp = _iso(now)
    return {
        "createdBy": str(created.get("createdBy") or caller.name),
        "createdByType": str(created.get("createdByType") or caller.kind),
        "createdAt": str(created.get("createdAt") or stamp),
        "lastModifiedBy": caller.name,
        "lastModifiedByType": caller.kind,
        "lastModifiedAt": stamp,
    }


async def submit_connect(
    client: df.DurableOrchestrationClient,
    connection: Connection,
    settings: TriggerSettings,
    *,
    record: dict[str, Any] | None,
    operation_id: str | None = None,
    caller: Caller = FUNCTION_KEY_CALLER,
) -> Started:
    """Create or update a connection: collisions, concurrency, registry write, then start `connect`.

    `record` is the linker's registry record as the caller read it (None when there is none yet): the
    caller parsed the request against it, and its ETag guards the write.
    """
    operation_id = operation_id or new_operation_id()
    connection = seal_connection(connection, settings).with_provisioning_state(None)
    linker_id = connection.linker_id
    desired_hash = connection.desired_hash()
    resumed = _names_operation(record, operation_id)
    previous = ((record or {}).get("lastOperation") or {}).get("previous") or [] if resumed else []
    written = (record or {}).get("systemData")  # a redelivered message's write already went through
    if not resumed:
        running = await _check_free(client, record, CONNECT, desired_hash)
        if running is not None:
            return running
        secret = naming.secret_name(connection.linker_name)
        same_secret = await asyncio.to_thread(
            registry.list_by_secret, connection.cluster.id, connection.namespace, secret
        )
        naming.check_secret_name_collision(connection, [c for c in map(stored_connection, same_secret) if c])
        previous = previous_placements(record, connection)
        operation = _operation(operation_id, CONNECT, desired_hash)
        if previous:
            operation["previous"] = previous
        new_record = {
            "linkerId": linker_id,
            "clusterId": connection.cluster.id,
            "name": connection.linker_name,
            "desired": connection.to_stored(),
            "desiredHash": desired_hash,
            "provisioningState": ACCEPTED,
            "generation": int((record or {}).get("generation") or 0) + 1,
            "lastOperation": operation,
            "lastReconcileTime": (record or {}).get("lastReconcileTime"),
            # What earlier operations granted stays known until a ForcedCleanup delete revokes it.
            "granted": (record or {}).get("granted"),
            "systemData": system_data(record, caller, _now()),
        }
        written = new_record["systemData"]
        joined = await _write_or_join(new_record, (record or {}).get("etag"), CONNECT, desired_hash)
        if joined is not None:
            return joined
    payload: dict[str, Any] = {
        "linkerId": linker_id,
        "operationId": operation_id,
        "policy": settings.policy(),
    }
    if previous:
        payload["previous"] = previous
    await _start_once(client, CONNECT, operation_id, payload)
    return Started(operation_id, CONNECT, linker_id, new=True, system_data=written)


async def submit_disconnect(
    client: df.DurableOrchestrationClient,
    record: dict[str, Any],
    settings: TriggerSettings,
    *,
    operation_id: str | None = None,
) -> Started:
    """Delete a connection: concurrency, registry marked Deleting, then start `disconnect`."""
    operation_id = operation_id or new_operation_id()
    linker_id = record["linkerId"]
    connection = stored_connection(record)
    if not _names_operation(record, operation_id):
        running = await _check_free(client, record, DISCONNECT, None)
        if running is not None:
            return running
        updated = {
            **{k: v for k, v in record.items() if k != "etag"},
            "provisioningState": DELETING,
            "lastOperation": _operation(operation_id, DISCONNECT, None),
        }
        joined = await _write_or_join(updated, record.get("etag"), DISCONNECT, None)
        if joined is not None:
            return joined
    forced = connection is not None and (
        connection.delete_or_update_behavior is DeleteOrUpdateBehavior.FORCED_CLEANUP
    )
    await _start_once(
        client,
        DISCONNECT,
        operation_id,
        {
            "linkerId": linker_id,
            "operationId": operation_id,
            "forcedCleanup": forced,
            "policy": settings.policy(),
        },
    )
    return Started(operation_id, DISCONNECT, linker_id, new=True)


async def start_plain(
    client: df.DurableOrchestrationClient, kind: str, payload: dict[str, Any], settings: TriggerSettings
) -> str:
    """Start an operation that does not change a connection's desired state (validate, reset, reconcile)."""
    operation_id = new_operation_id()
    await _start_once(
        client, kind, operation_id, {**payload, "operationId": operation_id, "policy": settings.policy()}
    )
    return operation_id


async def _start_once(
    client: df.DurableOrchestrationClient, name: str, instance_id: str, payload: dict[str, Any]
) -> None:
    """Start the orchestration unless an instance with this id exists already (a redelivered request)."""
    existing = await client.get_status(instance_id)
    if existing.runtime_status is not None:
        return
    await client.start_new(name, instance_id, payload)
