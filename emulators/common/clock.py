"""Injectable clocks: emulators read time only through these, so tests advance time instead of sleeping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time plus an offset that `advance` moves forward (usable in a separate process too)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as this clock sees them."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move this clock forward by `seconds` (never backward)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backward")
        with self._lock:
            self._offset += seconds

    def utcnow(self) -> datetime:
        """The current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def timestamp(self) -> str:
        """The current time in the RFC 3339 form Kubernetes and ARM use (`2026-01-02T03:04:05Z`)."""
        return self.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")


class VirtualClock(Clock):
    """A clock that stands still until `advance` is called: time-dependent state changes only when told."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        super().__init__()
        self._now = start

    def now(self) -> float:
        """Seconds since the epoch on the virtual timeline."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the virtual time forward by `seconds`."""
        if seconds < 0:
            raise ValueError("a clock cannot go backward")
        with self._lock:
            self._now += seconds
