"""DevHost.stop() with the Service Bus listener running: prompt, bounded, and no message lost.

The messages are sent and read back with the azure-servicebus SDK against the local broker. Stop times are
measured in real time because what is under test is the SDK's own waiting; the bounds are generous.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.servicebus import ServiceBusMessage
from azure.servicebus.aio import ServiceBusClient, ServiceBusReceiver

from devhost.app import DevHost
from devhost.clock import VirtualClock
from emulators.servicebus.broker import ServiceBusEmulator
from tests.devhost.host import sample_app
from tests.devhost.host.conftest import START, HostFactory, eventually, run

PROMPT = 3.0  # seconds: what "stops promptly" means here; an idle stop takes about one second


@pytest.fixture
def broker() -> Iterator[ServiceBusEmulator]:
    """A broker of the test's own, so that a test may stop it."""
    with ServiceBusEmulator() as emulator:
        yield emulator


@pytest.fixture
def queue(broker: ServiceBusEmulator, environ: dict[str, str]) -> str:
    """A fresh queue that the sample app's ORDERS_QUEUE setting points at."""
    name = f"orders-{uuid.uuid4().hex[:8]}"
    broker.add_queue(name, max_delivery_count=5)
    environ["ORDERS_QUEUE"] = name
    environ["SB_CONN"] = broker.connection_string
    return name


@pytest.fixture(autouse=True)
def fresh_sample_app() -> Iterator[None]:
    """The sample app's records empty, and its "hold" messages held until a test releases them."""
    sample_app.messages.clear()
    yield
    sample_app.release_held = None


async def send(broker: ServiceBusEmulator, queue: str, *bodies: str) -> None:
    async with (
        ServiceBusClient.from_connection_string(broker.connection_string) as client,
        client.get_queue_sender(queue) as sender,
    ):
        await sender.send_messages(
            [ServiceBusMessage(body, message_id=f"{body}-{i}") for i, body in enumerate(bodies)]
        )


async def timed_stop(host: DevHost, limit: float = 30.0) -> float:
    """Stop the host; the seconds it took. Fails (rather than hangs) past `limit`."""
    started = time.monotonic()
    try:
        await asyncio.wait_for(host.stop(), limit)
    except TimeoutError:
        raise AssertionError(f"DevHost.stop() did not return within {limit}s") from None
    return time.monotonic() - started


async def receive_one(broker: ServiceBusEmulator, queue: str) -> Any:
    """Take the next message off the queue with a fresh receiver (None if none comes within 2 s)."""
    async with (
        ServiceBusClient.from_connection_string(broker.connection_string) as client,
        client.get_queue_receiver(queue) as receiver,
    ):
        messages = await receiver.receive_messages(max_message_count=1, max_wait_time=2)
        if not messages:
            return None
        await receiver.complete_message(messages[0])
        return messages[0]


def test_stop_is_prompt_while_receivers_wait_for_a_message(
    make_host: HostFactory, broker: ServiceBusEmulator, queue: str
) -> None:
    async def body() -> None:
        # Receives that would wait a minute: stop must not wait for them to run out.
        host = await make_host(VirtualClock(START), service_bus=True, service_bus_max_wait_time=60.0)
        await send(broker, queue, "Ann")
        await eventually(lambda: broker.message_count(queue) == 0, what="the listener to complete a message")
        assert await timed_stop(host) < PROMPT
        await send(broker, queue, "Bob")
        await asyncio.sleep(0.3)
        assert [m["body"] for m in sample_app.messages] == ["Ann"]  # stopped: nothing takes Bob
        assert broker.counts(queue).locked == 0

    run(body())


