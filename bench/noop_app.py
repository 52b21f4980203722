"""The benchmark's Durable app: one orchestrator calling a no-op activity M times in sequence."""

from __future__ import annotations

import azure.durable_functions as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    """Call `noop` as many times as the input says, one after the other; return the last result."""
    value = 0
    for _ in range(int(context.get_input())):
        value = yield context.call_activity("noop", value)
    return value


@app.activity_trigger(input_name="value")
def noop(value: int) -> int:
    """Does nothing worth measuring."""
    return value + 1
