"""Clocks for the devhost: the real one, and a virtual one that tests move by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the engine and the timers need from time: the current instant and a way to wait for one."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once `now()` has reached `when` (at once if it already has)."""
        ...


def _aware(when: datetime) -> datetime:
    # Naive datetimes are taken as UTC: comparing naive with aware raises, and the protocol is UTC-only.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class RealClock:
    """Wall-clock time; waits with asyncio.sleep."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        """Sleep in real time until `when`."""
        when = _aware(when)
        while True:
            remaining = (when - self.now()).total_seconds()
            if remaining <= 0:
                return
            # Re-check after waking: the loop may oversleep or the system clock may step.
            await asyncio.sleep(min(remaining, 3600.0))


class VirtualClock:
    """A clock that only moves when `advance()` is called; sleepers wake when their time comes."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware(start) if start is not None else datetime(2024, 1, 1, tzinfo=UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        """The virtual current time."""
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        """Wait, without sleeping in real time, until `advance()` reaches `when`."""
        when = _aware(when)
        if when <= self._now:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (when, future)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def advance(self, delta: float | timedelta) -> datetime:
        """Move time forward by `delta` (seconds or timedelta) and wake every sleeper whose time came."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("a clock cannot go backwards")
        return self.advance_to(self._now + step)

    def advance_to(self, when: datetime) -> datetime:
        """Move time forward to `when` (never backwards) and wake every sleeper whose time came."""
        when = _aware(when)
        if when > self._now:
            self._now = when
        for due, future in list(self._sleepers):
            if due <= self._now and not future.done():
                future.set_result(None)
        return self._now

    def next_wakeup(self) -> datetime | None:
        """The earliest time a sleeper waits for, or None when nobody sleeps."""
        pending = [due for due, future in self._sleepers if not future.done()]
        return min(pending) if pending else None
