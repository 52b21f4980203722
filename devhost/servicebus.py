"""Service Bus triggers: receive with the azure-servicebus SDK (aio), peek-lock, settle as the host does.

Success completes the message; an exception abandons it, so the broker redelivers it with a higher delivery
count and dead-letters it at the queue's max delivery count. `maxConcurrentCalls` receivers run per function,
each handling one message at a time (SDK receivers are not safe for concurrent use). Lock renewal and
sessions are not supported (sessions fail at start with a clear error).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azure.functions.servicebus import ServiceBusMessage
from azure.servicebus import ServiceBusReceivedMessage, ServiceBusReceiveMode
from azure.servicebus.aio import ServiceBusClient, ServiceBusReceiver

from devhost.discovery import FunctionInfo
from devhost.invoker import Invoker
from devhost.settings import SettingsError, resolve

log = logging.getLogger("devhost")

DEFAULT_CONNECTION = "AzureWebJobsServiceBus"


def _text(value: Any) -> Any:
    # pyamqp hands AMQP strings back as bytes; the worker gives functions str.
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def to_function_message(message: ServiceBusReceivedMessage) -> ServiceBusMessage:
    """The azure.functions ServiceBusMessage the worker builds from a received message, with its metadata."""
    properties = {_text(k): _text(v) for k, v in (message.application_properties or {}).items()}
    body = message.body
    if not isinstance(body, bytes | bytearray):
        body = b"".join(bytes(part) for part in body)
    return ServiceBusMessage(
        body=bytes(body),
        application_properties=dict(properties),
        user_properties=dict(properties),
        content_type=message.content_type,
        correlation_id=message.correlation_id,
        dead_letter_error_description=message.dead_letter_error_description,
        dead_letter_reason=message.dead_letter_reason,
        dead_letter_source=message.dead_letter_source,
        delivery_count=message.delivery_count,
        enqueued_sequence_number=message.enqueued_sequence_number,
        enqueued_time_utc=message.enqueued_time_utc,
        expires_at_utc=message.expires_at_utc,
        label=message.subject,
        locked_until=message.locked_until_utc,
        lock_token=str(message.lock_token) if message.lock_token is not None else None,
        message_id=message.message_id or "",
        partition_key=message.partition_key,
        reply_to=message.reply_to,
        reply_to_session_id=message.reply_to_session_id,
        scheduled_enqueue_time_utc=message.scheduled_enqueue_time_utc,
        sequence_number=message.sequence_number,
        session_id=message.session_id,
        subject=message.subject,
        time_to_live=message.time_to_live,
        to=message.to,
    )


@dataclass(frozen=True)
class ServiceBusSource:
    """Where one trigger receives from, resolved from settings."""

    function: FunctionInfo
    entity: str  # queue name, or "topic/Subscriptions/subscription" for messages
    queue: str | None
    topic: str | None
    subscription: str | None
    connection_string: str | None
    namespace: str | None
    many: bool


def resolve_source(info: FunctionInfo, environ: Mapping[str, str]) -> ServiceBusSource:
    """Resolve a serviceBusTrigger binding: entity names through %NAME%, the connection through settings."""
    trigger = info.trigger
    if trigger.get("isSessionsEnabled"):
        raise SettingsError(
            f"function '{info.name}': isSessionsEnabled is not supported by the devhost (sessions need the "
            "$management operations the local broker lacks)")
    connection = resolve(str(trigger.get("connection") or DEFAULT_CONNECTION), environ)
    queue = resolve(trigger["queueName"], environ) if trigger.get("queueName") else None
    topic = resolve(trigger["topicName"], environ) if trigger.get("topicName") else None
    subscription = resolve(trigger["subscriptionName"], environ) if trigger.get("subscriptionName") else None
    if queue is None and (topic is None or subscription is None):
        raise SettingsError(f"function '{info.name}': a Service Bus trigger needs queueName, or topicName "
                            "and subscriptionName")
    connection_string = environ.get(connection) or None
    namespace = environ.get(f"{connection}__fullyQualifiedNamespace") or None
    if connection_string is None and namespace is None:
        raise SettingsError(
            f"function '{info.name}': Service Bus connection '{connection}' is not defined; set the app "
            f"setting {connection} (a connection string) or {connection}__fullyQualifiedNamespace (identity)")
    entity = queue or f"{topic}/Subscriptions/{subscription}"
    return ServiceBusSource(info, entity, queue, topic, subscription, connection_string, namespace,
                            str(trigger.get("cardinality", "one")).lower() == "many")


def _client(source: ServiceBusSource) -> ServiceBusClient:
    if source.connection_string is not None:
        return ServiceBusClient.from_connection_string(source.connection_string)
    # Identity-based connection, as the host's `<name>__fullyQualifiedNamespace` setting.
    from azure.identity.aio import DefaultAzureCredential

    assert source.namespace is not None
    return ServiceBusClient(source.namespace, credential=DefaultAzureCredential())


class ServiceBusListener:
    """Receives messages for every serviceBusTrigger function and invokes it once per message."""

    def __init__(
        self,
        functions: list[FunctionInfo],
        *,
        invoker: Invoker,
        environ: Mapping[str, str],
        max_concurrent_calls: int = 16,
        max_wait_time: float = 1.0,
    ) -> None:
        self.invoker = invoker
        self.max_concurrent_calls = max(1, max_concurrent_calls)
        self.max_wait_time = max_wait_time
        # Resolved now, so a missing connection or queue setting fails the host start with a clear message.
        self.sources = [resolve_source(info, environ) for info in functions]
        self._clients: list[ServiceBusClient] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Open one client per function and `max_concurrent_calls` receive loops on it."""
        for source in self.sources:
            client = _client(source)
            self._clients.append(client)
            for slot in range(self.max_concurrent_calls):
                self._tasks.append(asyncio.create_task(
                    self._receive_loop(client, source), name=f"servicebus:{source.function.name}:{slot}"))

    async def stop(self) -> None:
        """Stop receiving; a message being handled is abandoned by the broker's lock expiry."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.close()
        self._clients.clear()

    def _receiver(self, client: ServiceBusClient, source: ServiceBusSource) -> ServiceBusReceiver:
        if source.queue is not None:
            return client.get_queue_receiver(source.queue, receive_mode=ServiceBusReceiveMode.PEEK_LOCK,
                                             prefetch_count=0)
        assert source.topic is not None and source.subscription is not None
        return client.get_subscription_receiver(
            source.topic, source.subscription, receive_mode=ServiceBusReceiveMode.PEEK_LOCK, prefetch_count=0)

    async def _receive_loop(self, client: ServiceBusClient, source: ServiceBusSource) -> None:
        while True:
            try:
                async with self._receiver(client, source) as receiver:
                    while True:
                        batch = await receiver.receive_messages(max_message_count=1,
                                                                max_wait_time=self.max_wait_time)
                        for message in batch:
                            await self._handle(receiver, source, message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A broken link or connection: report, then reconnect after a pause, as the host does.
                log.warning("Service Bus receiver for '%s' failed (%s: %s); reconnecting",
                            source.function.name, type(exc).__name__, exc)
                await asyncio.sleep(1.0)

    async def _handle(self, receiver: ServiceBusReceiver, source: ServiceBusSource,
                      message: ServiceBusReceivedMessage) -> None:
        converted = to_function_message(message)
        try:
            await self.invoker.invoke(source.function, [converted] if source.many else converted)
        except Exception:
            # The invoker reported the failure; abandoning makes the broker redeliver or dead-letter it.
            await receiver.abandon_message(message)
            return
        await receiver.complete_message(message)
