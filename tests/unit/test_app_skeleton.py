"""The function app imports and exposes its functions the way the Functions host discovers them."""

import json

import azure.functions as func

from devhost.discovery import load_app


def test_function_app_lists_its_functions_and_health_answers() -> None:
    # Discovery goes through devhost, which calls app.get_functions() once per process, as the worker does
    # (a second call on the same app raises "does not have a unique function name").
    index = load_app("function_app")
    assert "health" in index.functions
    health = index.functions["health"]
    assert health.trigger["route"] == "api/health"
    response = health.user_function(func.HttpRequest("GET", "http://127.0.0.1:7071/api/health", body=b""))
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {"status": "Healthy"}
    # Every kind of function the architecture names is registered.
    assert index.orchestrators and index.activities
