"""The task hub in SQLite (WAL): instances, history, an inbox per instance and the activity queue.

Every state change happens inside `transaction()`, so a process killed at any moment leaves either the whole
change or none of it. Timers are inbox messages that become visible at their fire time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from devhost.durable.history import EventType

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    created_time TEXT NOT NULL,
    last_updated_time TEXT NOT NULL,
    parent TEXT,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    visible_at TEXT NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_by_instance ON inbox (instance_id, id);
CREATE INDEX IF NOT EXISTS inbox_by_time ON inbox (visible_at);
CREATE TABLE IF NOT EXISTS activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    input TEXT
);
CREATE TABLE IF NOT EXISTS entities (
    entity_id TEXT PRIMARY KEY,
    state TEXT,
    last_modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS episodes (
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    history_len INTEGER NOT NULL,
    state_before TEXT NOT NULL,
    batch TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
"""


@dataclass
class Instance:
    """One orchestration instance row; `state` is the engine's bookkeeping (ids, actions, retries)."""

    instance_id: str
    name: str
    execution_id: str
    status: str
    input: str | None
    output: str | None
    custom_status: str | None
    created_time: str
    last_updated_time: str
    parent: dict[str, Any] | None
    state: dict[str, Any]


@dataclass
class InboxMessage:
    """An event waiting to be delivered to an instance (a timer is one whose visible_at is its fire time)."""

    id: int
    instance_id: str
    execution_id: str
    visible_at: str
    event: dict[str, Any]


@dataclass
class ActivityItem:
    """A queued activity run."""

    id: int
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None


