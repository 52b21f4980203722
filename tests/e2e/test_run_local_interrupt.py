"""`make run` stopped while still starting: Ctrl-C ends the startup at once and stops what it started."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.make_run import alive, spawn


@pytest.mark.slow
def test_ctrl_c_during_startup_stops_at_once_without_starting_the_rest(tmp_path: Path) -> None:
    process = spawn(tmp_path)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        started = re.search(r"started azurite \(pid (\d+)\)", first)
        assert started, first
        # Azurite is still coming up (the script waits for its connection string): stop now.
        process.send_signal(signal.SIGINT)
        begun = time.monotonic()
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0
        assert time.monotonic() - begun < 20  # at once: not after the other four stand-ins got ready
        output = first + rest
        assert "started devhost" not in output
        assert "Ready." not in output
        assert "stopped azurite" in output
        assert not alive(int(started.group(1)))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
