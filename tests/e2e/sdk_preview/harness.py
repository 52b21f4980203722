"""Runs driver.py in .venv-sdk-preview against the e2e DevHost (made with `make` when it is missing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.contract import traffic

REPO = Path(__file__).resolve().parents[3]
VENV = REPO / ".venv-sdk-preview"
DRIVER = Path(__file__).with_name("driver.py")
PREVIEW_API = "2024-07-01-preview"
_ready = False


def ensure_environment() -> Path:
    """The side virtualenv's python; `make` builds it from requirements-sdk-preview.txt if it is stale."""
    global _ready
    if not _ready:
        # The Makefile's target is the one recipe: pytest run alone and `make test` build the same thing.
        subprocess.run(
            ["make", "-s", "-C", str(REPO), ".venv-sdk-preview/.stamp", f"PYTHON={sys.executable}"],
            check=True,
            timeout=600,
        )
        _ready = True
    return VENV / "bin" / "python"


def run_steps(base_url: str, key: str, steps: list[dict[str, Any]], timeout: float = 120) -> list[Any]:
    """Each step's result from driver.py: {"ok": True, "value"} or {"ok": False, "status", "code", ...}."""
    python = ensure_environment()
    with tempfile.TemporaryDirectory() as scratch:
        exchanges = Path(scratch) / "traffic.jsonl"
        env = {"PATH": os.environ.get("PATH", ""), "SDK_DRIVER_FUNCTION_KEY": key}
        env["SDK_DRIVER_TRAFFIC"] = str(exchanges)  # the answers, for the e2e fixture's oav check
        done = subprocess.run(
            [str(python), str(DRIVER), base_url],
            input=json.dumps(steps),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        recorder = traffic.active_recorder()
        if recorder is not None and exchanges.exists():
            for line in exchanges.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                recorder.record(
                    entry["method"], entry["url"], None, entry["status"], entry["headers"], entry["body"]
                )
    assert done.returncode == 0, done.stderr[-4000:]
    results: list[Any] = json.loads(done.stdout)
    return results
