"""A one-function app for `python -m devhost` stop tests: a Service Bus function that can be made to hang."""

from __future__ import annotations

import asyncio

import azure.functions as func

app = func.FunctionApp()


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%STOP_QUEUE%", connection="SB_CONN")
async def on_message(msg: func.ServiceBusMessage) -> None:
    """Prints what it got; a body of "hang" then waits for an hour, as a stuck function would."""
    body = msg.get_body().decode()
    print(f"stop_app received {body} (delivery {msg.delivery_count})", flush=True)
    if body == "hang":
        await asyncio.sleep(3600)
