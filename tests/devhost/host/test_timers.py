"""Timer triggers on a virtual clock: the waits requested, the fire times, runOnStartup and past_due."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from devhost.clock import VirtualClock
from devhost.discovery import load_app
from devhost.invoker import Invoker
from devhost.timers import TimerScheduler
from tests.devhost.host import sample_app
from tests.devhost.host.conftest import SAMPLE_APP, START, HostFactory, eventually, run

SETTINGS = {"TICK_SCHEDULE": "*/15 * * * * *"}


def scheduler(
    clock: VirtualClock, names: set[str], status_path: Path | None = None, settings: dict[str, str] = SETTINGS
) -> TimerScheduler:
    timers = [f for f in load_app(SAMPLE_APP).by_trigger("timerTrigger") if f.name in names]
    return TimerScheduler(timers, invoker=Invoker(), clock=clock, environ=settings, status_path=status_path)


def seconds(n: float) -> datetime:
    return START + timedelta(seconds=n)


async def fire_and_wait(clock: VirtualClock, target: datetime, calls: int) -> None:
    """Once the timer sleeps, move the clock to `target`; wait for `calls` invocations and the next sleep."""
    await eventually(lambda: clock.next_wakeup() is not None, what="the timer to sleep")
    clock.advance_to(target)
    await eventually(lambda: len(sample_app.timer_calls) == calls, what=f"{calls} timer calls")
    await eventually(lambda: (clock.next_wakeup() or clock.now()) > clock.now(), what="the next sleep")


def test_timer_fires_on_its_schedule_and_late_runs_are_past_due() -> None:
    async def body() -> None:
        sample_app.timer_calls.clear()
        clock = VirtualClock(START)  # 00:00:03
        timers = scheduler(clock, {"tick"})
        await timers.start()
        try:
            # The first wait requested is the next */15 second: 00:00:15.
            await eventually(lambda: clock.next_wakeup() == seconds(12), what="the first wait")
            await fire_and_wait(clock, seconds(12), 1)
            assert clock.next_wakeup() == seconds(27)
            await fire_and_wait(clock, seconds(27), 2)
            # The host sleeps through 00:00:45 and wakes at 00:02:10: one past-due run, no catch-up runs.
            await fire_and_wait(clock, seconds(127), 3)
            assert clock.next_wakeup() == seconds(132)  # 00:02:15
            assert [(f.scheduled, f.fired_at, f.past_due) for f in timers.firings] == [
                (seconds(12), seconds(12), False),
                (seconds(27), seconds(27), False),
                (seconds(42), seconds(127), True),
            ]
            assert [call["past_due"] for call in sample_app.timer_calls] == [False, False, True]
            status = sample_app.timer_calls[2]["status"]
            assert status["Last"] == seconds(27).isoformat() and status["Next"] == seconds(132).isoformat()
        finally:
            await timers.stop()

    run(body())


def test_run_on_startup_fires_once_at_start_and_then_waits_for_its_schedule() -> None:
    async def body() -> None:
        sample_app.timer_calls.clear()
        clock = VirtualClock(START)
        timers = scheduler(clock, {"on_startup"})
        await timers.start()
        try:
            await eventually(lambda: sample_app.timer_calls, what="the startup run")
            assert sample_app.timer_calls == [{"function": "on_startup", "past_due": False}]
            assert timers.firings[0].scheduled is None and timers.firings[0].fired_at == START
            await eventually(lambda: clock.next_wakeup() is not None, what="the yearly wait")
            assert clock.next_wakeup() == datetime(2025, 1, 1, tzinfo=START.tzinfo)
        finally:
            await timers.stop()

    run(body())


def test_an_occurrence_missed_while_the_host_was_down_runs_past_due_at_restart(tmp_path: Path) -> None:
    status_path = tmp_path / "timers.json"
    every_minute = {"TICK_SCHEDULE": "0 * * * * *"}  # monitored by default: recurs at most once a minute

    async def body() -> None:
        sample_app.timer_calls.clear()
        clock = VirtualClock(START)
        first = scheduler(clock, {"tick"}, status_path, every_minute)
        await first.start()
        await fire_and_wait(clock, seconds(57), 1)  # 00:01:00
        await first.stop()
        assert json.loads(status_path.read_text())["tick"]["Next"] == seconds(117).isoformat()  # 00:02:00

        clock.advance_to(seconds(297))  # down until 00:05:00
        second = scheduler(clock, {"tick"}, status_path, every_minute)
        await second.start()
        try:
            await eventually(lambda: len(sample_app.timer_calls) == 2, what="the past-due run")
            assert sample_app.timer_calls[1]["past_due"] is True
            assert (second.firings[0].scheduled, second.firings[0].fired_at) == (seconds(117), seconds(297))
            await eventually(lambda: clock.next_wakeup() == seconds(357), what="the next wait")  # 00:06:00
        finally:
            await second.stop()

    run(body())


def test_sub_minute_schedules_are_not_monitored_unless_use_monitor_says_so(tmp_path: Path) -> None:
    status_path = tmp_path / "timers.json"

    async def body() -> None:
        sample_app.timer_calls.clear()
        clock = VirtualClock(START)
        first = scheduler(clock, {"tick"}, status_path)  # */15 seconds
        await first.start()
        await fire_and_wait(clock, seconds(12), 1)
        await first.stop()
        clock.advance_to(seconds(300))
        second = scheduler(clock, {"tick"}, status_path)
        await second.start()
        try:
            assert not second.is_monitored("tick")
            # No past-due run at start: the first wait is simply the next occurrence, 00:05:15.
            await eventually(lambda: clock.next_wakeup() == seconds(312), what="the next wait")
            assert len(sample_app.timer_calls) == 1 and second.firings == []
        finally:
            await second.stop()

    run(body())


def test_devhost_runs_timers_with_schedules_from_local_settings(make_host: HostFactory) -> None:
    async def body() -> None:
        sample_app.timer_calls.clear()
        clock = VirtualClock(START)
        host = await make_host(clock, timers=True)
        try:
            await eventually(lambda: sample_app.timer_calls, what="the startup run")
            await eventually(lambda: clock.next_wakeup() == seconds(12), what="the tick's first wait")
            await fire_and_wait(clock, seconds(12), 2)
            assert [c["function"] for c in sample_app.timer_calls] == ["on_startup", "tick"]
        finally:
            await host.stop()

    run(body())
