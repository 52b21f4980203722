"""The virtual clock and app discovery, as the engine and the host rely on them."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from datetime import timedelta

import pytest

from devhost.clock import RealClock, VirtualClock
from devhost.discovery import load_app
from tests.devhost.engine.conftest import START


def test_virtual_sleepers_wake_only_when_time_is_advanced_to_them(run):
    async def scenario():
        clock = VirtualClock(START)
        woke: list[str] = []

        async def sleeper(name: str, seconds: float) -> None:
            await clock.sleep_until(START + timedelta(seconds=seconds))
            woke.append(name)

        tasks = [asyncio.create_task(sleeper("day", 86400)), asyncio.create_task(sleeper("minute", 60))]
        await asyncio.sleep(0)
        assert clock.next_wakeup() == START + timedelta(seconds=60)
        began = time.monotonic()
        clock.advance(59)
        await asyncio.sleep(0)
        assert woke == []
        clock.advance(timedelta(seconds=1))
        await asyncio.sleep(0)
        assert woke == ["minute"]
        clock.advance(86400)
        await asyncio.gather(*tasks)
        assert woke == ["minute", "day"]
        assert time.monotonic() - began < 1
        with pytest.raises(ValueError):
            clock.advance(-1)

    run(scenario())


def test_real_clock_is_aware_utc_and_sleeps_until_the_time(run):
    async def scenario():
        clock = RealClock()
        target = clock.now() + timedelta(milliseconds=30)
        await clock.sleep_until(target)
        assert clock.now() >= target
        assert clock.now().utcoffset() == timedelta(0)

    run(scenario())


@pytest.fixture
def app_dir(tmp_path):
    """A directory for throwaway app modules; forgotten (sys.path, sys.modules) afterwards."""
    yield tmp_path
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))
    for path in tmp_path.glob("*.py"):
        sys.modules.pop(path.stem, None)


def _write_app(directory, module: str, body: str) -> None:
    header = "import azure.durable_functions as df\nimport azure.functions as func\n"
    (directory / f"{module}.py").write_text(header + textwrap.dedent(body))


def test_load_app_indexes_every_trigger_with_durable_names(app_dir):
    _write_app(
        app_dir,
        "disc_app_ok",
        """
        app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

        @app.route(route="start/{name}", methods=["POST"])
        @app.durable_client_input(client_name="starter")
        async def http_start(req, starter):
            return None

        @app.orchestration_trigger(context_name="context", orchestration="renamed_orch")
        def orch(context):
            yield context.call_activity("act", 1)

        @app.function_name("act_fn")
        @app.activity_trigger(input_name="payload")
        def act(payload):
            return payload

        @app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
        def tick(timer):
            pass
        """,
    )
    index = load_app("disc_app_ok", str(app_dir))
    assert set(index.functions) == {"http_start", "orch", "act_fn", "tick"}
    start = index.functions["http_start"]
    assert start.trigger_type == "httpTrigger"
    assert start.trigger["route"] == "start/{name}" and start.trigger["methods"] == ["POST"]
    assert start.client_binding_name == "starter" and start.input_binding_name == "req"
    assert set(index.orchestrators) == {"renamed_orch"}
    assert set(index.activities) == {"act_fn"}
    assert index.activities["act_fn"].input_binding_name == "payload"
    assert [f.name for f in index.by_trigger("timerTrigger")] == ["tick"]
    # get_functions() may run only once per app: loading again returns the same index.
    assert load_app("disc_app_ok", str(app_dir)) is index


def test_load_app_requires_exactly_one_function_app(app_dir):
    _write_app(app_dir, "disc_app_none", "x = 1\n")
    _write_app(app_dir, "disc_app_two", "a = df.DFApp()\nb = func.FunctionApp()\n")
    with pytest.raises(ValueError, match="no FunctionApp"):
        load_app("disc_app_none", str(app_dir))
    with pytest.raises(ValueError, match="more than one"):
        load_app("disc_app_two", str(app_dir))
