"""Proof 6, the queue burst: Service Bus connection requests, duplicates and malformed bodies, all at once.

N messages go to the requests queue in one burst (`make test`: 200; `make proof`: 2,000): 85% valid requests,
each for its own linker; 10% second deliveries of a valid message (same message id, same body), and 5%
malformed bodies (not JSON, nested 1,000 deep, the wrong shape, unknown values, another subscription). The
product runs on DevHost (the Service Bus trigger with the real SDK) against the emulators; the queue dead-
letters after 10 deliveries, as Service Bus does by default.

Asserted: every valid message id gives exactly one operation and one Secret (state dump); every malformed one
gives exactly one `ConnectionRequestRejected` event naming it and starts nothing; the queue drains and its
dead-letter sub-queue (read with the SDK) is empty.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSubQueue

from connector import naming
from emulators.arm import ArmEmulator
from emulators.kube import KubeEmulator
from emulators.servicebus import QueueConfig, ServiceBusEmulator
from tests.e2e.conftest import BLOB, CLUSTER, CLUSTER_2, SUB
from tests.reliability.figures import record, scaled
from tests.reliability.stack import Stack, arm_harness, start_stack
from tests.reliability.state_dump import dump
from triggers.operations import operation_id_for_message

MESSAGES = scaled(200, 2000)
DUPLICATES = MESSAGES // 10
MALFORMED = MESSAGES // 20
VALID = MESSAGES - DUPLICATES - MALFORMED
MAX_DELIVERY_COUNT = 10  # Service Bus's default: a message failed 10 times is dead-lettered
SETTLE_SECONDS = scaled(240, 1800)


@pytest.fixture(scope="module")
def burst(
    arm_emulator: ArmEmulator,
    kube_emulator: KubeEmulator,
    azurite_connection_string: str,
    servicebus_emulator: ServiceBusEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Stack, str]]:
    """The product listening on a fresh requests queue that dead-letters like a default Service Bus queue."""
    queue = f"burst-{random.randrange(1 << 30):08x}"
    servicebus_emulator.add_queue(QueueConfig(queue, MAX_DELIVERY_COUNT, 30.0))
    harness = arm_harness(arm_emulator, kube_emulator)
    with start_stack(
        harness,
        azurite_connection_string,
        servicebus_emulator,
        tmp_path_factory.mktemp("burst"),
        service_bus=True,
        settings={"SERVICEBUS_REQUESTS_QUEUE": queue},
    ) as stack:
        yield stack, queue


def linker_id(n: int) -> str:
    """The n-th valid message's linker, on either demo cluster."""
    return f"{(CLUSTER, CLUSTER_2)[n % 2]}/providers/Microsoft.ServiceLinker/linkers/burst{n:05d}"


def valid_body(n: int) -> dict[str, Any]:
    """A secret-auth Blob connection request."""
    return {
        "id": linker_id(n),
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "authInfo": {"authType": "secret"},
            "clientType": "python",
            "scope": "default",
        },
    }


def malformed_body(n: int) -> bytes:
    """The n-th malformed request, cycling through the ways a body can be wrong."""
    body = valid_body(100_000 + n)
    kind = n % 8
    if kind == 0:
        return b"{not json"
    if kind == 1:  # nested 1,000 deep (issue 9, item 3)
        deep = b"[" * 1000 + b"]" * 1000
        return b'{"id": "' + str(body["id"]).encode() + b'", "properties": ' + deep + b"}"
    if kind == 2:
        return b"[]"
    if kind == 3:
        del body["id"]
    elif kind == 4:
        body["properties"]["clientType"] = "cobol"
    elif kind == 5:
        body["properties"]["authInfo"] = {"authType": "sorcery"}
    elif kind == 6:
        body["id"] = body["id"].replace(SUB, "00000000-0000-0000-0000-0000000000ff")  # outside ALLOWED_SCOPES
    else:
        return b"\xff\xfe\x00\x01 not utf-8"
    return json.dumps(body).encode()


