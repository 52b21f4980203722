"""Spans, metrics and structured log records, through the OpenTelemetry API (no-ops until configured)."""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from opentelemetry import metrics, trace
from opentelemetry.trace import Span, Status, StatusCode

R = TypeVar("R")
SCOPE = "aks-service-connector"
LOGGER_NAME = "servicelinker"

# The dimensions that may leave the process, and nothing else: ids, names, codes, counts.
ATTRIBUTES = frozenset(
    {
        "linker.id",
        "operation.id",
        "operation.kind",
        "cluster.id",
        "step",
        "attempt",
        "error.code",
        "outcome",
        "activity",
        "orchestration",
        "cause",
        "action",
        "state",
        "http.route",
        "http.request.method",
        "http.response.status_code",
        "message.id",
        "queue",
        "reconcile.slot",
        "reason",
    }
)
_PAYLOAD_KEYS = {"linkerId": "linker.id", "operationId": "operation.id", "clusterId": "cluster.id"}

_tracer = trace.get_tracer(SCOPE)
_meter = metrics.get_meter(SCOPE)
_logger = logging.getLogger(LOGGER_NAME)

OPERATIONS = _meter.create_counter("linker.operations", unit="{operation}", description="Operations ended")
OPERATION_DURATION = _meter.create_histogram(
    "linker.operation.duration", unit="s", description="From an operation's start to its outcome"
)
ACTIVITY_RETRIES = _meter.create_counter(
    "linker.activity.retries", unit="{retry}", description="Activity calls retried, by cause"
)
ACTIVITY_THROTTLES = _meter.create_counter(
    "linker.activity.throttles", unit="{throttle}", description="Activity calls throttled, by cause"
)
RECONCILE_DRIFT = _meter.create_counter(
    "linker.reconcile.drift", unit="{action}", description="Planned actions (drift found), by action"
)
RECONCILE_REPAIRS = _meter.create_counter(
    "linker.reconcile.repairs", unit="{action}", description="Actions performed, by action and outcome"
)
CONNECTION_STATES = _meter.create_counter(
    "linker.connections", unit="{connection}", description="Connection states recorded, by state"
)


def dimensions(values: Mapping[str, Any]) -> dict[str, str | int | float | bool]:
    """Only the allowed dimensions, as scalars; empty and unknown ones are dropped."""
    kept: dict[str, str | int | float | bool] = {}
    for key, value in values.items():
        if key not in ATTRIBUTES or value is None or value == "":
            continue
        kept[key] = value if isinstance(value, int | float | bool) else str(value)[:400]
    return kept


def payload_dimensions(payload: Mapping[str, Any] | None) -> dict[str, str]:
    """linker.id, operation.id and cluster.id from an activity or orchestration input (when present)."""
    found = {}
    for key, name in _PAYLOAD_KEYS.items():
        value = (payload or {}).get(key) if isinstance(payload, Mapping) else None
        if isinstance(value, str) and value:
            found[name] = value
    return found


