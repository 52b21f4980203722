"""The custom status a watcher reads while a connect waits: the next check time and the steps done so far."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from devhost.durable.harness import DurableHarness
from tests.orchestrations.conftest import (
    CLUSTER_1,
    POLICY,
    Env,
    LinkedClock,
    register_provider_now,
    secret_connection,
)


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_a_wait_for_a_busy_cluster_publishes_its_next_check_time_and_the_steps_done(env: Env) -> None:
    register_provider_now(env)
    env.arm.admin.call("POST", "/arm/busy", {"resourceId": CLUSTER_1, "seconds": 600})
    linker_id = env.put_connection(secret_connection())

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        async with DurableHarness(env.index, clock=LinkedClock(env.arm.clock)) as harness:
            await harness.client().start_new("connect", "op-next", {"linkerId": linker_id, "policy": POLICY})
            seen = []
            for _ in range(4):
                await harness.advance(7)
                status = await harness.engine.get_status("op-next")
                assert status is not None
                seen.append(status["customStatus"])
            await harness.advance(900)
            final = await harness.engine.get_status("op-next")
            assert final is not None
            return seen, final

    seen, final = asyncio.run(scenario())
    waiting = [s for s in seen if s["step"] == "waitForCluster"]
    assert waiting, seen
    for status in waiting:
        # Polls take no virtual time: the next check is the sum of the backoffs asked so far (5 s, 10 s, ...)
        # after the wait began.
        asked = sum(min(5 * 2**i, 160) for i in range(status["attempt"] + 1))
        assert _when(status["nextCheckAt"]) - _when(status["startedAt"]) == timedelta(seconds=asked), status
        assert status["detail"] == "cluster aks-demo-1 is Updating"
    first = waiting[0]
    # Steps before the wait are listed with their start and end, in order, ending where the wait began.
    steps = first["steps"]
    assert steps and steps[-1]["endedAt"] == first["startedAt"]
    assert all(_when(s["startedAt"]) <= _when(s["endedAt"]) for s in steps)
    assert final["runtimeStatus"] == "Completed"
    assert "nextCheckAt" not in final["customStatus"]  # nothing is awaited once it is done
    waited = [s for s in final["customStatus"]["steps"] if s["step"] == "waitForCluster"]
    assert len(waited) == 1 and waited[0]["attempts"] > 1  # the busy cluster was polled several times


def test_the_status_keeps_only_the_latest_steps(env: Env) -> None:
    linker_id = env.put_connection(secret_connection())
    run = env.connect(linker_id)
    custom = run.status["customStatus"]
    assert custom["step"] == "done"
    assert 0 < len(custom["steps"]) <= 12
    assert len(str(custom)) < 2048
