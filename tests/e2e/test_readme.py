"""The README runs as written: every `sh` and `python` block, in order, in one shell, against a stack started
like `make run --fast`; and `make run` prints what the README says it prints.

The stack runs on a free port and a temporary state folder (not 7071 and .devhost/run, which a developer's own
`make run` may hold), so the test replaces exactly those two strings in the blocks and nothing else
(SUBSTITUTED below). A block is skipped only when its fence says `not-run: <reason>`, which the README also
says in words above it.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.make_run import read_until_ready, spawn

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
SHELLS = {"sh", "bash", "shell"}
# What the README names that the test's stack has elsewhere.
LOCAL_URL = "http://127.0.0.1:7071"
LOCAL_STATE = ".devhost/run/"
FENCE = re.compile(r"^```(.*)$")
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class Block:
    """One fenced block of the README."""

    info: str
    text: str
    line: int

    @property
    def language(self) -> str:
        """The first word of the info string."""
        return self.info.split()[0] if self.info.split() else ""

    @property
    def not_run_reason(self) -> str | None:
        """Why the block is not run (from `not-run: <reason>` in its fence), or None."""
        found = re.search(r"not-run:\s*(.*)$", self.info)
        return found.group(1).strip() if found else None

    @property
    def runnable(self) -> bool:
        """A shell or Python block that does not say why it cannot run."""
        return self.language in SHELLS | {"python"} and self.not_run_reason is None


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block, with its info string and the line it starts on."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index])
            index += 1
        blocks.append(Block(opening.group(1).strip(), "\n".join(body) + "\n", start + 1))
        index += 1
    return blocks


@dataclass
class Stack:
    """scripts/run_local.py running as `make run` runs it; what it printed before `Ready.`."""

    process: subprocess.Popen[str]
    printed: str
    state_dir: Path

    @property
    def url(self) -> str:
        """devhost's address."""
        found = re.search(r"Service Connector is running on (\S+)", self.printed)
        assert found, self.printed
        return found.group(1)

    def stop(self) -> int:
        """Ctrl-C, as a user stops make run; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)


def start_stack(state_dir: Path, *extra: str) -> Stack:
    """Start `make run --fast` on a free port with its state in `state_dir`; return once it is Ready."""
    process = spawn(state_dir, *extra)
    try:
        return Stack(process, read_until_ready(process), state_dir)
    except AssertionError:
        process.kill()
        process.wait(10)
        raise


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """The product as `make run --fast` starts it."""
    running = start_stack(tmp_path / "run")
    try:
        yield running
    finally:
        running.stop()


def substituted(text: str, stack: Stack) -> str:
    """A block as written, pointed at this test's stack (its address and state folder only)."""
    return text.replace(LOCAL_URL, stack.url).replace(LOCAL_STATE, f"{stack.state_dir}/")


def readme_script(blocks: list[Block], stack: Stack, folder: Path) -> str:
    """One bash script running every runnable block in order; Python blocks with the project's Python."""
    parts = ["set -eo pipefail"]
    for number, block in enumerate(blocks):
        if not block.runnable:
            continue
        parts.append(f"echo '@@ block at line {block.line}' >&2")
        code = substituted(block.text, stack)
        if block.language == "python":
            script = folder / f"block_{number}.py"
            script.write_text(code, encoding="utf-8")
            parts.append(f"{sys.executable} {script}")
        else:
            parts.append(code)
    return "\n".join(parts) + "\necho '@@ all blocks ran' >&2\n"


def test_the_readme_has_runnable_blocks_and_only_explained_skips() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    runnable = [b for b in blocks if b.runnable]
    languages = {b.language for b in runnable}
    assert {"sh", "python"} <= languages, "the README's CLI, curl and Python flows are runnable blocks"
    for block in blocks:
        if block.not_run_reason is not None:
            assert len(block.not_run_reason) > 10, f"line {block.line}: say why the block cannot run"
    # The CLI comes first in "Using it", before curl, the SDK and Service Bus.
    text = README.read_text(encoding="utf-8")
    order = [
        text.index(h) for h in ("### The CLI", "### HTTP API with curl", "### Python SDK", "### Service Bus")
    ]
    assert order == sorted(order)


