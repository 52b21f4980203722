"""Service Bus triggers: receive with the azure-servicebus SDK (aio), peek-lock, settle as the host does.

Success completes the message; an exception abandons it, so the broker redelivers it with a higher delivery
count and dead-letters it at the queue's max delivery count. `maxConcurrentCalls` receivers run per function,
each handling one message at a time (SDK receivers are not safe for concurrent use). Lock renewal and
sessions are not supported (sessions fail at start with a clear error).

Stopping is bounded and loses no message. `stop()` takes no new messages; receivers that are only waiting
for one are cancelled at once. A function already running gets `stop_grace` seconds to finish, and its
message is then completed or abandoned as usual; one still running after that is cancelled and its message
abandoned, so the broker redelivers it at once (its delivery count goes up by one). What the broker cannot be
told (it is gone, or does not answer within `settle_timeout`) is left to lock expiry. A message is completed
only after its function succeeded.

Cancellation alone cannot stop a receiver on Python 3.11: the SDK reads every AMQP frame through
`asyncio.wait_for`, which drops a cancellation that arrives as a frame does (CPython gh-86296, fixed in 3.12).
A receive loop that lost it used to run on forever, and `stop()` waited for it. So the loops also check a
stop flag, `stop()` cancels again on every pass while a receiver is still waiting, and it stops waiting at a
deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from azure.functions.servicebus import ServiceBusMessage
from azure.servicebus import ServiceBusReceivedMessage, ServiceBusReceiveMode
from azure.servicebus.aio import ServiceBusClient, ServiceBusReceiver

from devhost.discovery import FunctionInfo
from devhost.invoker import Invoker
from devhost.settings import SettingsError, resolve

log = logging.getLogger("devhost")

DEFAULT_CONNECTION = "AzureWebJobsServiceBus"
_STOP_POLL = 0.05  # seconds between stop()'s passes over the receivers
_RECONNECT_PAUSE = 1.0

# What a receive slot is doing, which tells stop() whether it may interrupt it.
RECEIVING = "receiving"  # waiting for a message, opening a link or pausing to reconnect: holds no message
INVOKING = "invoking"  # running the function for a locked message: has the grace period
SETTLING = "settling"  # completing or abandoning the message: left alone until the deadline
CLOSING = "closing"  # closing its receiver: left alone until the deadline


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
    # `<connection>__credential` (only "managedidentity") and `__clientId`, as the host reads them.
    managed_identity: bool = False
    client_id: str | None = None


def resolve_source(info: FunctionInfo, environ: Mapping[str, str]) -> ServiceBusSource:
    """Resolve a serviceBusTrigger binding: entity names through %NAME%, the connection through settings."""
    trigger = info.trigger
    if trigger.get("isSessionsEnabled"):
        raise SettingsError(
            f"function '{info.name}': isSessionsEnabled is not supported by the devhost (sessions need the "
            "$management operations the local broker lacks)"
        )
    connection = resolve(str(trigger.get("connection") or DEFAULT_CONNECTION), environ)
    queue = resolve(trigger["queueName"], environ) if trigger.get("queueName") else None
    topic = resolve(trigger["topicName"], environ) if trigger.get("topicName") else None
    subscription = resolve(trigger["subscriptionName"], environ) if trigger.get("subscriptionName") else None
    if queue is None and (topic is None or subscription is None):
        raise SettingsError(
            f"function '{info.name}': a Service Bus trigger needs queueName, or topicName "
            "and subscriptionName"
        )
    connection_string = environ.get(connection) or None
    namespace = environ.get(f"{connection}__fullyQualifiedNamespace") or None
    if connection_string is None and namespace is None:
        raise SettingsError(
            f"function '{info.name}': Service Bus connection '{connection}' is not defined; set the app "
            f"setting {connection} (a connection string) or {connection}__fullyQualifiedNamespace (identity)"
        )
    credential = (environ.get(f"{connection}__credential") or "").strip()
    client_id = environ.get(f"{connection}__clientId") or None
    if credential and credential.lower() != "managedidentity":
        raise SettingsError(
            f"function '{info.name}': {connection}__credential must be 'managedidentity', got {credential!r}"
        )
    if client_id and not credential:
        raise SettingsError(
            f"function '{info.name}': {connection}__clientId needs {connection}__credential=managedidentity"
        )
    entity = queue or f"{topic}/Subscriptions/{subscription}"
    return ServiceBusSource(
        info,
        entity,
        queue,
        topic,
        subscription,
        connection_string,
        namespace,
        str(trigger.get("cardinality", "one")).lower() == "many",
        managed_identity=bool(credential),
        client_id=client_id,
    )


def _is_local_emulator(namespace: str) -> bool:
    """A loopback namespace with an explicit port (`127.0.0.1:5672`): a development emulator, plain AMQP."""
    host, _, port = namespace.rpartition(":")
    return port.isdigit() and host.strip("[]") in {"127.0.0.1", "localhost", "::1"}


def _client(source: ServiceBusSource) -> ServiceBusClient:
    if source.connection_string is not None:
        return ServiceBusClient.from_connection_string(source.connection_string)
    # Identity-based connection, as the host's `<name>__fullyQualifiedNamespace` setting.
    from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential

    assert source.namespace is not None
    # An authority host outside Microsoft's clouds (a local Entra stand-in) cannot pass MSAL's instance
    # discovery, which asks login.microsoftonline.com: it is trusted as configured.
    authority = urlsplit(
        os.environ.get("AZURE_AUTHORITY_HOST") or "https://login.microsoftonline.com"
    ).hostname
    well_known = authority in (
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
    )
    discovery = {} if well_known else {"disable_instance_discovery": True}
    # azure-core's aiohttp transport does not read REQUESTS_CA_BUNDLE (the synchronous clients' CA bundle,
    # which trusts a local identity endpoint or authority): it is given the same bundle.
    bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    transport: dict[str, Any] = {"connection_verify": bundle} if bundle else {}
    credential: Any = (
        ManagedIdentityCredential(client_id=source.client_id, **transport)
        if source.managed_identity
        else DefaultAzureCredential(**discovery, **transport)
    )
    # The local emulator speaks plain AMQP on its own port, as with `UseDevelopmentEmulator=true`.
    emulator: dict[str, Any] = {"use_tls": False} if _is_local_emulator(source.namespace) else {}
    return ServiceBusClient(source.namespace, credential=credential, **emulator)


@dataclass(eq=False)
class ReceiveSlot:
    """One of a function's `maxConcurrentCalls` receive loops, and what it is doing now."""

    name: str
    phase: str = RECEIVING
    task: asyncio.Task[None] | None = field(default=None, repr=False)


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
        stop_grace: float = 5.0,
        settle_timeout: float = 3.0,
    ) -> None:
        self.invoker = invoker
        self.max_concurrent_calls = max(1, max_concurrent_calls)
        self.max_wait_time = max_wait_time
        self.stop_grace = stop_grace  # how long stop() lets running functions finish
        self.settle_timeout = settle_timeout  # then how long for settling and closing receivers, and clients
        # Resolved now, so a missing connection or queue setting fails the host start with a clear message.
        self.sources = [resolve_source(info, environ) for info in functions]
        self._clients: list[ServiceBusClient] = []
        self.slots: list[ReceiveSlot] = []
        self._stopping = False

    async def start(self) -> None:
        """Open one client per function and `max_concurrent_calls` receive loops on it."""
        self._stopping = False
        for source in self.sources:
            client = _client(source)
            self._clients.append(client)
            for number in range(self.max_concurrent_calls):
                slot = ReceiveSlot(f"servicebus:{source.function.name}:{number}")
                slot.task = asyncio.create_task(self._receive_loop(slot, client, source), name=slot.name)
                self.slots.append(slot)

    async def stop(self) -> None:
        """Take no new messages, let running functions finish within `stop_grace`, then close; bounded."""
        self._stopping = True
        loop = asyncio.get_running_loop()
        cut_off = loop.time() + self.stop_grace
        deadline = cut_off + self.settle_timeout
        while running := [slot for slot in self.slots if not _task(slot).done()]:
            now = loop.time()
            if now >= deadline:
                break
            for slot in running:
                if slot.phase == RECEIVING or (slot.phase == INVOKING and now >= cut_off):
                    # Again on every pass, as a cancellation can be lost (see the module docstring).
                    _task(slot).cancel()
            await asyncio.wait([_task(slot) for slot in running], timeout=min(_STOP_POLL, deadline - now))
        for slot in running:
            log.warning(
                "Service Bus receiver %s still %s %.1fs after stop; closing its connection under it",
                slot.name,
                slot.phase,
                self.stop_grace + self.settle_timeout,
            )
            _task(slot).cancel()
        await self._close_clients()
        self.slots.clear()

    async def _close_clients(self) -> None:
        closing = [asyncio.create_task(client.close(), name="servicebus:close") for client in self._clients]
        self._clients.clear()
        if not closing:
            return
        done, late = await asyncio.wait(closing, timeout=self.settle_timeout)
        for task in late:
            log.warning("Service Bus client did not close within %.1fs; dropping it", self.settle_timeout)
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.debug("Service Bus client close failed: %r", task.exception())

    def _receiver(self, client: ServiceBusClient, source: ServiceBusSource) -> ServiceBusReceiver:
        if source.queue is not None:
            return client.get_queue_receiver(
                source.queue, receive_mode=ServiceBusReceiveMode.PEEK_LOCK, prefetch_count=0
            )
        assert source.topic is not None and source.subscription is not None
        return client.get_subscription_receiver(
            source.topic, source.subscription, receive_mode=ServiceBusReceiveMode.PEEK_LOCK, prefetch_count=0
        )

    async def _receive_loop(
        self, slot: ReceiveSlot, client: ServiceBusClient, source: ServiceBusSource
    ) -> None:
        while not self._stopping:
            slot.phase = RECEIVING
            receiver = self._receiver(client, source)
            failed = False
            try:
                # Opened here: opened by the first receive, the link would get only that receive's budget.
                async with receiver:
                    try:
                        while not self._stopping:
                            slot.phase = RECEIVING
                            batch = await receiver.receive_messages(
                                max_message_count=1, max_wait_time=self.max_wait_time
                            )
                            # A message received as stop began is handled all the same: it is locked to us.
                            for message in batch:
                                await self._handle(slot, receiver, source, message)
                    finally:
                        # Also when cancelled: closing releases what the link holds, so nothing stays locked.
                        slot.phase = CLOSING
            except Exception as exc:
                if not self._stopping:
                    # A broken link or connection: report, then reconnect after a pause, as the host does.
                    log.warning(
                        "Service Bus receiver for '%s' failed (%s: %s); reconnecting",
                        source.function.name,
                        type(exc).__name__,
                        exc,
                    )
                    failed = True
            finally:
                slot.phase = CLOSING
                with contextlib.suppress(Exception):
                    await receiver.close()  # a no-op unless the opening itself was interrupted
            if failed:
                slot.phase = RECEIVING
                await asyncio.sleep(_RECONNECT_PAUSE)

    async def _handle(
        self,
        slot: ReceiveSlot,
        receiver: ServiceBusReceiver,
        source: ServiceBusSource,
        message: ServiceBusReceivedMessage,
    ) -> None:
        converted = to_function_message(message)
        slot.phase = INVOKING
        try:
            await self.invoker.invoke(source.function, [converted] if source.many else converted)
        except asyncio.CancelledError:
            # stop() cut the function off after its grace: hand the message back now, not at lock expiry.
            slot.phase = SETTLING
            log.warning(
                "Function '%s' was still running %.1fs after stop; abandoning message %s",
                source.function.name,
                self.stop_grace,
                message.message_id,
            )
            with contextlib.suppress(Exception):
                await receiver.abandon_message(message)
            raise
        except Exception:
            # The invoker reported the failure; abandoning makes the broker redeliver or dead-letter it.
            slot.phase = SETTLING
            await receiver.abandon_message(message)
            return
        slot.phase = SETTLING
        await receiver.complete_message(message)


def _task(slot: ReceiveSlot) -> asyncio.Task[None]:
    assert slot.task is not None, "slot not started"
    return slot.task
