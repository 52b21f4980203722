"""A devhost process SIGKILLed at random moments and restarted still completes every orchestration."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from devhost.http_host import DURABLE_SYSTEM_KEY
from devhost.keys import KeyStore

REPO = Path(__file__).resolve().parents[3]
ORCHESTRATIONS = 20
KILLS = 4
SEED = 20240101


class DevhostProcess:
    """`python -m devhost` on a free port with the crash app, its store and keys in a temp folder."""

    def __init__(self, folder: Path, log_name: str) -> None:
        self.log_path = folder / log_name
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devhost",
                "--app",
                "tests.devhost.host.crash_app",
                "--app-dir",
                str(folder),
                "--port",
                "0",
                "--store",
                str(folder / "taskhub.sqlite"),
                "--keys",
                str(folder / "keys.json"),
            ],
            cwd=REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.base_url = self._wait_until_started()

    def _wait_until_started(self, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text().splitlines():
                if line.startswith("Host started: "):
                    return line.removeprefix("Host started: ").strip()
            if self.process.poll() is not None:
                raise AssertionError(f"devhost exited early:\n{self.log_path.read_text()}")
            time.sleep(0.02)
        raise AssertionError(f"devhost did not start:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(15)
        finally:
            self.log.close()


def request(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def statuses(base_url: str, code: str) -> dict[str, dict[str, Any]]:
    found = {}
    for index in range(ORCHESTRATIONS):
        status, document = request(
            "GET", f"{base_url}/runtime/webhooks/durabletask/instances/crash-{index}?code={code}"
        )
        assert status in (200, 202), (index, status)
        found[f"crash-{index}"] = document
    return found


def run_all(folder: Path, kill_moments: list[float]) -> dict[str, Any]:
    """Start the orchestrations, SIGKILL the host at each moment (seconds after a start), finish; outputs."""
    folder.mkdir()
    (folder / "host.json").write_text(
        json.dumps(
            {
                "version": "2.0",
                "extensions": {"durableTask": {"hubName": "CrashHub", "maxConcurrentActivityFunctions": 8}},
            }
        )
    )
    host = DevhostProcess(folder, "devhost-0.log")
    listing = host.log_path.read_text()
    assert f"start: [POST] {host.base_url}/api/start/{{instanceId}}" in listing
    assert "pipeline: orchestrationTrigger" in listing and "step: activityTrigger" in listing
    code = KeyStore(folder / "keys.json").system_key(DURABLE_SYSTEM_KEY)
    for index in range(ORCHESTRATIONS):
        status, _ = request("POST", f"{host.base_url}/api/start/crash-{index}", body=index + 1)
        assert status == 202
    in_flight_at_kills = []
    for number, moment in enumerate(kill_moments, start=1):
        time.sleep(moment)
        in_flight_at_kills.append(
            sum(s["runtimeStatus"] != "Completed" for s in statuses(host.base_url, code).values())
        )
        host.kill()
        host = DevhostProcess(folder, f"devhost-{number}.log")
    deadline = time.monotonic() + 45
    while True:
        current = statuses(host.base_url, code)
        if all(s["runtimeStatus"] == "Completed" for s in current.values()):
            break
        failed = {
            i: s["runtimeStatus"]
            for i, s in current.items()
            if s["runtimeStatus"] not in ("Pending", "Running", "Completed")
        }
        assert not failed, failed
        assert time.monotonic() < deadline, {i: s["runtimeStatus"] for i, s in current.items()}
        time.sleep(0.2)
    assert host.terminate() == 0, "SIGTERM should stop the devhost cleanly"
    # The kills must have interrupted work, or the test proves nothing.
    assert not kill_moments or in_flight_at_kills[0] > 0, in_flight_at_kills
    return {instance: status["output"] for instance, status in current.items()}


@pytest.mark.slow
def test_killed_devhost_resumes_every_orchestration_with_the_same_outputs(tmp_path: Path) -> None:
    expected = run_all(tmp_path / "uninterrupted", [])
    rng = random.Random(SEED)
    moments = [rng.uniform(0.2, 1.2) for _ in range(KILLS)]
    assert run_all(tmp_path / "crashed", moments) == expected
    assert len(expected) == ORCHESTRATIONS and all(len(trail) == 7 for trail in expected.values())
