"""`python -m devhost` with a Service Bus trigger listening stops promptly on SIGINT and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage

from devhost.__main__ import FORCED_EXIT
from emulators.servicebus.broker import ServiceBusEmulator

REPO = Path(__file__).resolve().parents[3]
GRACE = 1.0  # --stop-grace
PROMPT = 4.0  # seconds from the signal to the exit, start-up not included


@pytest.fixture(scope="module")
def broker() -> Iterator[ServiceBusEmulator]:
    with ServiceBusEmulator() as emulator:
        yield emulator


class Devhost:
    """`python -m devhost` running tests/devhost/host/stop_app.py against the broker, logging to a file."""

    def __init__(self, folder: Path, broker: ServiceBusEmulator, queue: str) -> None:
        (folder / "host.json").write_text(
            json.dumps({"version": "2.0", "extensions": {"serviceBus": {"maxConcurrentCalls": 4}}})
        )
        self.log_path = folder / "devhost.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devhost",
                "--app",
                "tests.devhost.host.stop_app",
                "--app-dir",
                str(folder),
                "--port",
                "0",
                "--store",
                ":memory:",
                "--keys",
                str(folder / "keys.json"),
                "--no-timers",
                "--stop-grace",
                str(GRACE),
            ],
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "STOP_QUEUE": queue,
                "SB_CONN": broker.connection_string,
            },
        )
        self.wait_for_line("Host started: ")

    def wait_for_line(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_path.read_text():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"devhost exited early:\n{self.log_path.read_text()}")
            time.sleep(0.02)
        raise AssertionError(f"no {text!r} in the devhost log:\n{self.log_path.read_text()}")

    def seconds_to_exit(self, timeout: float = 30.0) -> float:
        """Wait for the process to end; the seconds it took from now."""
        started = time.monotonic()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"devhost did not exit:\n{self.log_path.read_text()}") from None
        finally:
            self._log.close()
        return time.monotonic() - started


@pytest.fixture
def queue(broker: ServiceBusEmulator) -> str:
    name = f"stop-{uuid.uuid4().hex[:8]}"
    broker.add_queue(name, max_delivery_count=5)
    return name


def send(broker: ServiceBusEmulator, queue: str, body: str) -> None:
    with (
        ServiceBusClient.from_connection_string(broker.connection_string) as client,
        client.get_queue_sender(queue) as sender,
    ):
        sender.send_messages(ServiceBusMessage(body))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_devhost_promptly_while_it_listens(
    tmp_path: Path, broker: ServiceBusEmulator, queue: str, signum: int
) -> None:
    devhost = Devhost(tmp_path, broker, queue)
    send(broker, queue, "hello")
    devhost.wait_for_line("stop_app received hello")  # the listener runs
    devhost.process.send_signal(signum)
    assert devhost.seconds_to_exit() < PROMPT
    assert devhost.process.returncode == 0
    assert "Stopping devhost..." in devhost.log_path.read_text()
    counts = broker.counts(queue)
    assert (counts.active, counts.locked) == (0, 0)  # completed before the exit


def test_a_function_still_running_after_the_grace_has_its_message_abandoned(
    tmp_path: Path, broker: ServiceBusEmulator, queue: str
) -> None:
    devhost = Devhost(tmp_path, broker, queue)
    send(broker, queue, "hang")
    devhost.wait_for_line("stop_app received hang")
    devhost.process.send_signal(signal.SIGTERM)
    assert devhost.seconds_to_exit() < GRACE + PROMPT
    assert devhost.process.returncode == 0
    assert "was still running 1.0s after stop; abandoning message" in devhost.log_path.read_text()
    counts = broker.counts(queue)
    assert (counts.active, counts.locked) == (1, 0)  # back in the queue at once, for the next host


def test_a_second_signal_exits_at_once(tmp_path: Path, broker: ServiceBusEmulator, queue: str) -> None:
    devhost = Devhost(tmp_path, broker, queue)
    send(broker, queue, "hang")
    devhost.wait_for_line("stop_app received hang")
    devhost.process.send_signal(signal.SIGTERM)
    devhost.wait_for_line("Stopping devhost...")
    devhost.process.send_signal(signal.SIGINT)
    assert devhost.seconds_to_exit() < GRACE  # did not wait for the grace period
    assert devhost.process.returncode == FORCED_EXIT
    assert "devhost: stopping at once" in devhost.log_path.read_text()
    counts = broker.counts(queue)
    assert (counts.active, counts.locked) == (1, 1)  # not lost: the broker redelivers it at its lock expiry
