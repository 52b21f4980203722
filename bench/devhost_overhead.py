"""The devhost Durable engine's overhead: N orchestrations x M sequential no-op activities.

The floor is the same activity function called directly N x M times in a loop; everything above it is the
engine (replay through the SDK, history, SQLite, scheduling, the activity thread pool).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from devhost.discovery import load_app
from devhost.durable.engine import DurableEngine, InvocationRecord


@dataclass(frozen=True)
class Result:
    """Figures of one benchmark run."""

    store: str
    orchestrations: int
    activities: int
    wall_s: float
    floor_s: float

    @property
    def orchestrations_per_s(self) -> float:
        """Completed orchestrations per second of wall time."""
        return self.orchestrations / self.wall_s

    @property
    def overhead_per_activity_ms(self) -> float:
        """Wall time above the floor, per activity call, in milliseconds."""
        return (self.wall_s - self.floor_s) / (self.orchestrations * self.activities) * 1000

    @property
    def ratio(self) -> float:
        """Wall time divided by the floor."""
        return self.wall_s / self.floor_s if self.floor_s > 0 else float("inf")


def floor_seconds(orchestrations: int, activities: int) -> float:
    """Time to call the activity function directly, orchestrations x activities times."""
    noop = load_app("bench.noop_app").activities["noop"].user_function
    started = time.perf_counter()
    for _ in range(orchestrations):
        value = 0
        for _ in range(activities):
            value = noop(value)
    return time.perf_counter() - started


async def engine_seconds(
    orchestrations: int, activities: int, store_path: str | None, max_concurrent_activities: int = 10
) -> float:
    """Wall time from the first start_new until every orchestration completed (engine scheduler)."""
    done = asyncio.Event()
    completed: list[str] = []
    failures: list[InvocationRecord] = []

    def on_invocation(record: InvocationRecord) -> None:
        # Raising here would not reach us: the engine runs this callback inside its scheduler, which logs
        # and carries on. So a failure ends the wait, and is raised below.
        if record.outcome == "Failed":
            failures.append(record)
            done.set()
        elif record.kind == "orchestrator" and record.outcome == "Completed":
            completed.append(record.instance_id)
            if len(completed) == orchestrations:
                done.set()

    engine = DurableEngine(
        load_app("bench.noop_app"),
        store_path=store_path,
        max_concurrent_activities=max_concurrent_activities,
        on_invocation=on_invocation,
    )
    await engine.start()
    try:
        started = time.perf_counter()
        for index in range(orchestrations):
            await engine.start_new("chain", f"bench-{index}", activities)
        await asyncio.wait_for(done.wait(), timeout=600)
        if failures:
            raise RuntimeError(f"benchmark orchestration failed: {failures[0]}")
        return time.perf_counter() - started
    finally:
        await engine.stop()


def run(
    orchestrations: int = 50, activities: int = 10, stores: tuple[str, ...] = ("sqlite", "memory")
) -> list[Result]:
    """Run the benchmark once per store kind ("sqlite": a WAL file as devhost uses; "memory")."""
    floor = min(floor_seconds(orchestrations, activities) for _ in range(3))
    results = []
    for store in stores:
        with tempfile.TemporaryDirectory() as folder:
            path = str(Path(folder) / "bench.sqlite") if store == "sqlite" else None
            wall = asyncio.run(engine_seconds(orchestrations, activities, path))
        results.append(Result(store, orchestrations, activities, wall, floor))
    return results


def table(results: list[Result]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| store | orchestrations x activities | wall time | orchestrations/s | overhead per activity "
        "| floor (direct calls) | wall / floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.store} | {r.orchestrations} x {r.activities} | {r.wall_s:.2f} s "
            f"| {r.orchestrations_per_s:.1f} | {r.overhead_per_activity_ms:.2f} ms "
            f"| {r.floor_s * 1e6:.0f} µs | {r.ratio:,.0f}x |"
        )
    return "\n".join(lines)
