"""A test harness: engine + VirtualClock + a loopback HTTP server so the SDK's client works (skeleton)."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any

import azure.durable_functions as df

from devhost.clock import VirtualClock
from devhost.discovery import FunctionIndex
from devhost.durable.engine import DurableEngine


class DurableHarness:
    """Async context manager running a DurableEngine on a VirtualClock, served on 127.0.0.1:0."""

    def __init__(self, index: FunctionIndex, *, store_path: str | None = None, start: datetime | None = None,
                 max_concurrent_activities: int = 10) -> None:
        self.clock = VirtualClock(start)
        self.engine = DurableEngine(index, store_path=store_path, clock=self.clock,
                                    max_concurrent_activities=max_concurrent_activities)

    async def __aenter__(self) -> DurableHarness:
        raise NotImplementedError

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        raise NotImplementedError

    def client(self) -> df.DurableOrchestrationClient:
        """A real DurableOrchestrationClient bound to this harness's server."""
        raise NotImplementedError

    async def advance(self, seconds: float) -> None:
        """Move the virtual clock forward and process everything that became due."""
        raise NotImplementedError

    async def run_until_idle(self) -> None:
        """Process everything runnable at the current virtual time."""
        raise NotImplementedError

    async def wait_for(self, instance_id: str, timeout_virtual: float = 7 * 86400) -> dict[str, Any]:
        """Run (jumping the virtual clock to each due timer) until the instance is terminal; its status."""
        raise NotImplementedError

    def requested_timers(self, instance_id: str) -> list[datetime]:
        """Fire times of every durable timer the instance requested, in order."""
        raise NotImplementedError
