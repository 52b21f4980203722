"""A sample Durable Functions app (not the product) exercising every trigger the devhost serves."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from azure.functions.timer import TimerRequest

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

# What the non-HTTP functions saw, for the tests to read back.
timer_calls: list[dict[str, Any]] = []
messages: list[dict[str, Any]] = []
# Messages with the body "hold" wait for this event (set by a test) before finishing.
release_held: asyncio.Event | None = None


@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start any orchestration by name with the JSON body as input."""
    payload = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(req.route_params["functionName"], None, payload)
    response: func.HttpResponse = client.create_check_status_response(req, instance_id)
    return response


@app.orchestration_trigger(context_name="context")
def greet(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    """Say hello to each name in turn, wait a minute, and return the greetings."""
    greetings = []
    for name in context.get_input() or []:
        greetings.append((yield context.call_activity("say_hello", name)))
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=1))
    return greetings


@app.activity_trigger(input_name="name")
def say_hello(name: str) -> str:
    """One greeting."""
    return f"Hello {name}"


def _echo(req: func.HttpRequest) -> func.HttpResponse:
    body = {
        "method": req.method,
        "route": dict(req.route_params),
        "params": dict(req.params),
        "body": req.get_body().decode(),
        "header": req.headers.get("x-sample"),
    }
    return func.HttpResponse(
        json.dumps(body), status_code=200, mimetype="application/json", headers={"x-handled-by": "sample"}
    )


@app.route(route="items/{id:int}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def item_by_id(req: func.HttpRequest) -> func.HttpResponse:
    """Route constraint int."""
    return _echo(req)


@app.route(route="items/{name:alpha}", methods=["GET", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
def item_by_name(req: func.HttpRequest) -> func.HttpResponse:
    """Route constraint alpha, two methods."""
    return _echo(req)


@app.route(route="files/{*path}", auth_level=func.AuthLevel.ANONYMOUS)
def files(req: func.HttpRequest) -> func.HttpResponse:
    """Catch-all parameter, any method."""
    return _echo(req)


@app.route(route="greeting/{name?}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def greeting(req: func.HttpRequest) -> str:
    """Optional parameter; an async function returning plain text."""
    return f"Hello {req.route_params.get('name', 'stranger')}"


@app.route(route="secret", methods=["GET"])
def secret(req: func.HttpRequest) -> func.HttpResponse:
    """Function level (the app's default auth level)."""
    return func.HttpResponse("function-level ok")


@app.route(route="operator", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def operator(req: func.HttpRequest) -> func.HttpResponse:
    """Admin level: master key only."""
    return func.HttpResponse("admin-level ok")


@app.route(route="broken", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def broken(req: func.HttpRequest) -> func.HttpResponse:
    """Always raises."""
    raise RuntimeError("this function always fails")


@app.timer_trigger(schedule="%TICK_SCHEDULE%", arg_name="timer")
def tick(timer: func.TimerRequest) -> None:
    """Records each run."""
    assert isinstance(timer, TimerRequest)
    timer_calls.append({"function": "tick", "past_due": timer.past_due, "status": timer.schedule_status})


@app.timer_trigger(schedule="0 0 0 1 Jan *", arg_name="timer", run_on_startup=True)
def on_startup(timer: func.TimerRequest) -> None:
    """Runs once at startup, then yearly."""
    timer_calls.append({"function": "on_startup", "past_due": timer.past_due})


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%ORDERS_QUEUE%", connection="SB_CONN")
@app.durable_client_input(client_name="client")
async def on_order(msg: func.ServiceBusMessage, client: df.DurableOrchestrationClient) -> None:
    """Starts `greet` for each order message; a body of "fail" raises so the message is retried."""
    body = msg.get_body().decode()
    messages.append(
        {
            "body": body,
            "message_id": msg.message_id,
            "delivery_count": msg.delivery_count,
            "application_properties": dict(msg.application_properties),
            "content_type": msg.content_type,
            "correlation_id": msg.correlation_id,
            "subject": msg.subject,
            "lock_token": msg.lock_token,
            "enqueued_time_utc": msg.enqueued_time_utc,
        }
    )
    if body == "fail":
        raise ValueError("order rejected")
    if body == "hold" and release_held is not None:
        await release_held.wait()
        return
    await client.start_new("greet", f"order-{msg.message_id}", [body])
