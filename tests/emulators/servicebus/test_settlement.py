"""Peek-lock settlement through the real SDK: abandon, dead-letter, max deliveries and lock expiry."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSubQueue
from azure.servicebus.exceptions import MessageLockLostError

from emulators.servicebus import ServiceBusEmulator
from tests.emulators.servicebus.conftest import eventually, open_receiver, open_sender

WAIT = 5


def test_an_abandoned_message_is_redelivered_with_its_delivery_count_raised(
    client: ServiceBusClient, servicebus_emulator: ServiceBusEmulator, servicebus_queue: str
) -> None:
    with open_sender(client, servicebus_queue) as sender:
        sender.send_messages(ServiceBusMessage("retry me", message_id="m-1"))

    with open_receiver(client, servicebus_queue) as receiver:
        [first] = receiver.receive_messages(max_message_count=1, max_wait_time=WAIT)
        first_lock = first.lock_token
        receiver.abandon_message(first)
        [again] = receiver.receive_messages(max_message_count=1, max_wait_time=WAIT)
        again_lock = again.lock_token
        receiver.complete_message(again)

    assert (first.message_id, first.delivery_count) == ("m-1", 0)
    assert (again.message_id, again.delivery_count) == ("m-1", 1)
    assert again_lock is not None and again_lock != first_lock  # a new lock for each delivery
    assert again.sequence_number == first.sequence_number
    assert servicebus_emulator.message_count(servicebus_queue) == 0


def test_a_dead_lettered_message_is_read_back_from_the_dead_letter_queue_with_its_reason(
    client: ServiceBusClient, servicebus_emulator: ServiceBusEmulator, servicebus_queue: str
) -> None:
    with open_sender(client, servicebus_queue) as sender:
        sender.send_messages(ServiceBusMessage("poison", message_id="m-2", application_properties={"k": "v"}))

    with open_receiver(client, servicebus_queue) as receiver:
        [message] = receiver.receive_messages(max_message_count=1, max_wait_time=WAIT)
        receiver.dead_letter_message(message, reason="InvalidBody", error_description="body is not JSON")

    counts = servicebus_emulator.counts(servicebus_queue)
    assert (counts.active, counts.dead_letter) == (0, 1)

    with open_receiver(client, servicebus_queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as dead_letters:
        [dead] = dead_letters.receive_messages(max_message_count=1, max_wait_time=WAIT)
        dead_letters.complete_message(dead)

    assert str(dead) == "poison"
    assert dead.message_id == "m-2"
    assert dead.dead_letter_reason == "InvalidBody"
    assert dead.dead_letter_error_description == "body is not JSON"
    assert dead.application_properties is not None and dead.application_properties[b"k"] == b"v"
    assert servicebus_emulator.dead_letter_count(servicebus_queue) == 0


def test_a_message_abandoned_max_delivery_count_times_is_dead_lettered(
    client: ServiceBusClient,
    servicebus_emulator: ServiceBusEmulator,
    new_servicebus_queue: Callable[..., str],
) -> None:
    queue = new_servicebus_queue(max_delivery_count=3)
    with open_sender(client, queue) as sender:
        sender.send_messages(ServiceBusMessage("never works"))

    counts_seen = []
    with open_receiver(client, queue) as receiver:
        for _ in range(3):
            [message] = receiver.receive_messages(max_message_count=1, max_wait_time=WAIT)
            counts_seen.append(message.delivery_count)
            receiver.abandon_message(message)
        assert receiver.receive_messages(max_message_count=1, max_wait_time=0.3) == []

    assert counts_seen == [0, 1, 2]
    assert servicebus_emulator.counts(queue).active == 0
    with open_receiver(client, queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as dead_letters:
        [dead] = dead_letters.receive_messages(max_message_count=1, max_wait_time=WAIT)
        dead_letters.complete_message(dead)
    assert str(dead) == "never works"
    assert dead.dead_letter_reason == "MaxDeliveryCountExceeded"
    assert dead.dead_letter_error_description == "Message could not be consumed after 3 delivery attempts."
    assert dead.delivery_count == 3


def test_an_expired_lock_makes_the_message_available_again_and_its_old_lock_is_lost(
    client: ServiceBusClient,
    servicebus_emulator: ServiceBusEmulator,
    new_servicebus_queue: Callable[..., str],
) -> None:
    queue = new_servicebus_queue(lock_duration=30)
    with open_sender(client, queue) as sender:
        sender.send_messages(ServiceBusMessage("slow consumer", message_id="m-3"))

    with open_receiver(client, queue) as slow, open_receiver(client, queue) as other:
        [held] = slow.receive_messages(max_message_count=1, max_wait_time=WAIT)
        assert other.receive_messages(max_message_count=1, max_wait_time=0.3) == []

        servicebus_emulator.advance_clock(31)

        [redelivered] = other.receive_messages(max_message_count=1, max_wait_time=WAIT)
        assert (redelivered.message_id, redelivered.delivery_count) == ("m-3", 1)
        with pytest.raises(MessageLockLostError):
            slow.complete_message(held)
        other.complete_message(redelivered)

    assert servicebus_emulator.message_count(queue) == 0


def test_lock_expiry_redelivers_to_a_waiting_receiver_without_any_client_action(
    client: ServiceBusClient, new_servicebus_queue: Callable[..., str]
) -> None:
    # Real time here: the broker's own timer must release the lock while the receiver just waits.
    queue = new_servicebus_queue(lock_duration=0.3)
    with open_sender(client, queue) as sender:
        sender.send_messages(ServiceBusMessage("expires"))

    with open_receiver(client, queue, prefetch_count=0) as receiver:
        [held] = receiver.receive_messages(max_message_count=1, max_wait_time=WAIT)
        started = time.monotonic()
        [redelivered] = receiver.receive_messages(max_message_count=1, max_wait_time=WAIT)
        waited = time.monotonic() - started
        receiver.complete_message(redelivered)

    assert held.delivery_count == 0
    assert redelivered.delivery_count == 1
    assert waited < 2  # the lock lasted 0.3 s; the receive waited for the broker's timer, not its own timeout


def test_prefetched_messages_a_closing_receiver_never_handed_out_are_released_without_a_delivery_attempt(
    client: ServiceBusClient, servicebus_emulator: ServiceBusEmulator, servicebus_queue: str
) -> None:
    with open_sender(client, servicebus_queue) as sender:
        sender.send_messages([ServiceBusMessage(body) for body in ("a", "b", "c")])

    with open_receiver(client, servicebus_queue, prefetch_count=10) as prefetching:
        [first] = prefetching.receive_messages(max_message_count=1, max_wait_time=WAIT)
        prefetching.complete_message(first)
    # The SDK releases what it prefetched as it closes, without waiting for the broker.
    assert eventually(lambda: servicebus_emulator.counts(servicebus_queue).locked == 0)

    with open_receiver(client, servicebus_queue) as receiver:
        rest = receiver.receive_messages(max_message_count=2, max_wait_time=WAIT)
        for message in rest:
            receiver.complete_message(message)
    assert str(first) == "a"
    assert [(str(m), m.delivery_count) for m in rest] == [("b", 0), ("c", 0)]
