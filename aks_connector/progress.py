"""Watching a long operation: a live view of its steps on a terminal, one line per change otherwise.

The operation status (`properties.progress`) carries the current step, its attempt and detail, when a wait
checks next (`nextCheckAt`) and the steps done with their times; see orchestrators/flow.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from aks_connector.http import Api
from aks_connector.shapes import as_dict, as_list

RUNNING_STATES = ("Accepted", "Deleting", "InProgress", "Running")
POLL_SECONDS = 0.5

# The product's step names grouped into the phases a user recognises (the order).
PHASES = {
    "registerProvider": "provider",
    "waitForProvider": "provider",
    "observe": "cluster",
    "cluster": "cluster",
    "waitForCluster": "cluster",
    "extension": "extension",
    "waitForExtension": "extension",
    "deleteExtension": "extension",
    "waitForExtensionRemoval": "extension",
    "features": "features",
    "identity": "identity",
    "role": "roles",
    "resources": "resources",
    "record": "record",
    "publish": "record",
    "done": "record",
}


def parse_time(stamp: Any) -> datetime | None:
    """An ISO 8601 time from the API, or None."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _seconds(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    return f"{max(0.0, (end - start).total_seconds()):.0f} s"


def phase_of(step: str) -> str:
    """The phase a step belongs to (the step's own name when it has none)."""
    return PHASES.get(step, step)


@dataclass(frozen=True)
class Snapshot:
    """What one read of the operation status says."""

    status: str
    step: str | None
    attempt: int
    detail: str
    started_at: datetime | None
    next_check_at: datetime | None
    steps: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, body: dict[str, Any]) -> Snapshot:
        """Read an operation status body tolerantly (fields may be missing or null)."""
        properties = as_dict(body.get("properties"))
        progress = as_dict(properties.get("progress"))
        steps = as_list(progress.get("steps"))
        return cls(
            status=str(body.get("status") or "Accepted"),
            step=str(progress["step"]) if progress.get("step") else None,
            attempt=int(progress.get("attempt") or 0),
            detail=str(progress.get("detail") or ""),
            started_at=parse_time(progress.get("startedAt")),
            next_check_at=parse_time(progress.get("nextCheckAt")),
            steps=tuple(s for s in steps if isinstance(s, dict)),
        )

    @property
    def running(self) -> bool:
        """True while the operation has not ended."""
        return self.status in RUNNING_STATES

    def waiting_line(self, now: datetime) -> str:
        """The current step's detail, with when it checks next ("...; next check in 5 s")."""
        text = self.detail
        if self.next_check_at is not None:
            remaining = max(0, round((self.next_check_at - now).total_seconds()))
            text += f"; next check in {remaining} s"
        return text

    def change_key(self) -> tuple[Any, ...]:
        """What makes a new line in line mode: the step, its attempt, its detail or the state."""
        return (self.status, self.step, self.attempt, self.detail, self.next_check_at)


def _view(snapshot: Snapshot, title: str, now: datetime) -> Group:
    table = Table("phase", "step", "state", "attempts", "elapsed", "detail", show_edge=False)
    for done in snapshot.steps:
        step = str(done.get("step") or "")
        elapsed = _seconds(parse_time(done.get("startedAt")), parse_time(done.get("endedAt")))
        table.add_row(phase_of(step), step, "done", str(done.get("attempts") or 1), elapsed, "")
    if snapshot.step:
        state = "waiting" if snapshot.next_check_at is not None else "running"
        if not snapshot.running:
            state = snapshot.status.lower()
        elapsed = _seconds(snapshot.started_at, now)
        table.add_row(
            phase_of(snapshot.step),
            snapshot.step,
            state,
            str(snapshot.attempt + 1),
            elapsed,
            snapshot.waiting_line(now) if snapshot.running else snapshot.detail,
        )
    return Group(Text(f"{title}: {snapshot.status}", style="bold"), table)


def _line(snapshot: Snapshot, now: datetime) -> str:
    if not snapshot.running:
        return f"{now:%H:%M:%S} {snapshot.status}"
    if not snapshot.step:
        return f"{now:%H:%M:%S} {snapshot.status}"
    where = f"{phase_of(snapshot.step)}/{snapshot.step} (attempt {snapshot.attempt + 1})"
    line = f"{now:%H:%M:%S} {where}: {snapshot.waiting_line(now)}"
    if snapshot.next_check_at is not None:
        line += f" (at {snapshot.next_check_at:%H:%M:%SZ})"
    return line


def watch(
    api: Api,
    operation_url: str,
    console: Console,
    *,
    title: str,
    poll_seconds: float = POLL_SECONDS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Poll the operation until it ends, showing progress on `console`; the final status body.

    KeyboardInterrupt propagates (the caller says how to resume); the operation itself goes on."""
    body: dict[str, Any] = api.call("GET", operation_url).body or {}
    snapshot = Snapshot.of(body)
    if console.is_terminal:
        with Live(
            _view(snapshot, title, clock()), console=console, refresh_per_second=4, transient=False
        ) as live:
            while snapshot.running:
                time.sleep(poll_seconds)
                body = api.call("GET", operation_url).body or {}
                snapshot = Snapshot.of(body)
                live.update(_view(snapshot, title, clock()))
        return body
    last: tuple[Any, ...] | None = None
    while True:
        if snapshot.change_key() != last:
            console.print(_line(snapshot, clock()), highlight=False, soft_wrap=True)
            last = snapshot.change_key()
        if not snapshot.running:
            return body
        time.sleep(poll_seconds)
        body = api.call("GET", operation_url).body or {}
        snapshot = Snapshot.of(body)
