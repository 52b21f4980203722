"""A test harness: engine + VirtualClock + a loopback HTTP server so the SDK's own client works."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import azure.durable_functions as df
from aiohttp import web
from azure.durable_functions.models.utils import http_utils

from devhost.clock import VirtualClock
from devhost.discovery import FunctionIndex
from devhost.durable.engine import DurableEngine
from devhost.durable.history import TERMINAL


class DurableHarness:
    """Async context manager running a DurableEngine on a VirtualClock, served on 127.0.0.1:0."""

    def __init__(
        self,
        index: FunctionIndex,
        *,
        store_path: str | None = None,
        start: datetime | None = None,
        max_concurrent_activities: int = 10,
        clock: VirtualClock | None = None,
    ) -> None:
        self.clock = clock or VirtualClock(start)
        self.engine = DurableEngine(
            index,
            store_path=store_path,
            clock=self.clock,
            max_concurrent_activities=max_concurrent_activities,
        )
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> DurableHarness:
        # The SDK keeps one module-global aiohttp session bound to the loop that created it (§10).
        http_utils._client_session = None
        app = web.Application()
        self.engine.add_routes(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.engine.base_url = self.base_url
        # No background scheduler: work progresses only in run_until_idle / advance / wait_for, so a test
        # sees each state it asserts on (the devhost itself calls engine.start()).
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.engine.stop()
        session = http_utils._client_session
        if session is not None and not session.closed:
            await session.close()
        http_utils._client_session = None
        if self._runner is not None:
            await self._runner.cleanup()

    def client(self) -> df.DurableOrchestrationClient:
        """A real DurableOrchestrationClient bound to this harness's server."""
        return df.DurableOrchestrationClient(self.engine.client_binding(self.base_url))

    async def advance(self, seconds: float) -> None:
        """Move the virtual clock forward, processing each timer at its own time on the way."""
        target = self.clock.now() + timedelta(seconds=seconds)
        await self.run_until_idle()
        while (due := self.engine.next_due()) is not None and due <= target:
            self.clock.advance_to(due)
            await self.run_until_idle()
        self.clock.advance_to(target)
        await self.run_until_idle()

    async def run_until_idle(self) -> None:
        """Process everything runnable at the current virtual time."""
        await self.engine.run_until_idle()

    async def wait_for(self, instance_id: str, timeout_virtual: float = 30 * 86400) -> dict[str, Any]:
        """Run, jumping the virtual clock to each due timer, until the instance ends; its status JSON."""
        deadline = self.clock.now() + timedelta(seconds=timeout_virtual)
        while True:
            await self.run_until_idle()
            status = await self.engine.get_status(instance_id)
            if status is None:
                raise LookupError(f"no instance {instance_id!r}")
            if status["runtimeStatus"] in TERMINAL:
                return status
            due = self.engine.next_due()
            if due is None or due > deadline:
                raise TimeoutError(
                    f"instance {instance_id!r} is {status['runtimeStatus']} with nothing due "
                    f"before {deadline.isoformat()} (waiting for an external event?)"
                )
            self.clock.advance_to(due)

    def requested_timers(self, instance_id: str) -> list[datetime]:
        """Fire times of every durable timer the instance requested (retry timers included), in order."""
        return list(self.engine.timer_log.get(instance_id, []))
