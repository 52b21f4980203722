"""`telemetry.orchestration_episode` drives an orchestrator's steps exactly as `yield from` would (values,
failed tasks and the result pass through) and emits one span per episode, only once the code acts on new
events: replayed history emits nothing. The context below plays the Durable SDK's part (it sets
`is_replaying` before it resumes the generator, from whether the task's result was already played)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from telemetry import orchestration_episode
from tests.fixtures.telemetry import TelemetryCapture, telemetry_capture  # noqa: F401


class FakeContext:
    """What orchestration_episode reads from a DurableOrchestrationContext."""

    def __init__(self) -> None:
        self.is_replaying = True
        self.instance_id = "op-1"
        self.custom_status: dict[str, Any] | None = None

    def get_input(self) -> dict[str, Any]:
        return {"linkerId": "/subscriptions/s/linkers/l", "clusterId": "/subscriptions/s/c"}


def steps(context: FakeContext) -> Generator[str, Any, str]:
    context.custom_status = {"step": "observe", "attempt": 0}
    observed = yield "observe"
    context.custom_status = {"step": "apply", "attempt": 0}
    try:
        yield "apply"
    except RuntimeError:
        context.custom_status = {"step": "apply", "attempt": 1}
        yield "apply-again"
    return f"done:{observed}"


def drive(context: FakeContext, results: list[tuple[bool, Any]]) -> tuple[list[str], Any]:
    """Run one episode: each result is (played before?, value or exception); stops at the first new yield."""
    generator = orchestration_episode(context, "connect", steps(context))
    context.is_replaying = bool(results) and results[0][0]
    yielded = [generator.send(None)]
    for played, value in results:
        context.is_replaying = played
        try:
            if isinstance(value, BaseException):
                yielded.append(generator.throw(value))
            else:
                yielded.append(generator.send(value))
        except StopIteration as done:
            return yielded, done.value
    return yielded, None


def test_values_failures_and_the_result_pass_through_unchanged(
    telemetry_capture: TelemetryCapture,  # noqa: F811
) -> None:
    context = FakeContext()
    yielded, result = drive(context, [(False, "seen"), (False, RuntimeError("busy")), (False, None)])
    assert yielded == ["observe", "apply", "apply-again"] and result == "done:seen"


def test_an_episode_emits_once_when_it_reaches_new_events_and_replay_emits_nothing(
    telemetry_capture: TelemetryCapture,  # noqa: F811
) -> None:
    capture = telemetry_capture
    capture.clear()
    # Episode 3: observe's and apply's results are history (played); the retry is new work.
    drive(FakeContext(), [(True, "seen"), (False, RuntimeError("busy"))])
    spans = capture.spans("orchestration connect")
    assert len(spans) == 1
    attributes = dict(spans[0].attributes or {})
    assert (attributes["step"], attributes["attempt"], attributes["outcome"]) == ("apply", 1, "waiting")
    assert attributes["linker.id"] == "/subscriptions/s/linkers/l" and attributes["operation.id"] == "op-1"

    capture.clear()
    # The whole history replayed and nothing new: nothing is emitted.
    drive(FakeContext(), [(True, "seen"), (True, RuntimeError("busy"))])
    assert capture.spans("orchestration ") == []


def test_the_last_episode_reports_completion_or_the_failure_code(
    telemetry_capture: TelemetryCapture,  # noqa: F811
) -> None:
    capture = telemetry_capture
    capture.clear()
    drive(FakeContext(), [(True, "seen"), (True, RuntimeError("busy")), (False, None)])
    assert [dict(s.attributes or {})["outcome"] for s in capture.spans("orchestration ")] == ["completed"]

    capture.clear()

    class Refused(Exception):
        error = type("E", (), {"code": "AuthorizationFailed"})()

    context = FakeContext()
    with pytest.raises(Refused):
        drive(context, [(True, "seen"), (True, RuntimeError("busy")), (False, Refused("no"))])
    (span,) = capture.spans("orchestration ")
    assert dict(span.attributes or {})["error.code"] == "AuthorizationFailed"
