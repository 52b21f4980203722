"""`make run` as a process for the tests that drive it: scripts/run_local.py on a free port, fast emulators,
its state in a given folder, its output on a pipe."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def spawn(state_dir: Path, *extra: str) -> subprocess.Popen[str]:
    """Start `make run --fast` (quiet devhost, port 0) with its state in `state_dir`; do not wait."""
    return subprocess.Popen(
        [
            sys.executable,
            "scripts/run_local.py",
            "--port",
            "0",
            "--fast",
            "--quiet-devhost",
            "--state-dir",
            str(state_dir),
            *extra,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until_ready(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """What it printed up to its "Ready." line; AssertionError with that output when it never gets there."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.strip() == "Ready.":
            return "".join(seen)
    raise AssertionError("run_local.py did not get ready:\n" + "".join(seen))


def alive(pid: int) -> bool:
    """Whether a process it started still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
