"""Fixtures for the Service Bus emulator tests: the session's broker, fresh queues, and the SDK client."""

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusReceiver, ServiceBusSender

from emulators.servicebus import ServiceBusEmulator
from tests.fixtures.servicebus import new_servicebus_queue, servicebus_emulator, servicebus_queue  # noqa: F401

# The SDK's keep-alive thread sleeps in 1 s steps and closing a sender or receiver joins it; it only pings
# idle connections, which these short tests never have, so they turn it off to close at once.
NO_KEEP_ALIVE: dict[str, Any] = {"keep_alive": None}


def open_sender(client: ServiceBusClient, queue: str, **kwargs: Any) -> ServiceBusSender:
    """A queue sender without the keep-alive thread."""
    return client.get_queue_sender(queue, **NO_KEEP_ALIVE, **kwargs)


def open_receiver(client: ServiceBusClient, queue: str, **kwargs: Any) -> ServiceBusReceiver:
    """A queue receiver without the keep-alive thread."""
    return client.get_queue_receiver(queue, **NO_KEEP_ALIVE, **kwargs)


def eventually(condition: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Poll `condition` until true: for effects of messages a client sends without waiting for an answer."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def client(servicebus_emulator: ServiceBusEmulator) -> Iterator[ServiceBusClient]:  # noqa: F811
    """The real SDK client, reaching the emulator through its connection string."""
    with ServiceBusClient.from_connection_string(servicebus_emulator.connection_string) as sb_client:
        yield sb_client
