"""Many orchestrations on one DurableHarness, on a virtual clock that moves both emulators' clocks.

The orchestration tests' `LinkedClock` moves the ARM emulator only; the proofs also read the Kubernetes
emulator's journal times (a retry after a 429 from the API server), so this clock moves both. Nothing sleeps:
a durable timer of N seconds moves ARM, Kubernetes and the engine by N virtual seconds.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devhost.clock import VirtualClock
from devhost.discovery import FunctionIndex
from devhost.durable.harness import DurableHarness
from emulators.common import VirtualClock as EmulatorClock

DAYS_2 = timedelta(days=2).total_seconds()


class EmulatorsClock(VirtualClock):
    """The harness's virtual clock; moving it moves every given emulator clock by the same amount."""

    def __init__(self, *emulator_clocks: EmulatorClock) -> None:
        super().__init__(datetime.fromtimestamp(emulator_clocks[0].now(), tz=UTC))
        self._emulator_clocks = emulator_clocks

    def advance_to(self, when: datetime) -> datetime:
        """Move this clock and the emulators' forward to `when`."""
        before = self.now()
        after = super().advance_to(when)
        if after > before:
            for clock in self._emulator_clocks:
                clock.advance((after - before).total_seconds())
        return after


@dataclass
class Finished:
    """One orchestration's final status (with history) and the fire times of the timers it asked for."""

    status: dict[str, Any]
    timers: list[datetime]
    started: datetime

    @property
    def output(self) -> Any:
        """The orchestration's output."""
        return self.status["output"]

    def waits(self) -> list[float]:
        """Each requested timer as seconds after the previous one (the first after the start)."""
        points = [self.started, *self.timers]
        return [(b - a).total_seconds() for a, b in itertools.pairwise(points)]


def run_orchestrations(
    index: FunctionIndex,
    clock: EmulatorsClock,
    starts: list[tuple[str, str, dict[str, Any]]],
    *,
    max_concurrent_activities: int = 10,
    timeout_virtual: float = DAYS_2,
) -> dict[str, Finished]:
    """Start every `(orchestration, instance id, input)` at once and drive them all to their end."""
    return asyncio.run(_run(index, clock, starts, max_concurrent_activities, timeout_virtual))


async def _run(
    index: FunctionIndex,
    clock: EmulatorsClock,
    starts: list[tuple[str, str, dict[str, Any]]],
    max_concurrent_activities: int,
    timeout_virtual: float,
) -> dict[str, Finished]:
    async with DurableHarness(index, clock=clock, max_concurrent_activities=max_concurrent_activities) as h:
        started = clock.now()
        client = h.client()
        for name, instance_id, payload in starts:
            await client.start_new(name, instance_id, payload)
        finished: dict[str, Finished] = {}
        for _name, instance_id, _payload in starts:
            await h.wait_for(instance_id, timeout_virtual=timeout_virtual)
            status = await h.engine.get_status(instance_id, show_history=True, show_history_output=True)
            assert status is not None
            finished[instance_id] = Finished(status, h.requested_timers(instance_id), started)
        return finished
