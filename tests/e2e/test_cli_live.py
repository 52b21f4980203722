"""`aks-connector` on a (pseudo-)terminal: the live view of an operation that waits for a busy cluster, with
what it waits for and when it checks next; Ctrl-C stops watching, not the operation."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import BLOB, CLUSTER_2, E2E

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
BACKOFF_SECONDS = 3


def row(*cells: str) -> str:
    """A pattern for a table row holding these cells side by side (rich draws │ between them)."""
    return r"\s*│\s*".join(cells)


class Terminal:
    """A process whose stdin, stdout and stderr are one pseudo-terminal; what it printed, escapes removed."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=REPO, env=env, start_new_session=True
        )
        os.close(slave)
        self.raw = b""

    @property
    def text(self) -> str:
        """Everything printed so far, without terminal escapes."""
        return ANSI.sub("", self.raw.decode(errors="replace"))

    def read_until(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """Read until the printed text matches `pattern`."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.text)) is None:
            assert time.monotonic() < deadline, f"{pattern!r} not seen in:\n{self.text}"
            self._read(0.2)
        return found

    def finish(self, timeout: float = 60) -> int:
        """Read to the end; the exit code."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None or self._read(0.05):
            assert time.monotonic() < deadline, self.text
            self._read(0.2)
        return int(self.process.returncode)

    def _read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the other end closed
            return False
        self.raw += chunk
        return bool(chunk)

    def close(self) -> None:
        """Kill the process if it still runs; close the terminal."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        os.close(self.master)


@pytest.fixture
def busy_cluster_2(e2e: E2E, monkeypatch: pytest.MonkeyPatch) -> E2E:
    """aks-demo-2 held in Updating (the ARM emulator's clock does not move by itself), waits of 3 s."""
    monkeypatch.setenv("BACKOFF_INITIAL_SECONDS", str(BACKOFF_SECONDS))
    monkeypatch.setenv("BACKOFF_MAX_SECONDS", str(BACKOFF_SECONDS))
    e2e.arm.admin.call("POST", "/arm/busy", {"resourceId": CLUSTER_2, "seconds": 600})
    return e2e


def _create(e2e: E2E, name: str) -> Terminal:
    env = {
        **os.environ,
        "AKS_CONNECTOR_ENDPOINT": e2e.url,
        "AKS_CONNECTOR_KEY": e2e.key,
        "TERM": "xterm-256color",
    }
    env.pop("NO_COLOR", None)
    argv = [sys.executable, "-m", "aks_connector", "create", "storage-blob", "--connection", name]
    argv += [
        "--source-id",
        CLUSTER_2,
        "--target-id",
        BLOB,
        "--secret",
        "--client-type",
        "python",
        "-o",
        "json",
    ]
    return Terminal(argv, env)


def test_the_live_view_shows_the_wait_for_a_busy_cluster_and_its_next_check(busy_cluster_2: E2E) -> None:
    e2e = busy_cluster_2
    terminal = _create(e2e, "livewait")
    try:
        waiting = terminal.read_until(r"cluster aks-demo-2 is Updating; next check in (\d+) s")
        assert 0 <= int(waiting.group(1)) <= BACKOFF_SECONDS
        # The view is a table of phases: the wait is the cluster phase, in state waiting, with its attempts.
        assert re.search(row("cluster", "waitForCluster", "waiting", r"\d+"), terminal.text), terminal.text
        terminal.read_until(
            row("waitForCluster", "waiting", "[2-9]")
        )  # polled again after the wait: attempt 2

        e2e.arm.advance(600)  # the cluster's update ends
        assert terminal.finish() == 0, terminal.text
        text = terminal.text
        assert re.search(row("waitForCluster", "done", "[2-9]", r"\d+ s"), text), (
            text
        )  # the wait is listed as done, with its time
        assert '"provisioningState": "Succeeded"' in text
    finally:
        terminal.close()


def test_ctrl_c_stops_watching_not_the_operation_and_prints_the_wait_command(busy_cluster_2: E2E) -> None:
    e2e = busy_cluster_2
    terminal = _create(e2e, "livestop")
    try:
        terminal.read_until(r"next check in \d+ s")
        terminal.process.send_signal(signal.SIGINT)
        assert terminal.finish() == 130
        resume = terminal.read_until(r"aks-connector wait --operation '(\S+)'")
    finally:
        terminal.close()

    e2e.arm.advance(600)
    done = e2e.wait_operation(resume.group(1), timeout=60)
    assert done["status"] == "Succeeded"  # the operation went on without the watcher
