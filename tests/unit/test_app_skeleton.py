"""The function app imports and exposes its functions the way the Functions host discovers them."""

import json

import azure.functions as func


def test_function_app_lists_its_functions_and_health_answers() -> None:
    import function_app

    functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
    assert "health" in functions
    trigger = functions["health"].get_trigger().get_dict_repr()
    assert trigger["route"] == "api/health"
    response = functions["health"].get_user_function()(
        func.HttpRequest("GET", "http://127.0.0.1:7071/api/health", body=b"")
    )
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {"status": "Healthy"}
