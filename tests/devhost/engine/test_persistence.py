"""Persistence: an engine stopped mid-flight resumes everything from its SQLite task hub."""

from __future__ import annotations

from datetime import timedelta

from devhost.clock import VirtualClock
from devhost.durable.harness import DurableHarness
from devhost.durable.store import TaskHubStore
from tests.devhost.engine.conftest import START

WORKLOAD = [
    ("steps-1", "slow_steps", 3),
    ("steps-2", "slow_steps", 2),
    ("retry-1", "retrying", {"key": "retry-1", "fail_times": 1, "max_attempts": 3}),
    ("fan-1", "fan_out", 30),
    ("wait-1", "approval", None),
]


async def _start_workload(hz: DurableHarness, suffix: str) -> None:
    client = hz.client()
    for iid, name, data in WORKLOAD[:3]:
        if isinstance(data, dict):
            data = {**data, "key": data["key"] + suffix}
        await client.start_new(name, instance_id=iid, client_input=data)
    await client.start_new("approval", instance_id="wait-1")


async def _finish_workload(hz: DurableHarness) -> dict[str, object]:
    await hz.client().raise_event("wait-1", "Approve", "go")
    outputs = {}
    for iid, *_ in WORKLOAD:
        status = await hz.wait_for(iid)
        outputs[iid] = (status["runtimeStatus"], status["output"])
    return outputs


def test_an_engine_stopped_mid_flight_resumes_every_instance(index, run, tmp_path):
    store = str(tmp_path / "taskhub.sqlite")

    async def uninterrupted():
        async with DurableHarness(index, start=START) as hz:
            await _start_workload(hz, "-u")
            await hz.client().start_new("fan_out", instance_id="fan-1", client_input=30)
            return await _finish_workload(hz)

    async def first_life() -> VirtualClock:
        async with DurableHarness(index, store_path=store, start=START) as hz:
            await _start_workload(hz, "-p")
            await hz.run_until_idle()  # steps wait on 1-minute timers, the retry on its 5 s timer
            await hz.client().start_new("fan_out", instance_id="fan-1", client_input=30)
            hz.clock.advance(timedelta(minutes=1))  # timers come due, but nothing processes them yet
            hz.engine.pump()  # episodes run and queue activities; the engine stops before any runs
            assert hz.engine.store.queued_activities(100, set()), "activities must be queued at the stop"
            return hz.clock

    async def second_life(clock: VirtualClock):
        async with DurableHarness(index, store_path=store, clock=VirtualClock(clock.now())) as hz:
            return await _finish_workload(hz)

    expected = run(uninterrupted())
    clock = run(first_life())
    assert run(second_life(clock)) == expected
    assert expected["fan-1"] == ("Completed", {"count": 30, "sum": 870})
    assert expected["steps-1"] == ("Completed", [0, 2, 4])
    assert expected["retry-1"] == ("Completed", {"value": "succeeded on attempt 2"})


def test_queued_activities_skip_the_running_ones_and_keep_queue_order() -> None:
    store = TaskHubStore(None)
    try:
        with store.transaction():
            for task_id in range(5):
                store.enqueue_activity("i", "e", task_id, f"step{task_id}", None)
        first = store.queued_activities(2, set())
        assert [item.task_id for item in first] == [0, 1]
        after = store.queued_activities(2, {item.id for item in first})
        assert [item.name for item in after] == ["step2", "step3"]
        assert [item.task_id for item in store.queued_activities(10, {first[1].id})] == [0, 2, 3, 4]
    finally:
        store.close()
