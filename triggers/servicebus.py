"""Connection requests from a Service Bus queue (SERVICEBUS_REQUESTS_QUEUE).

Body: `{"id": "<linker id>", "properties": {...}}` creates or updates (the linker PUT body's properties;
optional `"apiVersion"`, default 2024-04-01); `{"id": "<linker id>", "operation": "delete"}` deletes.

Settlement, decided once:
- accepted: the operation is started with an id derived from the message id, and the message completes. A
  redelivered message (same message id) finds its operation and starts nothing new. The operation ends with
  a `ConnectionOperationCompleted` event on SERVICEBUS_EVENTS_QUEUE when set (sent by the orchestration).
- rejected (invalid JSON or body, a body over the parsing limits of connector.bounded_json, a cluster outside
  ALLOWED_SCOPES, another operation in progress): the message completes — it is *not* retried, since the
  same body would be refused again — and the reason is recorded: a warning in the log and a
  `ConnectionRequestRejected` event {messageId, linkerId, code, message, target} on SERVICEBUS_EVENTS_QUEUE
  when set.
- transient failure (registry or Durable client unreachable): the function raises, the host abandons the
  message and Service Bus redelivers it (and dead-letters it at the queue's max delivery count).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from connector.bounded_json import loads_bounded
from connector.validation import INVALID_REQUEST_BODY, MISSING_REQUIRED_FIELD, RequestValidationError
from connector.wire import API_2024_04_01, parse_linker, split_linker_id
from telemetry import log as log_record
from triggers import arm_format as arm
from triggers import events
from triggers import operations as ops
from triggers.blueprint import bp
from triggers.settings import TriggerSettings

_LOG = logging.getLogger(__name__)


class Rejected(Exception):
    """A request that will never be accepted as sent."""

    def __init__(self, code: str, message: str, target: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.target = target


def message_key(message: func.ServiceBusMessage) -> str:
    """The message id, or a hash of the body when the sender set none (identical bodies then count as one)."""
    message_id = getattr(message, "message_id", None)
    if message_id:
        return str(message_id)
    return "sha256:" + hashlib.sha256(message.get_body()).hexdigest()


def parse_request(body: bytes) -> tuple[str, str, dict[str, Any], str]:
    """(linker id, operation, PUT-shaped body, api-version) of a queue message; Rejected when invalid."""
    try:
        document = loads_bounded(body, what="message body")
    except RequestValidationError as invalid:  # not JSON, or over a size, depth or element-count limit
        raise Rejected(invalid.code, invalid.message) from None
    if not isinstance(document, dict):
        raise Rejected(INVALID_REQUEST_BODY, "The message body must be a JSON object.")
    linker_id = document.get("id")
    if not isinstance(linker_id, str) or not linker_id:
        raise Rejected(MISSING_REQUIRED_FIELD, "'id' (the linker id) is required.", "id")
    operation = str(document.get("operation") or "createOrUpdate")
    if operation.lower() not in ("createorupdate", "delete"):
        raise Rejected(INVALID_REQUEST_BODY, "'operation' must be 'createOrUpdate' or 'delete'.", "operation")
    api_version = str(document.get("apiVersion") or API_2024_04_01)
    return linker_id, operation.lower(), {"properties": document.get("properties")}, api_version


async def handle_request(
    client: df.DurableOrchestrationClient, key: str, body: bytes, settings: TriggerSettings
) -> str | None:
    """Start the operation a message asks for; its id, or None when there is nothing to do."""
    operation_id = ops.operation_id_for_message(key)
    if (await client.get_status(operation_id)).runtime_status is not None:
        log_record(logging.INFO, "message handled already", message_id=key, operation_id=operation_id)
        return operation_id
    linker_id, operation, document, api_version = parse_request(body)
    try:
        cluster, _name = split_linker_id(linker_id)
    except RequestValidationError as invalid:
        raise Rejected(invalid.code, invalid.message, invalid.target) from None
    if not settings.allows(cluster.id):
        raise Rejected(
            arm.AUTHORIZATION_FAILED,
            f"The cluster '{cluster.id}' is outside this instance's ALLOWED_SCOPES.",
            "id",
        )
    record = await ops.get_record(linker_id)
    try:
        if operation == "delete":
            if record is None:
                log_record(
                    logging.INFO, "delete of an unknown connection: nothing to do", linker_id=linker_id
                )
                return None
            started = await ops.submit_disconnect(client, record, settings, operation_id=operation_id)
        else:
            existing = ops.stored_connection(record)
            connection = parse_linker(linker_id, document, api_version, existing=existing)
            violation = settings.scope_violation(connection)
            if violation is not None:
                raise Rejected(
                    arm.AUTHORIZATION_FAILED,
                    violation.message("Microsoft.ServiceLinker/linkers/write"),
                    violation.field,
                )
            started = await ops.submit_connect(
                client,
                connection,
                settings,
                record=record,
                operation_id=operation_id,
                caller=ops.SERVICE_BUS_CALLER,
            )
    except RequestValidationError as invalid:
        raise Rejected(invalid.code, invalid.message, invalid.target) from None
    except ops.OperationConflict as conflict:
        raise Rejected(arm.ANOTHER_OPERATION_IN_PROGRESS, str(conflict)) from None
    return started.operation_id


@bp.service_bus_queue_trigger(
    arg_name="message", queue_name="%SERVICEBUS_REQUESTS_QUEUE%", connection="SERVICEBUS_CONNECTION"
)
@bp.durable_client_input(client_name="client")
async def connection_request(message: func.ServiceBusMessage, client: df.DurableOrchestrationClient) -> None:
    """Create, update or delete a connection from a queue message (settlement: see the module docstring)."""
    settings = TriggerSettings.from_env()
    key = message_key(message)
    try:
        operation_id = await handle_request(client, key, message.get_body(), settings)
    except Rejected as rejected:
        log_record(logging.WARNING, "connection request rejected", message_id=key, error_code=rejected.code)
        await events.publish(
            settings.events_queue,
            {
                "type": events.REJECTED,
                "messageId": key,
                "linkerId": _linker_id_of(message.get_body()),
                "code": rejected.code,
                "message": rejected.message,
                "target": rejected.target,
            },
        )
        return
    if operation_id is not None:
        log_record(logging.INFO, "connection request started", message_id=key, operation_id=operation_id)


def _linker_id_of(body: bytes) -> str | None:
    try:
        document = loads_bounded(body, what="message body")
    except RequestValidationError:
        return None
    linker_id = document.get("id") if isinstance(document, dict) else None
    return linker_id if isinstance(linker_id, str) else None
