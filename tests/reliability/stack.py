"""The product as the proofs try it: function_app on DevHost with the ARM, kube and Service Bus emulators and
Azurite, started once per test module (`stack` fixture) so a proof's thousands of requests share one host.

tests/reliability/conftest.py imports `stack` and the session emulators it needs, so a proof just asks for
`stack`. A module tunes it with module-level constants:

    STACK_SERVICE_BUS = True    # the Service Bus trigger listens (default: off, it slows the host's stop)
    STACK_VIRTUAL_CLOCK = True  # DevHost on a VirtualClock starting at the ARM emulator's time (stack.clock)

The task hub is a SQLite file (`stack.store_path`), as under `make run`, so a proof can read it whole.
Everything else (settings, fast demo seed, function key, `http`, `wait_operation`, `kube_secret`,
`linker_client`) is tests/e2e's `E2E`; `start_stack` is the same thing as a context manager, for a proof
that needs a second, differently configured host.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from activities.clients import use_clients
from devhost.app import DevHostConfig
from devhost.clock import VirtualClock
from emulators.arm import ArmEmulator
from emulators.common import EmulatorAdmin
from emulators.common import VirtualClock as EmulatorClock
from emulators.kube import KubeEmulator, KubeLink
from emulators.servicebus import QueueConfig, ServiceBusEmulator
from tests.e2e.conftest import (
    E2E,
    REPO,
    fast_demo_seed,
    product_environment,
    start_host_thread,
    stop_host_thread,
)
from tests.fixtures.arm import ArmHarness, StaticTokenCredential
from tests.fixtures.kube import KubeHarness

_queue_numbers = itertools.count(1)
_RUNNING = ("Pending", "Running", "ContinuedAsNew", "Suspended")


@dataclass
class Stack(E2E):
    """The running product (see E2E) plus where its task hub lives and the settings it runs with."""

    store_path: str = ""
    settings: dict[str, str] | None = None

    def journal(self) -> list[dict[str, Any]]:
        """Every ARM and Kubernetes request in the emulators' journals since the last clear (in-process)."""
        entries: list[dict[str, Any]] = self.arm.emulator.journal.snapshot()["entries"]
        return entries + list(self.arm.kube.emulator.journal.snapshot()["entries"])

    def writes(self) -> list[dict[str, Any]]:
        """Every state-changing ARM and Kubernetes request in the emulators' journals since the last clear."""
        return [e for e in self.journal() if is_write(e)]

    def clear_journals(self) -> None:
        """Forget the ARM and Kubernetes requests recorded so far."""
        self.arm.emulator.journal.clear()
        self.arm.kube.emulator.journal.clear()

    def running_instances(self) -> list[str]:
        """Ids of the orchestrations that have not ended (read from the task hub file)."""
        with contextlib.closing(sqlite3.connect(self.store_path, timeout=10)) as db:
            rows = db.execute("SELECT instance_id, status FROM instances").fetchall()
        return [instance for instance, status in rows if status in _RUNNING]

    def settle(self, timeout: float = 60) -> None:
        """Wait until no orchestration is running (what an accepted request started has ended)."""
        deadline = time.monotonic() + timeout
        while running := self.running_instances():
            assert time.monotonic() < deadline, f"orchestrations still running after {timeout} s: {running}"
            time.sleep(0.05)


# ARM actions that only read, whatever their method.
_READ_POSTS = ("/listkeys", "/listconnectionstrings", "/listclusterusercredential", "/listkeyvaluesecrets")


def is_write(entry: dict[str, Any]) -> bool:
    """True for a journal entry that changes state (PUT, PATCH, DELETE, and POSTs other than list actions)."""
    method = str(entry["method"]).upper()
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    if method == "POST":
        return not str(entry["path"]).lower().rstrip("/").endswith(_READ_POSTS)
    return True


def arm_harness(arm_emulator: ArmEmulator, kube_emulator: KubeEmulator) -> ArmHarness:
    """Both session emulators, reset, as the ArmHarness tests/e2e uses."""
    kube_emulator.reset()
    arm_emulator.reset()
    assert isinstance(arm_emulator.clock, EmulatorClock)
    kube = KubeHarness(kube_emulator, KubeLink(kube_emulator.url, kube_emulator.ca_file))
    return ArmHarness(
        arm_emulator,
        EmulatorAdmin(arm_emulator.url, arm_emulator.ca_file),
        arm_emulator.clock,
        kube,
        StaticTokenCredential(),
    )


def new_queue(servicebus: ServiceBusEmulator, stem: str, max_delivery_count: int = 10) -> str:
    """A fresh Service Bus queue with a unique name."""
    name = f"{stem}-{next(_queue_numbers)}-{uuid.uuid4().hex[:6]}"
    servicebus.add_queue(QueueConfig(name, max_delivery_count, 30.0))
    return name


@contextlib.contextmanager
def start_stack(
    arm: ArmHarness,
    storage: str,
    servicebus: ServiceBusEmulator,
    workdir: Path,
    *,
    service_bus: bool = False,
    virtual_clock: bool = False,
    settings: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """Seed the fast demo, set the product's environment (plus `settings`), run DevHost; restore on exit."""
    arm.seed(fast_demo_seed())
    requests = new_queue(servicebus, "proof-requests", max_delivery_count=10_000)
    events = new_queue(servicebus, "proof-events")
    environment = product_environment(arm, storage, servicebus, requests, events)
    environment["DURABLE_TASK_HUB"] = "ProofHub"
    environment.update(settings or {})
    clock = VirtualClock(start=datetime.fromtimestamp(arm.clock.now(), UTC)) if virtual_clock else None
    store_path = workdir / "taskhub.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        use_clients(None)  # the activities' clients are rebuilt from this environment
        config = DevHostConfig(
            app_dir=str(REPO),
            port=0,
            store_path=str(store_path),
            keys_path=str(workdir / "keys.json"),
            timer_status_path=None,
            load_local_settings=False,
            timers=False,
            service_bus=service_bus,
            service_bus_max_wait_time=0.2,
        )
        running = start_host_thread(config, clock)
        # Operation URLs name the configured public address (the bound one locally), never the request's Host.
        patch.setenv("PUBLIC_BASE_URL", running.url)
        try:
            key = running.host.keys.host_keys["default"]
            yield Stack(
                running,
                arm,
                key,
                servicebus,
                requests,
                events,
                clock,
                store_path=str(store_path),
                settings=environment,
            )
        finally:
            stop_host_thread(running)
            use_clients(None)
            arm.kube.close()


@pytest.fixture(scope="module")
def stack(
    arm_emulator: ArmEmulator,
    kube_emulator: KubeEmulator,
    azurite_connection_string: str,
    servicebus_emulator: ServiceBusEmulator,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Stack]:
    """The product on DevHost with freshly reset emulators, one per test module (see the module docstring)."""
    harness = arm_harness(arm_emulator, kube_emulator)
    with start_stack(
        harness,
        azurite_connection_string,
        servicebus_emulator,
        tmp_path_factory.mktemp("stack"),
        service_bus=bool(getattr(request.module, "STACK_SERVICE_BUS", False)),
        virtual_clock=bool(getattr(request.module, "STACK_VIRTUAL_CLOCK", False)),
    ) as running:
        yield running
