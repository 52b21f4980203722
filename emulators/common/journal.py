"""The call journal: every non-admin request, and counters per route."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class JournalEntry:
    """One request as recorded."""

    method: str
    path: str
    route: str | None
    apiVersion: str | None  # camelCase: the journal's JSON field names
    status: int
    durationMs: float
    time: float
    fault: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Journal:
    """Thread-safe list of entries plus `METHOD route` counters."""

    def __init__(self) -> None:
        self._entries: list[JournalEntry] = []
        self._counters: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, entry: JournalEntry) -> None:
        """Append one entry and count it under `METHOD route` (or `METHOD path` when no route matched)."""
        with self._lock:
            self._entries.append(entry)
            self._counters[f"{entry.method} {entry.route or entry.path}"] += 1

    def clear(self) -> None:
        """Forget every entry and counter."""
        with self._lock:
            self._entries.clear()
            self._counters.clear()

    def snapshot(self) -> dict[str, Any]:
        """`{"entries": [...], "counters": {"GET /route/{x}": n}}`."""
        with self._lock:
            return {"entries": [asdict(e) for e in self._entries], "counters": dict(self._counters)}
