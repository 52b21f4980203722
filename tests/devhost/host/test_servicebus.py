"""Service Bus triggers against the local broker, with messages sent by the azure-servicebus SDK."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from azure.servicebus import ServiceBusMessage, ServiceBusSubQueue
from azure.servicebus.aio import ServiceBusClient

from devhost.clock import VirtualClock
from emulators.servicebus.broker import ServiceBusEmulator
from tests.devhost.host import sample_app
from tests.devhost.host.conftest import START, HostFactory, eventually, run


@pytest.fixture(scope="module")
def broker() -> Iterator[ServiceBusEmulator]:
    with ServiceBusEmulator() as emulator:
        yield emulator


@pytest.fixture
def queue(broker: ServiceBusEmulator, environ: dict[str, str]) -> str:
    """A fresh queue (max delivery count 3) that the sample app's ORDERS_QUEUE setting points at."""
    name = f"orders-{uuid.uuid4().hex[:8]}"
    broker.add_queue(name, max_delivery_count=3)
    environ["ORDERS_QUEUE"] = name  # a non-empty variable wins over local.settings.json
    environ["SB_CONN"] = broker.connection_string
    return name


async def send(connection_string: str, queue: str, message: ServiceBusMessage) -> None:
    async with (
        ServiceBusClient.from_connection_string(connection_string) as client,
        client.get_queue_sender(queue) as sender,
    ):
        await sender.send_messages(message)


def test_a_message_triggers_its_function_with_metadata_and_is_completed(
    make_host: HostFactory, broker: ServiceBusEmulator, queue: str
) -> None:
    async def body() -> None:
        sample_app.messages.clear()
        host = await make_host(VirtualClock(START), service_bus=True)
        try:
            await send(
                broker.connection_string,
                queue,
                ServiceBusMessage(
                    "Ann",
                    message_id="m-1",
                    content_type="text/plain",
                    correlation_id="c-1",
                    subject="new-order",
                    application_properties={"kind": "order", "priority": 2},
                ),
            )
            await eventually(lambda: sample_app.messages, what="the Service Bus function")
            seen = sample_app.messages[0]
            assert seen["body"] == "Ann" and seen["message_id"] == "m-1"
            assert seen["application_properties"] == {"kind": "order", "priority": 2}
            assert (seen["content_type"], seen["correlation_id"], seen["subject"]) == (
                "text/plain",
                "c-1",
                "new-order",
            )
            assert seen["lock_token"] and seen["enqueued_time_utc"] is not None
            assert seen["delivery_count"] is not None
            # Completed: the queue is empty and nothing was dead-lettered.
            await eventually(lambda: broker.message_count(queue) == 0, what="the message to be completed")
            assert broker.dead_letter_count(queue) == 0
            # The durable client binding worked: the function started an orchestration.
            status = await host.engine.get_status("order-m-1")
            assert status is not None and status["input"] == ["Ann"]
        finally:
            await host.stop()

    run(body())


def test_a_failing_message_is_abandoned_retried_then_dead_lettered(
    make_host: HostFactory, broker: ServiceBusEmulator, queue: str
) -> None:
    async def body() -> None:
        sample_app.messages.clear()
        host = await make_host(VirtualClock(START), service_bus=True)
        try:
            await send(broker.connection_string, queue, ServiceBusMessage("fail", message_id="bad-1"))
            await eventually(lambda: broker.dead_letter_count(queue) == 1, what="the dead-lettering")
            counts = [m["delivery_count"] for m in sample_app.messages]
            assert len(counts) == 3, counts  # maxDeliveryCount 3: three attempts, each abandoned
            assert counts == list(range(counts[0], counts[0] + 3))
            assert broker.message_count(queue) == 0
        finally:
            await host.stop()
        async with (
            ServiceBusClient.from_connection_string(broker.connection_string) as client,
            client.get_queue_receiver(queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as receiver,
        ):
            dead = await receiver.receive_messages(max_message_count=1, max_wait_time=5)
            assert len(dead) == 1
            assert dead[0].message_id == "bad-1"
            assert dead[0].dead_letter_reason == "MaxDeliveryCountExceeded"
            await receiver.complete_message(dead[0])

    run(body())


def test_sessions_are_refused_with_a_clear_error(environ: dict[str, str]) -> None:
    from devhost.discovery import FunctionInfo
    from devhost.servicebus import resolve_source
    from devhost.settings import SettingsError

    info = FunctionInfo(
        name="on_session",
        trigger_type="serviceBusTrigger",
        input_binding_name="msg",
        trigger={
            "type": "serviceBusTrigger",
            "name": "msg",
            "queueName": "q",
            "connection": "SB_CONN",
            "isSessionsEnabled": True,
        },
        bindings=[],
        user_function=lambda msg: None,
    )
    with pytest.raises(SettingsError, match="isSessionsEnabled is not supported"):
        resolve_source(info, {"SB_CONN": "Endpoint=sb://x/"})
    info.trigger.pop("isSessionsEnabled")
    with pytest.raises(SettingsError, match="connection 'SB_CONN' is not defined"):
        resolve_source(info, {})


def test_max_concurrent_calls_from_host_json_bounds_the_messages_in_flight(
    make_host: HostFactory, broker: ServiceBusEmulator, queue: str
) -> None:
    async def body() -> None:
        sample_app.messages.clear()
        sample_app.release_held = asyncio.Event()
        host = await make_host(VirtualClock(START), service_bus=True)  # host.json: maxConcurrentCalls 2
        try:
            async with (
                ServiceBusClient.from_connection_string(broker.connection_string) as client,
                client.get_queue_sender(queue) as sender,
            ):
                await sender.send_messages([ServiceBusMessage("hold", message_id=f"h-{i}") for i in range(3)])
            await eventually(lambda: len(sample_app.messages) == 2, what="two messages in flight")
            await asyncio.sleep(0.3)  # time for a third receiver, if any, to take the last message
            assert len(sample_app.messages) == 2
            sample_app.release_held.set()
            await eventually(lambda: broker.message_count(queue) == 0, what="all three to be completed")
            assert sorted(m["message_id"] for m in sample_app.messages) == ["h-0", "h-1", "h-2"]
        finally:
            sample_app.release_held = None
            await host.stop()

    run(body())
