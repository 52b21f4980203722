"""What the emulator does not provide fails fast with a clear error, through the real SDK."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusReceiver
from azure.servicebus.exceptions import MessagingEntityNotFoundError, ServiceBusError

from emulators.servicebus import ServiceBusEmulator
from tests.emulators.servicebus.conftest import NO_KEEP_ALIVE, open_receiver, open_sender

# Connecting takes about 0.5 s; an SDK that retried, or waited for a reply that never comes, would take 10+ s.
FAST = 4.0
NOT_SUPPORTED = "Not supported by the local Service Bus emulator"


@contextmanager
def fails_fast(error: type[Exception], match: str) -> Iterator[None]:
    """Assert the block raises `error` matching `match`, within FAST seconds."""
    started = time.monotonic()
    with pytest.raises(error, match=match):
        yield
    assert time.monotonic() - started < FAST


def test_management_operations_answer_not_implemented(
    client: ServiceBusClient, servicebus_queue: str
) -> None:
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    with open_sender(client, servicebus_queue) as sender:
        with fails_fast(ServiceBusError, "schedule-message.*Status Code: 501"):
            sender.schedule_messages(ServiceBusMessage("later"), later)
        # Delivering it at once would be more lenient than Azure; the send is refused instead.
        with fails_fast(ServiceBusError, f"{NOT_SUPPORTED}: scheduled messages"):
            sender.send_messages(ServiceBusMessage("later", scheduled_enqueue_time_utc=later))
        sender.send_messages(ServiceBusMessage("m"))  # the sender still works

    with open_receiver(client, servicebus_queue) as receiver:
        peek = f"{NOT_SUPPORTED}: the management operation 'com.microsoft:peek-message'"
        with fails_fast(ServiceBusError, peek):
            receiver.peek_messages(max_message_count=1)
        [message] = receiver.receive_messages(max_message_count=1, max_wait_time=5)
        with fails_fast(ServiceBusError, "renew-lock"):
            receiver.renew_message_lock(message)  # the SDK shuts the receiver down after this error


def test_deferring_a_message_is_refused_and_leaves_it_locked(
    client: ServiceBusClient, servicebus_emulator: ServiceBusEmulator, servicebus_queue: str
) -> None:
    with open_sender(client, servicebus_queue) as sender:
        sender.send_messages(ServiceBusMessage("m"))
    with open_receiver(client, servicebus_queue) as receiver:
        [message] = receiver.receive_messages(max_message_count=1, max_wait_time=5)
        with fails_fast(ServiceBusError, "message deferral"):
            receiver.defer_message(message)
    assert servicebus_emulator.counts(servicebus_queue).locked == 1


@pytest.mark.parametrize(
    ("open_receiver_for", "error", "match"),
    [
        pytest.param(
            lambda client, queue: client.get_queue_receiver(queue, session_id="s1", **NO_KEEP_ALIVE),
            ServiceBusError,
            f"{NOT_SUPPORTED}: sessions",
            id="session receiver",
        ),
        pytest.param(
            lambda client, queue: client.get_subscription_receiver("topic", "subscription", **NO_KEEP_ALIVE),
            ServiceBusError,
            f"{NOT_SUPPORTED}: topics and subscriptions",
            id="subscription receiver",
        ),
    ],
)
def test_receivers_the_emulator_cannot_serve_fail_when_they_attach(
    client: ServiceBusClient,
    servicebus_queue: str,
    open_receiver_for: Callable[[ServiceBusClient, str], ServiceBusReceiver],
    error: type[Exception],
    match: str,
) -> None:
    # The SDK attaches when the receiver is entered, so that is where the error surfaces.
    with fails_fast(error, match), open_receiver_for(client, servicebus_queue) as receiver:
        receiver.receive_messages(max_message_count=1, max_wait_time=1)


@pytest.mark.parametrize(
    ("entity", "error", "match"),
    [
        pytest.param("no-such-queue", MessagingEntityNotFoundError, "could not be found", id="missing queue"),
        pytest.param(
            "{queue}/$deadletterqueue",
            ServiceBusError,
            "cannot be sent to a dead-letter",
            id="dead-letter queue",
        ),
    ],
)
def test_senders_the_emulator_cannot_serve_fail_when_they_attach(
    client: ServiceBusClient, servicebus_queue: str, entity: str, error: type[Exception], match: str
) -> None:
    with fails_fast(error, match), open_sender(client, entity.format(queue=servicebus_queue)) as sender:
        sender.send_messages(ServiceBusMessage("nowhere"))
