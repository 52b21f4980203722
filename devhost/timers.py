"""Timer triggers on an injectable clock: NCRONTAB or TimeSpan schedules, runOnStartup and past_due.

As on the host: one invocation at a time per function (a slow run delays the next); a run that starts later
than its occurrence by more than `late_tolerance` is past due, and so is the first run after a restart when
the recorded next occurrence passed while the host was down (the schedule monitor, kept in `status_path`;
on by default for schedules that recur at most once a minute, or as `useMonitor` says).
Missed occurrences are not replayed one by one: one past-due run, then the next occurrence after now.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from azure.functions.timer import TimerRequest

from devhost.clock import Clock
from devhost.discovery import FunctionInfo
from devhost.invoker import Invoker
from devhost.ncrontab import Schedule, parse_schedule
from devhost.settings import resolve

log = logging.getLogger("devhost")


@dataclass(frozen=True)
class TimerFiring:
    """One timer invocation: which function, the occurrence it serves, when it ran, and whether late."""

    function: str
    scheduled: datetime | None  # None for runOnStartup and admin runs
    fired_at: datetime
    past_due: bool


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


class TimerScheduler:
    """Runs every timerTrigger function of the app on its schedule."""

    def __init__(
        self,
        functions: list[FunctionInfo],
        *,
        invoker: Invoker,
        clock: Clock,
        environ: Mapping[str, str] | None = None,
        status_path: str | Path | None = None,
        late_tolerance: timedelta = timedelta(seconds=1),
    ) -> None:
        self.invoker = invoker
        self.clock = clock
        self.late_tolerance = late_tolerance
        self.status_path = Path(status_path) if status_path is not None else None
        self.firings: list[TimerFiring] = []
        # Parse every schedule now, so a bad one fails the host start with a clear message.
        self.schedules: dict[str, tuple[FunctionInfo, Schedule]] = {
            info.name: (info, parse_schedule(resolve(str(info.trigger["schedule"]), environ)))
            for info in functions
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._status = self._load_status()

    def _load_status(self) -> dict[str, dict[str, Any]]:
        if self.status_path is None or not self.status_path.exists():
            return {}
        try:
            loaded: dict[str, dict[str, Any]] = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
        return loaded

    def _save_status(self, name: str, last: datetime | None, following: datetime) -> None:
        now = self.clock.now()
        self._status[name] = {"Last": _iso(last), "Next": _iso(following), "LastUpdated": _iso(now)}
        if self.status_path is not None:
            self.status_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.status_path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self._status, indent=2), encoding="utf-8")
            temporary.replace(self.status_path)

    async def start(self) -> None:
        """Start one loop per timer function (runOnStartup runs happen first, in those loops)."""
        for name in self.schedules:
            self._tasks.append(asyncio.create_task(self._run(name), name=f"timer:{name}"))

    async def stop(self) -> None:
        """Cancel every timer loop (a running invocation is cancelled with it)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def is_monitored(self, name: str) -> bool:
        """Whether the schedule monitor applies: `useMonitor`, else recurring at most once a minute."""
        info, schedule = self.schedules[name]
        explicit = info.trigger.get("useMonitor")
        if explicit is not None:
            return bool(explicit) and str(explicit).lower() != "false"
        first = schedule.next_after(self.clock.now())
        return schedule.next_after(first) - first >= timedelta(minutes=1)

    async def _run(self, name: str) -> None:
        info, schedule = self.schedules[name]
        recorded = self._status.get(name, {}) if self.is_monitored(name) else {}
        last = datetime.fromisoformat(recorded["Last"]) if recorded.get("Last") else None
        missed = datetime.fromisoformat(recorded["Next"]) if recorded.get("Next") else None
        if missed is not None and missed <= self.clock.now():
            # The host was down when this occurrence came: run it now, marked past due.
            last = await self._fire(info, schedule, missed, last, past_due=True)
        elif info.trigger.get("runOnStartup"):
            last = await self._fire(info, schedule, None, last, past_due=False)
        occurrence = schedule.next_after(self.clock.now())
        self._save_status(name, last, occurrence)
        while True:
            await self.clock.sleep_until(occurrence)
            late = self.clock.now() - occurrence > self.late_tolerance
            last = await self._fire(info, schedule, occurrence, last, past_due=late)
            occurrence = schedule.next_after(max(self.clock.now(), occurrence))

    async def _fire(
        self,
        info: FunctionInfo,
        schedule: Schedule,
        occurrence: datetime | None,
        last: datetime | None,
        *,
        past_due: bool,
    ) -> datetime | None:
        now = self.clock.now()
        following = schedule.next_after(max(now, occurrence or now))
        self.firings.append(TimerFiring(info.name, occurrence, now, past_due))
        request = TimerRequest(
            past_due=past_due,
            schedule_status={"Last": _iso(last), "Next": _iso(following), "LastUpdated": _iso(now)},
            schedule={"AdjustForDST": True},
        )
        try:
            await self.invoker.invoke(info, request)
        except Exception:
            # Reported by the invoker; a failing timer keeps its schedule, as on the host.
            log.debug("timer function %s failed", info.name, exc_info=True)
        current = occurrence or now
        self._save_status(info.name, current, following)
        return current
