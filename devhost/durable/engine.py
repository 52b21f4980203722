"""The Durable engine: task hub, scheduler and replay loop (interface skeleton; implementation follows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devhost.clock import Clock, RealClock
from devhost.discovery import FunctionIndex


class EngineError(Exception):
    """A refused Durable API call; `status` is the HTTP status the host answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class InvocationRecord:
    """One orchestrator episode or activity run, for the host's invocation log."""

    function: str
    kind: str  # "orchestrator", "activity" or "entity"
    instance_id: str
    duration_s: float
    outcome: str  # "Succeeded", "Failed", or the orchestration's status after the episode
    error: str | None = None


class DurableEngine:
    """Runs orchestrations, activities and timers of a FunctionIndex, persisted in a SQLite task hub."""

    def __init__(
        self,
        index: FunctionIndex,
        *,
        store_path: str | None = None,
        clock: Clock | None = None,
        task_hub: str = "TestHubName",
        max_concurrent_activities: int = 10,
        on_invocation: Callable[[InvocationRecord], None] | None = None,
    ) -> None:
        self.index = index
        self.store_path = store_path
        self.clock: Clock = clock or RealClock()
        self.task_hub = task_hub
        self.max_concurrent_activities = max_concurrent_activities
        self.on_invocation = on_invocation

    async def start(self) -> None:
        """Start the scheduler; resumes persisted in-flight work."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop the scheduler; in-flight work stays in the store for the next start."""
        raise NotImplementedError

    def client_binding(self, base_url: str, *, code: str | None = None) -> str:
        """The durableClient binding JSON for functions served at base_url."""
        raise NotImplementedError

    def add_routes(self, app: web.Application) -> None:
        """Serve the Durable HTTP API under /durabletask/ and /runtime/webhooks/durabletask/."""
        raise NotImplementedError

    async def start_new(self, name: str, instance_id: str | None = None, input: Any = None) -> str:
        """Start an orchestration; EngineError(409) if the id is Pending, Running or Suspended."""
        raise NotImplementedError

    async def get_status(
        self, instance_id: str, show_history: bool = False, show_history_output: bool = False,
        show_input: bool = True,
    ) -> dict[str, Any] | None:
        """The status JSON of an instance (as the HTTP API returns it), or None if unknown."""
        raise NotImplementedError

    async def list_instances(
        self, *, created_from: Any = None, created_to: Any = None, statuses: list[str] | None = None,
        prefix: str | None = None,
    ) -> list[dict[str, Any]]:
        """Status JSON of every instance matching the filters."""
        raise NotImplementedError

    async def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        """Deliver an external event (404 unknown, 410 completed)."""
        raise NotImplementedError

    async def terminate(self, instance_id: str, reason: str | None = None) -> None:
        """Terminate a running instance."""
        raise NotImplementedError

    async def suspend(self, instance_id: str, reason: str | None = None) -> None:
        """Suspend a running instance: new events are buffered until resume."""
        raise NotImplementedError

    async def resume(self, instance_id: str, reason: str | None = None) -> None:
        """Resume a suspended instance."""
        raise NotImplementedError

    async def rewind(self, instance_id: str, reason: str | None = None) -> None:
        """Rewind a Failed instance: re-run its failed work and continue."""
        raise NotImplementedError

    async def restart(self, instance_id: str, restart_with_new_instance_id: bool = True) -> str:
        """Start the instance's orchestration again with its original input; returns the new id."""
        raise NotImplementedError

    async def purge(self, instance_id: str) -> int:
        """Delete a terminal instance and its history; returns the number deleted."""
        raise NotImplementedError

    async def run_until_idle(self) -> None:
        """Process everything runnable now (work due in the future is left waiting)."""
        raise NotImplementedError
