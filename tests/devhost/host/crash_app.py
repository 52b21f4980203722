"""A sample Durable app (not the product) for the crash test: several activities and a timer each."""

from __future__ import annotations

import time
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="start/{instanceId}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start `pipeline` with the given instance id and the JSON body as input."""
    instance_id = await client.start_new("pipeline", req.route_params["instanceId"], req.get_json())
    response: func.HttpResponse = client.create_check_status_response(req, instance_id)
    return response


@app.orchestration_trigger(context_name="context")
def pipeline(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    """Three steps, a short durable timer, three more steps; returns every intermediate value."""
    value = context.get_input()
    trail = [value]
    for round_number in range(3):
        value = yield context.call_activity("step", {"value": value, "round": round_number})
        trail.append(value)
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=1))
    for round_number in range(3, 6):
        value = yield context.call_activity("step", {"value": value, "round": round_number})
        trail.append(value)
    return trail


@app.activity_trigger(input_name="work")
def step(work: dict[str, int]) -> int:
    """A deterministic step that takes a little time, so kills land mid-flight."""
    time.sleep(0.05)
    return (work["value"] * 31 + work["round"] * 7) % 1_000_003
