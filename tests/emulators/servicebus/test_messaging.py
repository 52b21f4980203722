"""Sending and receiving through the real azure-servicebus clients (sync and aio)."""

from __future__ import annotations

import asyncio
import time
import uuid

from azure.core.credentials import AccessToken
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusReceiveMode
from azure.servicebus.aio import ServiceBusClient as AsyncServiceBusClient

from emulators.servicebus import ServiceBusEmulator
from tests.emulators.servicebus.conftest import NO_KEEP_ALIVE, open_receiver, open_sender

RECEIVE_AND_DELETE = ServiceBusReceiveMode.RECEIVE_AND_DELETE
WAIT = 5  # upper bound for a receive that should return at once; the receive returns as soon as it has all


def test_a_waiting_peek_lock_receiver_gets_a_message_sent_later_which_is_gone_once_completed(
    client: ServiceBusClient, servicebus_emulator: ServiceBusEmulator, servicebus_queue: str
) -> None:
    with open_receiver(client, servicebus_queue) as receiver, open_sender(client, servicebus_queue) as sender:
        assert receiver.receive_messages(max_message_count=1, max_wait_time=0.3) == []
        sender.send_messages(ServiceBusMessage("hello"))
        [message] = receiver.receive_messages(max_message_count=1, max_wait_time=WAIT)

        assert str(message) == "hello"
        assert isinstance(message.lock_token, uuid.UUID)
        assert message.delivery_count == 0
        assert message.locked_until_utc is not None and message.enqueued_time_utc is not None
        # Both come from the broker's clock (which other tests may have moved ahead of the wall clock).
        lock_duration = (message.locked_until_utc - message.enqueued_time_utc).total_seconds()
        assert 30 <= lock_duration < 31  # the queue's default lock duration, 30 s
        counts = servicebus_emulator.counts(servicebus_queue)
        assert (counts.active, counts.locked) == (1, 1)

        receiver.complete_message(message)

        assert servicebus_emulator.message_count(servicebus_queue) == 0
        assert receiver.receive_messages(max_message_count=1, max_wait_time=0.3) == []


def test_a_list_and_a_batch_arrive_as_separate_messages_in_order(
    client: ServiceBusClient, servicebus_emulator: ServiceBusEmulator, servicebus_queue: str
) -> None:
    with open_sender(client, servicebus_queue) as sender:
        sender.send_messages([ServiceBusMessage(body, message_id=body) for body in ("a", "b", "c")])
        batch = sender.create_message_batch()
        for body in ("d", "e", "f", "g"):
            batch.add_message(ServiceBusMessage(body, message_id=body))
        sender.send_messages(batch)

    assert servicebus_emulator.message_count(servicebus_queue) == 7
    with open_receiver(client, servicebus_queue, receive_mode=RECEIVE_AND_DELETE) as receiver:
        messages = _receive(receiver, 7)

    assert [(str(m), m.message_id) for m in messages] == [(body, body) for body in "abcdefg"]
    sequence_numbers = [m.sequence_number for m in messages]
    assert sequence_numbers == sorted(sequence_numbers) and len(set(sequence_numbers)) == 7


def test_message_properties_survive_the_round_trip(
    client: ServiceBusClient, servicebus_emulator: ServiceBusEmulator, servicebus_queue: str
) -> None:
    sent_at = servicebus_emulator.now()
    with open_sender(client, servicebus_queue) as sender:
        sender.send_messages(
            ServiceBusMessage(
                '{"linker": "l1"}',
                message_id="connect-l1",
                correlation_id="op-42",
                subject="connect",
                content_type="application/json",
                application_properties={"kind": "connect", "attempt": 3, "dry_run": False},
            )
        )

    with open_receiver(client, servicebus_queue) as receiver:
        [message] = receiver.receive_messages(max_message_count=1, max_wait_time=WAIT)
        receiver.complete_message(message)

    assert str(message) == '{"linker": "l1"}'
    assert message.message_id == "connect-l1"
    assert message.correlation_id == "op-42"
    assert message.subject == "connect"
    assert message.content_type == "application/json"
    # pyamqp hands AMQP strings back as bytes, against Azure as here.
    assert message.application_properties == {b"kind": b"connect", b"attempt": 3, b"dry_run": False}
    assert message.sequence_number is not None and message.sequence_number >= 1
    assert message.enqueued_time_utc is not None
    assert -0.01 <= (message.enqueued_time_utc - sent_at).total_seconds() < 5  # AMQP timestamps are in ms


def test_receive_and_delete_removes_the_message_on_delivery(
    client: ServiceBusClient, servicebus_emulator: ServiceBusEmulator, servicebus_queue: str
) -> None:
    with open_sender(client, servicebus_queue) as sender:
        sender.send_messages([ServiceBusMessage("one"), ServiceBusMessage("two")])

    with open_receiver(client, servicebus_queue, receive_mode=RECEIVE_AND_DELETE) as rcv:
        [first] = rcv.receive_messages(max_message_count=1, max_wait_time=WAIT)
        assert str(first) == "one"
        assert first.lock_token is None
        assert servicebus_emulator.counts(servicebus_queue).locked == 0
        [second] = rcv.receive_messages(max_message_count=1, max_wait_time=WAIT)

    assert str(second) == "two"
    assert servicebus_emulator.message_count(servicebus_queue) == 0


def test_the_aio_client_sends_receives_and_completes(
    servicebus_emulator: ServiceBusEmulator, servicebus_queue: str
) -> None:
    async def scenario() -> list[str]:
        connection_string = servicebus_emulator.connection_string
        async with AsyncServiceBusClient.from_connection_string(connection_string) as client:
            async with client.get_queue_sender(servicebus_queue, **NO_KEEP_ALIVE) as sender:
                await sender.send_messages([ServiceBusMessage("x"), ServiceBusMessage("y")])
            async with client.get_queue_receiver(servicebus_queue, **NO_KEEP_ALIVE) as receiver:
                received: list[str] = []
                deadline = time.monotonic() + WAIT
                while len(received) < 2 and time.monotonic() < deadline:
                    for message in await receiver.receive_messages(max_message_count=2, max_wait_time=WAIT):
                        await receiver.complete_message(message)
                        received.append(str(message))
                return received

    assert asyncio.run(scenario()) == ["x", "y"]
    assert servicebus_emulator.message_count(servicebus_queue) == 0


class _StaticCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("local-token", int(time.time()) + 3600)


def test_a_token_credential_works_as_well_as_a_connection_string(
    servicebus_emulator: ServiceBusEmulator, servicebus_queue: str
) -> None:
    namespace = f"{servicebus_emulator.host}:{servicebus_emulator.port}"
    with ServiceBusClient(namespace, credential=_StaticCredential(), use_tls=False) as client:
        with open_sender(client, servicebus_queue) as sender:
            sender.send_messages(ServiceBusMessage("via credential"))
        with open_receiver(client, servicebus_queue) as receiver:
            [message] = receiver.receive_messages(max_message_count=1, max_wait_time=WAIT)
            receiver.complete_message(message)
    assert str(message) == "via credential"


def _receive(receiver: object, count: int) -> list:  # type: ignore[type-arg]
    """Receive until `count` messages arrived (a receive call may return fewer than asked)."""
    messages: list = []  # type: ignore[type-arg]
    deadline = time.monotonic() + WAIT
    while len(messages) < count and time.monotonic() < deadline:
        messages += receiver.receive_messages(  # type: ignore[attr-defined]
            max_message_count=count - len(messages), max_wait_time=WAIT
        )
    return messages
