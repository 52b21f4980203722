"""Read-only figures from devhost's SQLite task hub: instance states, history lengths, payload sizes.

devhost offers no API for history sizes or payload bytes, so the product benchmark opens the task hub file
itself, read-only (`mode=ro`), beside the running engine (SQLite WAL lets a reader in while it writes).
Nothing here writes, and nothing here is part of devhost.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

TERMINAL = ("Completed", "Failed", "Terminated", "Canceled")
# HistoryEventType numbers (devhost/durable/history.py) of the events that carry an activity's input or
# output, and a child orchestration's input or output.
_PAYLOAD_FIELDS = {4: "Input", 5: "Result", 7: "Input", 8: "Result"}
_ACTIVITY_EVENTS = (4, 5)


@dataclass(frozen=True)
class HistoryFigures:
    """What a set of instances left in the task hub."""

    instances: int
    largest_history: int  # events in the longest history
    largest_history_instance: str
    largest_activity_payload: int  # bytes of the largest activity input or output
    largest_activity_payload_name: str  # "<activity> input|output"
    largest_child_payload: int  # bytes of the largest sub-orchestration input or output


class TaskHub:
    """A read-only view of a devhost task hub file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # One connection per thread, kept: waiting threads poll often, and opening one costs more CPU than
        # the query (CPU the product under measurement would otherwise lose).
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        yield db

    def instance_ids(self) -> set[str]:
        """Every instance id in the hub."""
        with self._db() as db:
            return {row[0] for row in db.execute("SELECT instance_id FROM instances")}

    def updated_since(self, moment: str) -> set[str]:
        """Ids of the instances written at or after `moment` (the engine's `YYYY-mm-ddTHH:MM:SS.ffffffZ`).

        Reused instance ids (the reconcile singleton and its children) make "new ids" useless for telling
        one pass from the last; their last update time does.
        """
        with self._db() as db:
            rows = db.execute("SELECT instance_id FROM instances WHERE last_updated_time >= ?", (moment,))
            return {row[0] for row in rows}

    def status(self, instance_id: str) -> str | None:
        """The runtime status of one instance, or None when it does not exist (yet)."""
        with self._db() as db:
            row = db.execute("SELECT status FROM instances WHERE instance_id = ?", (instance_id,)).fetchone()
        return None if row is None else str(row[0])

    def output(self, instance_id: str) -> object:
        """The parsed output of one instance (None when absent)."""
        with self._db() as db:
            row = db.execute("SELECT output FROM instances WHERE instance_id = ?", (instance_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def running(self) -> list[str]:
        """Ids of the instances that have not ended."""
        with self._db() as db:
            rows = db.execute("SELECT instance_id, status FROM instances").fetchall()
        return [instance for instance, status in rows if status not in TERMINAL]

    def history_length(self, instance_id: str) -> int:
        """How many history events one instance has."""
        with self._db() as db:
            row = db.execute("SELECT COUNT(*) FROM history WHERE instance_id = ?", (instance_id,)).fetchone()
        return int(row[0])

    def figures(self, instance_ids: Iterable[str]) -> HistoryFigures:
        """History lengths and payload sizes of the given instances."""
        wanted = sorted(set(instance_ids))
        longest, longest_id = 0, ""
        activity_bytes, activity_name, child_bytes = 0, "", 0
        with self._db() as db:
            for instance_id in wanted:
                events = [
                    json.loads(row[0])
                    for row in db.execute(
                        "SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,)
                    )
                ]
                if len(events) > longest:
                    longest, longest_id = len(events), instance_id
                names = {e.get("EventId"): e.get("Name") for e in events if e.get("EventType") == 4}
                for event in events:
                    kind = event.get("EventType")
                    field = _PAYLOAD_FIELDS.get(kind)
                    if field is None:
                        continue
                    size = len(str(event.get(field) or "").encode("utf-8"))
                    if kind in _ACTIVITY_EVENTS:
                        if size > activity_bytes:
                            name = event.get("Name") or names.get(event.get("TaskScheduledId"), "?")
                            activity_bytes = size
                            activity_name = f"{name} {'input' if kind == 4 else 'output'}"
                    else:
                        child_bytes = max(child_bytes, size)
        return HistoryFigures(len(wanted), longest, longest_id, activity_bytes, activity_name, child_bytes)