def test_the_readme_links_stay_inside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert not [link for link in links if link.startswith("../")]
    for link in links:
        if re.match(r"^[a-z]+://", link) or link.startswith("#"):
            continue
        assert (REPO / link.split("#")[0]).exists(), f"README links to {link}, which is not in the repository"
    assert "docs/architecture.md" in links


@pytest.mark.slow
def test_every_readme_block_runs_against_make_run(stack: Stack, tmp_path: Path) -> None:
    # make run printed what the README says it prints.
    printed = stack.printed
    assert re.search(rf"Demo identity client id \(for --workload-identity\): {GUID}", printed), printed
    assert re.search(r"Service Bus connection string: Endpoint=sb://127\.0\.0\.1:\d+;", printed), printed
    kubeconfig = re.search(r"Kubeconfig of aks-demo-1: (\S+)", printed)
    assert kubeconfig and Path(kubeconfig.group(1)).is_file()
    assert "State reset:" in printed and "--keep-state" in printed
    assert f"export AKS_CONNECTOR_ENDPOINT={stack.url} AKS_CONNECTOR_KEY=" in printed
    demo = json.loads((stack.state_dir / "demo.json").read_text(encoding="utf-8"))
    assert demo["endpoint"] == stack.url and demo["kubeconfigs"]["aks-demo-1"] == kubeconfig.group(1)

    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    script = readme_script(blocks, stack, tmp_path)
    ran = subprocess.run(
        ["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    markers = re.findall(r"@@ block at line (\d+)", ran.stderr)
    failing = f"README block at line {markers[-1]}" if markers else "before the first block"
    assert ran.returncode == 0, f"{failing} failed:\n--- stdout\n{ran.stdout}\n--- stderr\n{ran.stderr}"
    assert "@@ all blocks ran" in ran.stderr
    assert len(markers) == len([b for b in blocks if b.runnable])
    out = ran.stdout
    assert out.count('"Succeeded"') >= 1  # the CLI's create, queried for its provisioningState
    assert "ConnectionOperationCompleted Succeeded" in out  # the Service Bus recipe
    assert "sc-blobsb-secret" in out and "sc-blobcli-secret" in out  # the kubeconfig block


@pytest.mark.slow
def test_make_run_keeps_the_registry_only_when_asked(tmp_path: Path) -> None:
    state = tmp_path / "run"
    cluster = (
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-demo"
        "/providers/Microsoft.ContainerService/managedClusters/aks-demo-1"
    )
    blob = (
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-demo"
        "/providers/Microsoft.Storage/storageAccounts/stdemo0001/blobServices/default"
    )

    def cli(running: Stack, *argv: str) -> subprocess.CompletedProcess[str]:
        env = {
            "AKS_CONNECTOR_ENDPOINT": running.url,
            "AKS_CONNECTOR_KEY": _key(running),
            "PATH": "/usr/bin:/bin",
        }
        return subprocess.run(
            [sys.executable, "-m", "aks_connector", *argv], cwd=REPO, env=env, capture_output=True, text=True
        )

    first = start_stack(state, "--keep-state")
    try:
        created = cli(first, "create", "storage-blob", "--connection", "kept", "--source-id", cluster,
                      "--target-id", blob, "--secret", "-o", "json")  # fmt: skip
        assert created.returncode == 0, created.stderr
    finally:
        assert first.stop() == 0

    second = start_stack(state, "--keep-state")
    try:
        assert "State kept (--keep-state)" in second.printed
        listed = cli(second, "list", "--source-id", cluster, "--query", "[].name", "-o", "tsv")
        assert listed.stdout.split() == ["kept"], listed.stderr
        # The emulated cluster started again from the seed: a reconcile puts the Secret back.
        assert cli(second, "reconcile", "-o", "json").returncode == 0
    finally:
        assert second.stop() == 0

    third = start_stack(state)
    try:
        assert "State reset:" in third.printed
        listed = cli(third, "list", "--source-id", cluster, "--query", "[].name", "-o", "tsv")
        assert listed.returncode == 0 and listed.stdout.split() == []
    finally:
        assert third.stop() == 0


def _key(running: Stack) -> str:
    return str(json.loads((running.state_dir / "demo.json").read_text(encoding="utf-8"))["functionKey"])
