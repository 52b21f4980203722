"""A sample Durable Functions app (not the product) exercising the engine's features through the real SDK."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

# Test knobs: attempts seen per key, and switches the tests flip between episodes.
ATTEMPTS: Counter[str] = Counter()
SWITCHES: dict[str, Any] = {"fail": False}


@app.orchestration_trigger(context_name="context")
def hello_sequence(context: df.DurableOrchestrationContext):
    name = context.get_input() or "world"
    results = []
    for suffix in ("a", "b", "c"):
        results.append((yield context.call_activity("say_hello", f"{name}-{suffix}")))
    return results


@app.orchestration_trigger(context_name="context")
def retrying(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    options = df.RetryOptions(
        first_retry_interval_in_milliseconds=5000, max_number_of_attempts=spec["max_attempts"]
    )
    try:
        value = yield context.call_activity_with_retry("flaky", options, spec)
    except Exception as exc:
        return {"failed": str(exc)}
    return {"value": value}


@app.orchestration_trigger(context_name="context")
def one_day_timer(context: df.DurableOrchestrationContext):
    fire_at = context.current_utc_datetime + timedelta(days=1)
    yield context.create_timer(fire_at)
    return {"woke_at": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    count = context.get_input()
    values = yield context.task_all([context.call_activity("double", i) for i in range(count)])
    return {"count": len(values), "sum": sum(values)}


@app.orchestration_trigger(context_name="context")
def counter_loop(context: df.DurableOrchestrationContext):
    state = context.get_input()
    state["seen"].append((yield context.call_activity("double", state["n"])))
    if state["n"] < 3:
        state["n"] += 1
        context.continue_as_new(state)
        return None
    return state


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    context.set_custom_status({"step": "waiting"})
    answer = yield context.wait_for_external_event("Approve")
    context.set_custom_status({"step": "approved"})
    greeting = yield context.call_activity("say_hello", "approver")
    return {"answer": answer, "greeting": greeting}


@app.orchestration_trigger(context_name="context")
def approval_or_timeout(context: df.DurableOrchestrationContext):
    deadline = context.current_utc_datetime + timedelta(hours=1)
    timer = context.create_timer(deadline)
    event = context.wait_for_external_event("Approve")
    winner = yield context.task_any([event, timer])
    if winner == event:
        timer.cancel()
        return {"outcome": "approved", "value": event.result}
    return {"outcome": "timed out"}


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    child = yield context.call_sub_orchestrator(
        "hello_sequence", "child", instance_id=f"{context.instance_id}-c"
    )
    retried = yield context.call_sub_orchestrator_with_retry(
        "retrying_child", df.RetryOptions(1000, 2), {"key": f"{context.instance_id}-sub"}
    )
    return {"child": child, "retried": retried}


@app.orchestration_trigger(context_name="context")
def retrying_child(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    value = yield context.call_activity("flaky", {"key": spec["key"], "fail_times": 1})
    return value


def _changing_impl(context: df.DurableOrchestrationContext):
    yield context.call_activity("say_hello", "first")
    yield context.wait_for_external_event("Go")
    return "done"


@app.orchestration_trigger(context_name="context")
def changing(context: df.DurableOrchestrationContext):
    # Delegates to a module global so a test can "deploy new code" between episodes.
    return (yield from _changing_impl(context))


@app.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("say_hello", "before")
    second = yield context.call_activity("switchable", "x")
    return [first, second]


@app.orchestration_trigger(context_name="context")
def slow_steps(context: df.DurableOrchestrationContext):
    n = context.get_input()
    values = []
    for i in range(n):
        values.append((yield context.call_activity("async_double", i)))
        yield context.create_timer(context.current_utc_datetime + timedelta(minutes=1))
    return values


@app.activity_trigger(input_name="name")
def say_hello(name: str) -> str:
    return f"Hello {name}!"


@app.activity_trigger(input_name="value")
def double(value: int) -> int:
    return value * 2


@app.activity_trigger(input_name="value")
async def async_double(value: int) -> int:
    await asyncio.sleep(0)
    return value * 2


@app.activity_trigger(input_name="spec")
def flaky(spec: dict[str, Any]) -> str:
    ATTEMPTS[spec["key"]] += 1
    attempt = ATTEMPTS[spec["key"]]
    if attempt <= spec["fail_times"]:
        raise ValueError(f"attempt {attempt} failed")
    return f"succeeded on attempt {attempt}"


@app.activity_trigger(input_name="tag")
def switchable(tag: str) -> str:
    if SWITCHES["fail"]:
        raise RuntimeError(f"switch is on for {tag}")
    return f"ok {tag}"


@app.orchestration_trigger(context_name="context")
def activity_then_event(context: df.DurableOrchestrationContext):
    greeting = yield context.call_activity("say_hello", "early")
    answer = yield context.wait_for_external_event("Approve")
    return {"greeting": greeting, "answer": answer}


@app.orchestration_trigger(context_name="context")
def short_timer(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=context.get_input()))
    done = yield context.call_activity("async_double", 21)
    return done


@app.entity_trigger(context_name="context")
def counter(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        value += context.get_input()
    elif operation == "fail":
        raise ValueError(f"cannot {context.get_input()}")
    elif operation == "get":
        context.set_result(value)
    context.set_state(value)


@app.orchestration_trigger(context_name="context")
def use_counter(context: df.DurableOrchestrationContext):
    entity = df.EntityId("counter", context.get_input())
    context.signal_entity(entity, "add", 5)
    yield context.call_entity(entity, "add", 3)
    total = yield context.call_entity(entity, "get")
    try:
        yield context.call_entity(entity, "fail", "divide")
    except Exception as exc:
        return {"total": total, "error": str(exc)}
    return {"total": total}


CONCURRENCY = {"now": 0, "max": 0}
_CONCURRENCY_LOCK = threading.Lock()


@app.activity_trigger(input_name="value")
def tracked(value: int) -> int:
    with _CONCURRENCY_LOCK:
        CONCURRENCY["now"] += 1
        CONCURRENCY["max"] = max(CONCURRENCY["max"], CONCURRENCY["now"])
    time.sleep(0.02)  # real work takes time; overlapping runs show the pool's limit
    with _CONCURRENCY_LOCK:
        CONCURRENCY["now"] -= 1
    return value


@app.orchestration_trigger(context_name="context")
def fan_out_tracked(context: df.DurableOrchestrationContext):
    values = yield context.task_all([context.call_activity("tracked", i) for i in range(context.get_input())])
    return sum(values)


@app.orchestration_trigger(context_name="context")
def calls_missing_activity(context: df.DurableOrchestrationContext):
    yield context.call_activity("no_such_activity", 1)
