"""The engine's own scheduler on the real clock, as the devhost runs it (no harness stepping)."""

from __future__ import annotations

import asyncio
import time

from devhost.durable.engine import DurableEngine, InvocationRecord


def test_background_scheduler_runs_timers_and_activities_in_real_time(index, run):
    records: list[InvocationRecord] = []

    async def scenario():
        engine = DurableEngine(index, on_invocation=records.append)
        await engine.start()
        try:
            began = time.monotonic()
            iid = await engine.start_new("short_timer", input=0.2)
            while (status := await engine.get_status(iid))["runtimeStatus"] not in ("Completed", "Failed"):
                assert time.monotonic() - began < 5, status
                await asyncio.sleep(0.02)
            assert status["output"] == 42
            assert time.monotonic() - began >= 0.2, "the durable timer must be waited for"
        finally:
            await engine.stop()
        return iid

    iid = run(scenario())
    kinds = [(r.kind, r.function, r.outcome) for r in records if r.instance_id == iid]
    assert ("activity", "async_double", "Succeeded") in kinds
    assert kinds[-1] == ("orchestrator", "short_timer", "Completed")
    assert all(r.duration_s >= 0 for r in records)