def error_code_of(exc: BaseException) -> str:
    """The classified error code an exception carries (`.error.code`), else its type name; never its text."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return str(code) if code else type(exc).__name__


def log(level: int, message: str, **values: Any) -> None:
    """One structured log record: a fixed message, the allowed dimensions as its attributes.

    Keyword names use `_` for `.` (`linker_id=` is `linker.id`); the Azure Monitor exporter turns a
    record's extra attributes into customDimensions.
    """
    _logger.log(level, message, extra=dimensions({key.replace("_", "."): v for key, v in values.items()}))


@contextmanager
def _span(name: str, attributes: Mapping[str, Any], start_time: int | None = None) -> Iterator[Span]:
    # Neither the exception nor its text is recorded (the SDK's defaults would put its message in the
    # status): only the error code leaves.
    with _tracer.start_as_current_span(
        name,
        attributes=dimensions(attributes),
        start_time=start_time,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as exc:
            code = error_code_of(exc)
            span.set_attribute("error.code", code)
            span.set_status(Status(StatusCode.ERROR, code))
            raise


@contextmanager
def activity_span(name: str, payload: Mapping[str, Any] | None) -> Iterator[Span]:
    """The span of one activity execution, with the ids its input names and the error code if it fails."""
    with _span(f"activity {name}", {"activity": name, **payload_dimensions(payload)}) as span:
        yield span


@contextmanager
def http_span(route: str, method: str) -> Iterator[Span]:
    """The span of one HTTP request to the app."""
    with _span(f"http {method} {route}", {"http.route": route, "http.request.method": method}) as span:
        yield span


def traced_http(route: str) -> Callable[[Any], Any]:
    """Decorate an HTTP function (sync or async) so that each request runs in `http_span`."""

    def decorate(func: Any) -> Any:
        def _method(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            request = kwargs.get("req") or (args[0] if args else None)
            return str(getattr(request, "method", "") or "").upper()

        def _finish(span: Span, response: Any) -> Any:
            status = getattr(response, "status_code", None)
            if isinstance(status, int):
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR, str(status)))
            return response

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with http_span(route, _method(args, kwargs)) as span:
                    return _finish(span, await func(*args, **kwargs))

            return run_async

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with http_span(route, _method(args, kwargs)) as span:
                return _finish(span, func(*args, **kwargs))

        return run

    return decorate


def _episode_dimensions(context: Any, name: str) -> dict[str, Any]:
    data = context.get_input()
    found: dict[str, Any] = {"orchestration": name, "operation.id": context.instance_id}
    found.update(payload_dimensions(data if isinstance(data, Mapping) else None))
    status = getattr(context, "custom_status", None)
    if isinstance(status, Mapping):
        found["step"] = status.get("step")
        found["attempt"] = status.get("attempt")
    return found


def orchestration_episode(context: Any, name: str, steps: Generator[Any, Any, R]) -> Generator[Any, Any, R]:
    """Run `steps` unchanged (every value and exception passes through) and emit one span per episode.

    The Durable runtime runs the orchestrator function once per episode and replays its history each time;
    the span is emitted when the code first acts on new events (`context.is_replaying` is False), so an
    episode that only replays emits nothing, and no replayed step is emitted again. Its times are the wall
    clock's, telemetry only: nothing here feeds back into the orchestration.
    """
    started = time.time_ns()
    emitted = False

    def emit(outcome: str, error_code: str | None = None) -> None:
        nonlocal emitted
        if emitted or context.is_replaying:
            return
        emitted = True
        attributes = {**_episode_dimensions(context, name), "outcome": outcome, "error.code": error_code}
        span = _tracer.start_span(
            f"orchestration {name}", attributes=dimensions(attributes), start_time=started
        )
        if error_code:
            span.set_status(Status(StatusCode.ERROR, error_code))
        span.end()

    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            task = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as done:
            emit("completed")
            result: R = done.value
            return result
        except Exception as exc:
            emit("failed", error_code_of(exc))
            raise
        emit("waiting")
        try:
            value, error = (yield task), None
        except GeneratorExit:
            steps.close()
            raise
        except Exception as exc:  # a failed task: handed to the steps, as `yield from` would
            value, error = None, exc


def operation_completed(context: Any, kind: str, outcome: str, error_code: str | None, started: Any) -> None:
    """Count an ended operation and its duration (orchestration time), once: never while replaying."""
    if context.is_replaying:
        return
    attributes = dimensions({"operation.kind": kind, "outcome": outcome, "error.code": error_code})
    OPERATIONS.add(1, attributes)
    seconds = (context.current_utc_datetime - started).total_seconds()
    OPERATION_DURATION.record(max(0.0, seconds), dimensions({"operation.kind": kind, "outcome": outcome}))
    log(
        logging.INFO,
        "operation ended",
        operation_kind=kind,
        outcome=outcome,
        error_code=error_code,
        operation_id=context.instance_id,
    )


def activity_retried(context: Any, activity: str, cause: str, *, throttled: bool, attempt: int) -> None:
    """Count one retry of an activity call by its cause (an error code), and a throttle when it was one."""
    if context.is_replaying:
        return
    attributes = dimensions({"activity": activity, "cause": cause})
    ACTIVITY_RETRIES.add(1, attributes)
    if throttled:
        ACTIVITY_THROTTLES.add(1, attributes)
    log(
        logging.INFO,
        "activity retried",
        activity=activity,
        cause=cause,
        attempt=attempt,
        operation_id=context.instance_id,
    )


def reconcile_drift(context: Any, action: str, count: int = 1) -> None:
    """Count planned actions (what drifted), by action kind; never while replaying."""
    if count and not context.is_replaying:
        RECONCILE_DRIFT.add(count, dimensions({"action": action}))


def reconcile_repair(context: Any, action: str, outcome: str, error_code: str | None = None) -> None:
    """Count one performed action, by kind and outcome; never while replaying."""
    if not context.is_replaying:
        RECONCILE_REPAIRS.add(1, dimensions({"action": action, "outcome": outcome, "error.code": error_code}))


def connection_state_recorded(state: str) -> None:
    """Count a connection state written to the registry (a record without one counts nothing)."""
    if state:
        CONNECTION_STATES.add(1, dimensions({"state": state}))
