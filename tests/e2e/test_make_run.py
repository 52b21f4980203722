"""`make run` smoke test: scripts/run_local.py as a process, the README's curl flow, Ctrl-C stops it all."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.make_run import alive, read_until_ready, spawn


def _call(method: str, url: str, key: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"x-functions-key": key, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


@pytest.mark.slow
def test_make_run_serves_the_readme_curl_flow_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    process = spawn(tmp_path)
    try:
        output = read_until_ready(process)
        pids = [int(p) for p in re.findall(r"started \w+ \(pid (\d+)\)", output)]
        assert len(pids) == 6  # azurite, entra, kube, arm, servicebus, devhost
        key = re.search(r"^  KEY=(\S+)$", output, re.MULTILINE)
        put = re.search(r"curl -sS -i -X PUT '(\S+)'", output)
        body = re.search(r"-d '(\{.*\})'$", output, re.MULTILINE)
        assert key and put and body, output

        status, headers, created = _call("PUT", put.group(1), key.group(1), json.loads(body.group(1)))
        assert status == 201, created
        operation = headers["Azure-AsyncOperation"]
        deadline = time.monotonic() + 60
        while (state := _call("GET", operation, key.group(1))[2]["status"]) == "Accepted":
            assert time.monotonic() < deadline
            time.sleep(0.25)
        assert state == "Succeeded"
        linker = _call("GET", put.group(1), key.group(1))[2]
        assert linker["properties"]["provisioningState"] == "Succeeded"
        # The troubleshooting commands it printed run as written with the real kubectl.
        commands = re.findall(r"^  (kubectl --kubeconfig \S+ --context aks-demo-1 .*)$", output, re.MULTILINE)
        assert len(commands) == 5, output
        assert f"--kubeconfig {tmp_path / 'kubeconfig'} " in commands[0]
        for command in commands[:2]:  # get ns, get secret: the others need a failed install
            done = subprocess.run(command.split(), capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr
        assert "sc-blobdemo-secret" in done.stdout
        azurite_node = re.search(r"pid=(\d+)", (tmp_path / "azurite.log").read_text())
        assert azurite_node

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert [pid for pid in [*pids, int(azurite_node.group(1))] if alive(pid)] == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
