"""Orchestration features through the real SDK client and handler, on a virtual clock."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import timedelta

import pytest

from devhost.durable.harness import DurableHarness
from tests.devhost.engine import sample_app
from tests.devhost.engine.conftest import START


def _events(status: dict, kind: str) -> list[dict]:
    return [e for e in status["historyEvents"] if e["EventType"] == kind]


def test_retry_makes_the_exact_attempts_and_waits(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            spec = {"key": "r1", "fail_times": 2, "max_attempts": 3}
            iid = await hz.client().start_new("retrying", client_input=spec)
            await hz.run_until_idle()
            assert sample_app.ATTEMPTS["r1"] == 1
            await hz.advance(4.9)
            assert sample_app.ATTEMPTS["r1"] == 1, "the retry must wait the full 5 s interval"
            await hz.advance(0.1)
            assert sample_app.ATTEMPTS["r1"] == 2
            status = await hz.wait_for(iid)
            assert status["output"] == {"value": "succeeded on attempt 3"}
            assert sample_app.ATTEMPTS["r1"] == 3
            assert hz.requested_timers(iid) == [START + timedelta(seconds=5), START + timedelta(seconds=10)]
            history = await hz.engine.get_status(iid, show_history=True)
            assert [e["EventId"] for e in _events(history, "TaskScheduled")] == [0, 2, 4]
            assert [e["EventId"] for e in _events(history, "TimerCreated")] == [1, 3]

    run(scenario())


def test_retry_exhausted_fails_after_the_extra_timer(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            spec = {"key": "r2", "fail_times": 9, "max_attempts": 3}
            iid = await hz.client().start_new("retrying", client_input=spec)
            status = await hz.wait_for(iid)
            assert sample_app.ATTEMPTS["r2"] == 3
            # DTFx creates a timer after the last failure too; only when it fires does the failure surface.
            assert hz.requested_timers(iid) == [START + timedelta(seconds=s) for s in (5, 10, 15)]
            assert status["lastUpdatedTime"] == "2024-03-01T12:00:15Z"
            assert (
                "Activity function 'flaky' failed: ValueError: attempt 3 failed" in status["output"]["failed"]
            )

    run(scenario())


def test_one_day_timer_completes_at_once_under_the_virtual_clock(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            iid = await hz.client().start_new("one_day_timer")
            await hz.run_until_idle()
            assert (await hz.engine.get_status(iid))["runtimeStatus"] == "Running"
            assert hz.requested_timers(iid) == [START + timedelta(days=1)]
            began = time.monotonic()
            status = await hz.wait_for(iid)
            assert time.monotonic() - began < 2
            assert status["output"] == {"woke_at": (START + timedelta(days=1)).isoformat()}

    run(scenario())


def test_fan_out_200_activities_and_fan_in(index, run):
    async def scenario():
        async with DurableHarness(index, start=START, max_concurrent_activities=8) as hz:
            iid = await hz.client().start_new("fan_out", client_input=200)
            status = await hz.wait_for(iid)
            assert status["output"] == {"count": 200, "sum": sum(2 * i for i in range(200))}
            history = await hz.engine.get_status(iid, show_history=True)
            assert len(_events(history, "TaskScheduled")) == 200
            assert len(_events(history, "TaskCompleted")) == 200

    run(scenario())


def test_continue_as_new_restarts_with_fresh_history(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            iid = await hz.client().start_new("counter_loop", client_input={"n": 1, "seen": []})
            status = await hz.wait_for(iid)
            assert status["output"] == {"n": 3, "seen": [2, 4, 6]}
            history = await hz.engine.get_status(iid, show_history=True)
            started = _events(history, "ExecutionStarted")
            assert len(started) == 1
            assert len(_events(history, "TaskScheduled")) == 1
            assert status["input"] == {"n": 3, "seen": [2, 4]}

    run(scenario())


def test_external_event_raised_after_the_wait_with_custom_status(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            iid = await client.start_new("approval")
            await hz.run_until_idle()
            waiting = await client.get_status(iid)
            assert waiting.runtime_status.value == "Running"
            assert waiting.custom_status == {"step": "waiting"}
            await client.raise_event(iid, "Approve", {"ok": True})
            status = await hz.wait_for(iid)
            # The SDK double-encodes event data, so the orchestrator receives the JSON text (§6).
            assert json.loads(status["output"]["answer"]) == {"ok": True}
            assert status["output"]["greeting"] == "Hello approver!"
            assert status["customStatus"] == {"step": "approved"}

    run(scenario())


def test_external_event_raised_before_the_wait_is_buffered(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            iid = await client.start_new("activity_then_event")
            await client.raise_event(iid, "Approve", "early bird")
            status = await hz.wait_for(iid)
            assert status["output"] == {"greeting": "Hello early!", "answer": '"early bird"'}

    run(scenario())


def test_task_any_timer_wins_when_nobody_answers(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            iid = await hz.client().start_new("approval_or_timeout")
            await hz.advance(3599)
            assert (await hz.engine.get_status(iid))["runtimeStatus"] == "Running"
            await hz.advance(1)
            status = await hz.engine.get_status(iid)
            assert status["output"] == {"outcome": "timed out"}
            assert hz.requested_timers(iid) == [START + timedelta(hours=1)]

    run(scenario())


def test_task_any_event_wins_and_cancels_the_timer(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            iid = await client.start_new("approval_or_timeout")
            await hz.run_until_idle()
            await client.raise_event(iid, "Approve", "yes")
            await hz.run_until_idle()
            status = await hz.engine.get_status(iid)
            assert status["output"] == {"outcome": "approved", "value": '"yes"'}
            assert hz.engine.next_due() is None, "the losing timer must not stay scheduled"

    run(scenario())


def test_sub_orchestrations_with_and_without_retry(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            iid = await hz.client().start_new("parent", instance_id="p1")
            status = await hz.wait_for(iid)
            assert status["output"] == {
                "child": ["Hello child-a!", "Hello child-b!", "Hello child-c!"],
                "retried": "succeeded on attempt 2",
            }
            child = await hz.engine.get_status("p1-c")
            assert child is not None and child["runtimeStatus"] == "Completed"
            # The failing child attempt was retried after the 1 s interval.
            assert hz.requested_timers("p1") == [START + timedelta(seconds=1)]

    run(scenario())


def test_activity_failure_fails_the_orchestration_with_the_reason(index, run):
    async def scenario():
        sample_app.SWITCHES["fail"] = True
        async with DurableHarness(index, start=START) as hz:
            iid = await hz.client().start_new("failing")
            status = await hz.wait_for(iid)
            assert status["runtimeStatus"] == "Failed"
            assert "Orchestrator function 'failing' failed" in status["output"]
            assert (
                "Activity function 'switchable' failed: RuntimeError: switch is on for x" in status["output"]
            )

    run(scenario())


def test_changed_orchestrator_code_fails_with_a_non_determinism_message(index, run, monkeypatch):
    def changed(context):
        yield context.call_activity("double", 1)
        yield context.wait_for_external_event("Go")
        return "done"

    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            iid = await client.start_new("changing")
            await hz.run_until_idle()
            assert (await hz.engine.get_status(iid))["runtimeStatus"] == "Running"
            monkeypatch.setattr(sample_app, "_changing_impl", changed)
            await client.raise_event(iid, "Go", None)
            status = await hz.wait_for(iid)
            assert status["runtimeStatus"] == "Failed"
            message = status["output"]
            assert "Non-deterministic" in message
            assert "activity 'say_hello'" in message and "activity 'double'" in message

    run(scenario())


def test_async_activities_and_timers_interleave(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            iid = await hz.client().start_new("slow_steps", client_input=3)
            status = await hz.wait_for(iid)
            assert status["output"] == [0, 2, 4]
            assert hz.requested_timers(iid) == [START + timedelta(minutes=m) for m in (1, 2, 3)]

    run(scenario())


def test_activities_run_in_parallel_up_to_the_configured_limit(index, run):
    async def scenario():
        sample_app.CONCURRENCY.update(now=0, max=0)
        async with DurableHarness(index, start=START, max_concurrent_activities=4) as hz:
            iid = await hz.client().start_new("fan_out_tracked", client_input=16)
            status = await hz.wait_for(iid)
            assert status["output"] == sum(range(16))
            assert sample_app.CONCURRENCY["max"] == 4

    run(scenario())


def test_calling_an_unknown_activity_fails_with_a_clear_reason(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            iid = await hz.client().start_new("calls_missing_activity")
            status = await hz.wait_for(iid)
            assert status["runtimeStatus"] == "Failed"
            assert "The function 'no_such_activity' doesn't exist" in status["output"]

    run(scenario())


def test_wait_for_reports_an_instance_that_waits_for_an_event(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            iid = await hz.client().start_new("approval")
            with pytest.raises(TimeoutError, match="Running"):
                await hz.wait_for(iid)

    run(scenario())


def test_an_invocation_observer_that_raises_loses_no_work(index, run, caplog):
    def observer(record):
        raise RuntimeError("observer broke")

    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            hz.engine.on_invocation = observer
            iid = await hz.client().start_new("fan_out", client_input=3)
            return await asyncio.wait_for(hz.wait_for(iid), timeout=10)

    with caplog.at_level(logging.ERROR, logger="devhost.durable"):
        status = run(scenario())
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"count": 3, "sum": 6}
    assert "observer broke" in caplog.text