def test_a_burst_of_requests_is_processed_exactly_once_and_nothing_is_dead_lettered(
    burst: tuple[Stack, str],
) -> None:
    stack, queue = burst
    rng = random.Random(9)
    messages = [(f"valid-{n}", json.dumps(valid_body(n)).encode()) for n in range(VALID)]
    messages += [(f"bad-{n}", malformed_body(n)) for n in range(MALFORMED)]
    messages += [rng.choice(messages[:VALID]) for _ in range(DUPLICATES)]  # second deliveries
    rng.shuffle(messages)

    started = time.monotonic()
    with (
        ServiceBusClient.from_connection_string(stack.servicebus.connection_string) as client,
        client.get_queue_sender(queue) as sender,
    ):
        for first in range(0, len(messages), 100):
            sender.send_messages(
                [
                    ServiceBusMessage(body, message_id=message_id, content_type="application/json")
                    for message_id, body in messages[first : first + 100]
                ]
            )
    events = _drain(stack, queue, expected=VALID + MALFORMED, started=started)
    elapsed = time.monotonic() - started

    dead = _dead_letters(stack, queue)
    instances = stack.host.run(stack.host.host.engine.list_instances())
    operations = Counter(i["instanceId"] for i in instances if i.get("name") == "connect")
    rejected = Counter(e["messageId"] for e in events if e.get("type") == "ConnectionRequestRejected")
    completed = Counter(e.get("linkerId") for e in events if e.get("type") == "ConnectionOperationCompleted")
    state = dump(stack.arm.url, stack.arm.ca_file, stack.arm.credential)
    secrets_per_linker = Counter(s[2] for s in state.secrets)
    record(
        "queue burst",
        f"{MESSAGES} messages ({VALID} valid, {DUPLICATES} duplicates, {MALFORMED} malformed): "
        f"{len(operations)} operations, {len(secrets_per_linker)} Secrets, {sum(rejected.values())} "
        f"rejections, {len(dead)} dead-lettered, {elapsed:.0f} s",
    )

    assert dead == [], f"dead-lettered: {dead[:5]}"
    assert stack.servicebus.message_count(queue) == 0
    assert len(operations) == VALID, f"{len(operations)} connect operations for {VALID} valid message ids"
    assert set(operations) == {operation_id_for_message(f"valid-{n}") for n in range(VALID)}
    assert sorted(rejected) == sorted(f"bad-{n}" for n in range(MALFORMED)), rejected
    assert all(n == 1 for n in rejected.values()), [
        (e["messageId"], e["code"]) for e in events if rejected.get(e.get("messageId", ""), 0) > 1
    ]
    assert all(n == 1 for n in completed.values()), {k: n for k, n in completed.items() if n > 1}
    assert secrets_per_linker == Counter({naming.linker_hash(linker_id(n)): 1 for n in range(VALID)})
    assert not state.duplicates(), state.duplicates()


def _drain(stack: Stack, queue: str, *, expected: int, started: float) -> list[dict[str, Any]]:
    """Every event the product published, once the queue is empty, nothing runs and `expected` arrived."""
    events: list[dict[str, Any]] = []
    deadline = started + SETTLE_SECONDS
    with (
        ServiceBusClient.from_connection_string(stack.servicebus.connection_string) as client,
        client.get_queue_receiver(stack.events_queue, max_wait_time=1) as receiver,
    ):
        while True:
            for message in receiver.receive_messages(max_message_count=100, max_wait_time=0.5):
                events.append(json.loads(b"".join(bytes(part) for part in message.body)))
                receiver.complete_message(message)
            drained = stack.servicebus.message_count(queue) == 0 and not stack.running_instances()
            if drained and len(events) >= expected:
                # One more look: a late duplicate event would show here.
                for message in receiver.receive_messages(max_message_count=100, max_wait_time=1):
                    events.append(json.loads(b"".join(bytes(part) for part in message.body)))
                    receiver.complete_message(message)
                return events
            assert time.monotonic() < deadline, (
                f"after {SETTLE_SECONDS} s: {stack.servicebus.counts(queue)}, {len(events)} of {expected} "
                f"events, {len(stack.running_instances())} operations running"
            )


def _dead_letters(stack: Stack, queue: str) -> list[str]:
    """The message ids in the requests queue's dead-letter sub-queue, read with the SDK."""
    with (
        ServiceBusClient.from_connection_string(stack.servicebus.connection_string) as client,
        client.get_queue_receiver(
            queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER, max_wait_time=1
        ) as receiver,
    ):
        found = []
        while batch := receiver.receive_messages(max_message_count=100, max_wait_time=1):
            for message in batch:
                found.append(str(message.message_id))
                receiver.complete_message(message)
        return found
