"""The emulator as a process: `python -m emulators.servicebus`, as `make run` starts it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSubQueue

from emulators.servicebus import QueueConfig
from tests.emulators.servicebus.conftest import open_receiver, open_sender
from tests.fixtures.process import REPO_ROOT, StartedProcess, module_process


@pytest.fixture
def broker_process() -> Iterator[StartedProcess]:
    """The broker started as a process, its ready line, and how long it took to print it."""
    with module_process(
        "emulators.servicebus", "--port", "0", "--queue", "jobs:maxDeliveryCount=2"
    ) as started:
        yield started


def test_the_process_is_ready_in_under_two_seconds_and_serves_the_sdk(broker_process: StartedProcess) -> None:
    process, ready_line, startup = broker_process.process, broker_process.ready_line, broker_process.seconds
    assert ready_line.startswith("servicebus emulator ready on 127.0.0.1:"), ready_line
    assert startup < 2.0
    match = re.search(r"connection_string=(\S+)", ready_line)
    assert match is not None
    assert "queues=jobs " in ready_line

    with ServiceBusClient.from_connection_string(match.group(1)) as client:
        with open_sender(client, "jobs") as sender:
            sender.send_messages(ServiceBusMessage("from another process"))
        with open_receiver(client, "jobs") as receiver:
            for _ in range(2):  # maxDeliveryCount=2 from the command line: the second abandon dead-letters it
                [message] = receiver.receive_messages(max_message_count=1, max_wait_time=5)
                receiver.abandon_message(message)
        with open_receiver(client, "jobs", sub_queue=ServiceBusSubQueue.DEAD_LETTER) as dead_letters:
            [dead] = dead_letters.receive_messages(max_message_count=1, max_wait_time=5)
            dead_letters.complete_message(dead)
    assert str(dead) == "from another process"
    assert dead.dead_letter_reason == "MaxDeliveryCountExceeded"

    process.send_signal(signal.SIGTERM)
    assert process.wait(5) == 0


def test_a_bad_queue_option_stops_the_process_with_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulators.servicebus", "--port", "0", "--queue", "jobs:ttl=5"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 2
    assert "argument --queue: unknown queue option 'ttl=5'" in result.stderr


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("jobs", QueueConfig("jobs", 10, 30.0)),
        ("jobs:maxDeliveryCount=3", QueueConfig("jobs", 3, 30.0)),
        ("jobs:lockDuration=5:maxDeliveryCount=1", QueueConfig("jobs", 1, 5.0)),
    ],
)
def test_queue_options_parse_as_documented(spec: str, expected: QueueConfig) -> None:
    assert QueueConfig.parse(spec) == expected


@pytest.mark.parametrize(
    "spec",
    ["", "jobs:maxDeliveryCount=0", "jobs:lockDuration=-1", "jobs:ttl=5", "bad name", "q/$deadletterqueue"],
)
def test_invalid_queue_options_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        QueueConfig.parse(spec)
