"""A Functions app holding the activities blueprint and one probe orchestrator, for tests.

Tests index it instead of function_app (`get_functions()` may run once per app instance; the product's app
belongs to the host-level tests). `probe_activity` calls one activity by name and returns its output, or the
ConnectorError parsed back from the Durable failure text, as an orchestrator of the product would.
"""

from typing import Any

import azure.durable_functions as df

from activities import bp
from connector.errors import parse_failure_text

app = df.DFApp()
app.register_functions(bp)


@app.orchestration_trigger(context_name="context")
def probe_activity(context: df.DurableOrchestrationContext) -> Any:
    """Input {name, payload}: {"output": ...} or {"error": ConnectorError.to_dict()} or {"unparsed": text}."""
    spec = context.get_input()
    try:
        output = yield context.call_activity(spec["name"], spec["payload"])
    except Exception as exc:
        error = parse_failure_text(str(exc))
        return {"error": error.to_dict()} if error else {"unparsed": str(exc)}
    return {"output": output}
