"""The product in one process for the benchmark: function_app on devhost with the fast emulators.

The same stack the reliability proofs use (tests/reliability/stack.py): the ARM and Kubernetes emulators
in-process (zero registration, update and install delays), the Service Bus emulator, Azurite from npm, and
devhost on its own event loop with a SQLite task hub in a temporary folder. Everything binds to 127.0.0.1 on
free ports and is stopped on exit, Azurite by its PID.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emulators.arm import ArmEmulator
from emulators.azurite import Azurite
from emulators.common import VirtualClock
from emulators.kube import KubeEmulator, KubeLink
from emulators.servicebus import ServiceBusEmulator
from tests.reliability.stack import Stack, arm_harness, is_write, start_stack

__all__ = ["Stack", "arm_calls", "is_write", "kube_calls", "kube_lists", "product_stack", "reads", "writes"]

# Per-request logs of the host and the SDKs would swamp the tables.
_QUIET = (
    "azure",
    "devhost",
    "kubernetes",
    "urllib3",
    "uamqp",
    "aiohttp",
    "activities",
    "triggers",
    "orchestrators",
    "emulators",
)


@contextlib.contextmanager
def product_stack(settings: dict[str, str] | None = None) -> Iterator[Stack]:
    """Start everything (fast demo seed loaded), yield the running Stack, stop everything."""
    with contextlib.ExitStack() as stack:
        for name in _QUIET:
            # Quiet while the benchmark runs; restored after, so a test run's later log checks see everything.
            logger = logging.getLogger(name)
            stack.callback(logger.setLevel, logger.level)
            logger.setLevel(logging.ERROR)
        kube = KubeEmulator(clock=VirtualClock())
        kube.start()
        stack.callback(kube.stop)
        arm = ArmEmulator(clock=VirtualClock(), kube=KubeLink(kube.url, kube.ca_file))
        arm.start()
        stack.callback(arm.stop)
        azurite = stack.enter_context(Azurite())
        servicebus = stack.enter_context(ServiceBusEmulator())
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-product-")))
        harness = arm_harness(arm, kube)
        yield stack.enter_context(
            start_stack(harness, azurite.connection_string, servicebus, workdir, settings=settings)
        )


def arm_calls(stack: Stack) -> list[dict[str, Any]]:
    """ARM requests in the journal since the last clear."""
    return list(stack.arm.emulator.journal.snapshot()["entries"])


def kube_calls(stack: Stack) -> list[dict[str, Any]]:
    """Kubernetes requests in the journal since the last clear."""
    return list(stack.arm.kube.emulator.journal.snapshot()["entries"])


def reads(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries that change nothing (GETs and list actions)."""
    return [e for e in entries if not is_write(e)]


def writes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries that change state."""
    return [e for e in entries if is_write(e)]


def kube_lists(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Kubernetes collection reads (a GET on a route that does not end in an object's name)."""
    return [
        e
        for e in entries
        if str(e["method"]).upper() == "GET"
        and not str(e.get("route") or e["path"]).rstrip("/").endswith("{name}")
    ]