def test_stop_ends_a_receive_loop_whose_cancellation_was_lost(
    make_host: HostFactory, broker: ServiceBusEmulator, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.11's asyncio.wait_for, through which the SDK reads every AMQP frame, returns normally when a
    cancellation arrives together with a frame (CPython gh-86296), so the receive call just returns. Here the
    SDK's receive does that with the first cancellation it gets; the old listener then looped on forever."""
    original = ServiceBusReceiver.receive_messages
    receives: list[str] = []
    lost: list[str] = []

    async def receive_losing_first_cancellation(self: ServiceBusReceiver, *args: Any, **kwargs: Any) -> Any:
        receives.append("receive")
        try:
            return await original(self, *args, **kwargs)
        except asyncio.CancelledError:
            if lost:
                raise
            lost.append("cancellation")  # and the task carries on, as after wait_for's return
            return []

    monkeypatch.setattr(ServiceBusReceiver, "receive_messages", receive_losing_first_cancellation)

    async def body() -> None:
        host = await make_host(VirtualClock(START), service_bus=True, service_bus_max_wait_time=0.5)
        await eventually(lambda: len(receives) >= 2, what="both receivers to wait for messages")
        assert await timed_stop(host, limit=10.0) < PROMPT
        assert lost == ["cancellation"]

    run(body())


def test_a_function_running_at_stop_finishes_and_its_message_is_completed(
    make_host: HostFactory, broker: ServiceBusEmulator, queue: str
) -> None:
    async def body() -> None:
        sample_app.release_held = asyncio.Event()
        host = await make_host(VirtualClock(START), service_bus=True)
        await send(broker, queue, "hold")
        await eventually(lambda: sample_app.messages, what="the function to start")
        stopping = asyncio.create_task(timed_stop(host))
        await asyncio.sleep(0.5)
        assert not stopping.done(), "stop() must wait for the running function (within the grace period)"
        sample_app.release_held.set()
        assert await stopping < PROMPT
        counts = broker.counts(queue)
        assert (counts.active, counts.locked, counts.dead_letter) == (0, 0, 0)  # completed
        assert len(sample_app.messages) == 1

    run(body())


def test_a_function_still_running_after_the_grace_is_cut_off_and_its_message_handed_back(
    make_host: HostFactory, broker: ServiceBusEmulator, queue: str
) -> None:
    async def body() -> None:
        sample_app.release_held = asyncio.Event()  # never set: the function would run for ever
        host = await make_host(VirtualClock(START), service_bus=True, service_bus_stop_grace=0.5)
        await send(broker, queue, "hold")
        await eventually(lambda: sample_app.messages, what="the function to start")
        assert await timed_stop(host) < 0.5 + PROMPT
        # Abandoned, not left locked until its lock expires (30 s): the next receiver gets it at once.
        counts = broker.counts(queue)
        assert (counts.active, counts.locked, counts.dead_letter) == (1, 0, 0)
        again = await receive_one(broker, queue)
        assert again is not None and again.message_id == "hold-0"
        assert again.delivery_count == sample_app.messages[0]["delivery_count"] + 1

    run(body())


def test_stop_is_prompt_after_the_broker_is_gone(
    make_host: HostFactory, broker: ServiceBusEmulator, queue: str
) -> None:
    async def body() -> None:
        host = await make_host(VirtualClock(START), service_bus=True, service_bus_max_wait_time=60.0)
        await send(broker, queue, "Ann")
        await eventually(lambda: broker.message_count(queue) == 0, what="the listener to complete a message")
        broker.stop()
        assert await timed_stop(host) < PROMPT

    run(body())


def test_stop_is_bounded_when_the_broker_goes_while_a_function_runs(
    make_host: HostFactory, broker: ServiceBusEmulator, queue: str
) -> None:
    async def body() -> None:
        sample_app.release_held = asyncio.Event()
        host = await make_host(VirtualClock(START), service_bus=True, service_bus_stop_grace=1.0)
        await send(broker, queue, "hold")
        await eventually(lambda: sample_app.messages, what="the function to start")
        broker.stop()
        stopping = asyncio.create_task(timed_stop(host))
        await asyncio.sleep(0.2)
        sample_app.release_held.set()  # finishes, but its message can no longer be completed
        # The grace (1 s) plus the settle budget (3 s) bound the SDK's retries against a broker that is gone.
        assert await stopping < 1.0 + 3.0 + 1.0

    run(body())