class TaskHubStore:
    """SQLite persistence of the task hub; `path=None` keeps it in memory."""

    def __init__(self, path: str | None = None) -> None:
        self._db = sqlite3.connect(path or ":memory:", isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        if path:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._depth = 0

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nested calls join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    # instances

    def get_instance(self, instance_id: str) -> Instance | None:
        """The instance row, or None."""
        row = self._db.execute("SELECT * FROM instances WHERE instance_id = ?", (instance_id,)).fetchone()
        return None if row is None else _instance(row)

    def list_instances(self) -> list[Instance]:
        """Every instance, oldest first."""
        rows = self._db.execute("SELECT * FROM instances ORDER BY created_time, instance_id").fetchall()
        return [_instance(row) for row in rows]

    def put_instance(self, inst: Instance) -> None:
        """Insert or replace an instance row."""
        self._db.execute(
            "INSERT OR REPLACE INTO instances VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                inst.instance_id,
                inst.name,
                inst.execution_id,
                inst.status,
                inst.input,
                inst.output,
                inst.custom_status,
                inst.created_time,
                inst.last_updated_time,
                None if inst.parent is None else json.dumps(inst.parent),
                json.dumps(inst.state),
            ),
        )

    def delete_instance(self, instance_id: str) -> None:
        """Remove an instance with its history, messages, queued activities and episodes."""
        for table in ("instances", "history", "inbox", "activities", "episodes"):
            self._db.execute(f"DELETE FROM {table} WHERE instance_id = ?", (instance_id,))

    # history

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        """The current execution's history events, in order."""
        rows = self._db.execute(
            "SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,)
        ).fetchall()
        return [json.loads(row["event"]) for row in rows]

    def append_history(self, instance_id: str, start: int, events: list[dict[str, Any]]) -> None:
        """Append events at positions start, start+1, ..."""
        self._db.executemany(
            "INSERT INTO history VALUES (?,?,?)",
            [(instance_id, start + i, json.dumps(e)) for i, e in enumerate(events)],
        )

    def truncate_history(self, instance_id: str, length: int) -> None:
        """Keep only the first `length` events."""
        self._db.execute("DELETE FROM history WHERE instance_id = ? AND seq >= ?", (instance_id, length))

    def clear_work(self, instance_id: str, *, keep_history: bool = True) -> None:
        """Drop the instance's pending messages and queued activities (and its history unless kept)."""
        self._db.execute("DELETE FROM inbox WHERE instance_id = ?", (instance_id,))
        self._db.execute("DELETE FROM activities WHERE instance_id = ?", (instance_id,))
        if not keep_history:
            self._db.execute("DELETE FROM history WHERE instance_id = ?", (instance_id,))
            self._db.execute("DELETE FROM episodes WHERE instance_id = ?", (instance_id,))

    # inbox

    def send(self, instance_id: str, execution_id: str, visible_at: str, event: dict[str, Any]) -> None:
        """Queue an event for an instance, visible from visible_at."""
        self._db.execute(
            "INSERT INTO inbox (instance_id, execution_id, visible_at, event) VALUES (?,?,?,?)",
            (instance_id, execution_id, visible_at, json.dumps(event)),
        )

    def visible_messages(self, instance_id: str, now: str) -> list[InboxMessage]:
        """The instance's messages visible at `now`, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM inbox WHERE instance_id = ? AND visible_at <= ? ORDER BY id",
            (instance_id, now),
        ).fetchall()
        return [_message(row) for row in rows]

    def instances_with_visible_messages(self, now: str) -> list[str]:
        """Ids of instances that have at least one message visible at `now`."""
        rows = self._db.execute(
            "SELECT instance_id, MIN(id) AS first FROM inbox WHERE visible_at <= ? "
            "GROUP BY instance_id ORDER BY first",
            (now,),
        ).fetchall()
        return [row["instance_id"] for row in rows]

    def next_visible_at(self, after: str, exclude_statuses: tuple[str, ...] = ()) -> str | None:
        """The earliest visible_at later than `after` (the next timer), or None."""
        marks = ",".join("?" * len(exclude_statuses)) or "''"
        row = self._db.execute(
            "SELECT MIN(visible_at) AS due FROM inbox JOIN instances USING (instance_id) "
            f"WHERE visible_at > ? AND status NOT IN ({marks})",
            (after, *exclude_statuses),
        ).fetchone()
        return None if row is None else row["due"]

    def delete_messages(self, ids: list[int]) -> None:
        """Remove delivered messages."""
        self._db.executemany("DELETE FROM inbox WHERE id = ?", [(i,) for i in ids])

    def delete_timer(self, instance_id: str, timer_id: int) -> None:
        """Remove a cancelled timer's pending TimerFired message."""
        for msg in self._db.execute("SELECT * FROM inbox WHERE instance_id = ?", (instance_id,)).fetchall():
            event = json.loads(msg["event"])
            if event.get("EventType") == EventType.TimerFired and event.get("TimerId") == timer_id:
                self._db.execute("DELETE FROM inbox WHERE id = ?", (msg["id"],))

    # activities

    def enqueue_activity(
        self, instance_id: str, execution_id: str, task_id: int, name: str, input: str | None
    ) -> None:
        """Queue an activity run."""
        self._db.execute(
            "INSERT INTO activities (instance_id, execution_id, task_id, name, input) VALUES (?,?,?,?,?)",
            (instance_id, execution_id, task_id, name, input),
        )

    def queued_activities(self, limit: int, exclude: set[int]) -> list[ActivityItem]:
        """Up to `limit` queued activities not in `exclude` (those already running), oldest first."""
        # `exclude` is at most the engine's activity concurrency, so it fits in one statement's parameters.
        running = sorted(exclude)
        where = f" WHERE id NOT IN ({','.join('?' * len(running))})" if running else ""
        rows = self._db.execute(
            f"SELECT * FROM activities{where} ORDER BY id LIMIT ?", (*running, limit)
        ).fetchall()
        return [ActivityItem(**dict(row)) for row in rows]

    def activity_exists(self, item_id: int) -> bool:
        """Whether the activity is still queued (not dropped by terminate, purge or continue-as-new)."""
        row = self._db.execute("SELECT 1 FROM activities WHERE id = ?", (item_id,)).fetchone()
        return row is not None

    def delete_activity(self, item_id: int) -> None:
        """Remove a finished activity run."""
        self._db.execute("DELETE FROM activities WHERE id = ?", (item_id,))

    # entities (an entity's pending operations are inbox messages addressed to its "@name@key" id)

    def entity_state(self, entity_id: str) -> tuple[bool, str | None]:
        """(exists, state JSON text) of an entity."""
        row = self._db.execute("SELECT state FROM entities WHERE entity_id = ?", (entity_id,)).fetchone()
        return (False, None) if row is None else (True, row["state"])

    def put_entity_state(self, entity_id: str, exists: bool, state: str | None, when: str) -> None:
        """Save an entity's state after a batch, or delete it when it no longer exists."""
        if exists:
            self._db.execute("INSERT OR REPLACE INTO entities VALUES (?,?,?)", (entity_id, state, when))
        else:
            self._db.execute("DELETE FROM entities WHERE entity_id = ?", (entity_id,))

    # episodes (kept for rewind)

    def record_episode(
        self,
        instance_id: str,
        execution_id: str,
        history_len: int,
        state_before: dict[str, Any],
        batch: list[dict[str, Any]],
    ) -> None:
        """Remember where an episode started, the engine state before it and the events it delivered."""
        row = self._db.execute(
            "SELECT COALESCE(MAX(seq), -1) + 1 AS next FROM episodes WHERE instance_id = ?",
            (instance_id,),
        ).fetchone()
        self._db.execute(
            "INSERT INTO episodes VALUES (?,?,?,?,?,?)",
            (
                instance_id,
                execution_id,
                row["next"],
                history_len,
                json.dumps(state_before),
                json.dumps(batch),
            ),
        )

    def episodes(self, instance_id: str) -> list[dict[str, Any]]:
        """The instance's recorded episodes, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM episodes WHERE instance_id = ? ORDER BY seq", (instance_id,)
        ).fetchall()
        return [
            {
                "seq": r["seq"],
                "history_len": r["history_len"],
                "state_before": json.loads(r["state_before"]),
                "batch": json.loads(r["batch"]),
            }
            for r in rows
        ]

    def delete_episodes_from(self, instance_id: str, seq: int) -> None:
        """Forget episodes from `seq` on."""
        self._db.execute("DELETE FROM episodes WHERE instance_id = ? AND seq >= ?", (instance_id, seq))


def _instance(row: sqlite3.Row) -> Instance:
    return Instance(
        instance_id=row["instance_id"],
        name=row["name"],
        execution_id=row["execution_id"],
        status=row["status"],
        input=row["input"],
        output=row["output"],
        custom_status=row["custom_status"],
        created_time=row["created_time"],
        last_updated_time=row["last_updated_time"],
        parent=None if row["parent"] is None else json.loads(row["parent"]),
        state=json.loads(row["state"]),
    )


def _message(row: sqlite3.Row) -> InboxMessage:
    return InboxMessage(
        id=row["id"],
        instance_id=row["instance_id"],
        execution_id=row["execution_id"],
        visible_at=row["visible_at"],
        event=json.loads(row["event"]),
    )
