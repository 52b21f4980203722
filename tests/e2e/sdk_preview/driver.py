"""Drives the product with azure-mgmt-servicelinker 1.2.0b3 (the az CLI's SDK, 2024-07-01-preview).

Runs in .venv-sdk-preview, never in .venv (1.1.0 lives there), as a subprocess of the e2e tests:

    SDK_DRIVER_FUNCTION_KEY=<key> .venv-sdk-preview/bin/python driver.py <devhost base url> < steps.json

stdin is a JSON list of steps, each `{"op": ..., "resourceUri": ..., "name": ..., ...}`; stdout is a JSON list
with one result per step: `{"ok": true, "value": ...}` or `{"ok": false, "status", "code", "message"}`. The
function key comes through the environment, not argv, so it does not show in process listings.

Imports only the standard library and the SDK: this file must not import the project.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.servicelinker import ServiceLinkerManagementClient, models
from azure.mgmt.servicelinker._serialization import Serializer


class _FunctionKeyPolicy(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Replaces the bearer-token policy (which refuses plain http) with the Functions host's key."""

    def __init__(self, key: str) -> None:
        self._key = key

    def on_request(self, request: Any) -> None:
        """Add the key header to every request: the PUT, the polls and the nextLink pages."""
        request.http_request.headers["x-functions-key"] = self._key


class _TrafficPolicy(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Appends each answer to the file SDK_DRIVER_TRAFFIC names: the e2e suite has oav judge it."""

    def __init__(self, path: str) -> None:
        self._path = path

    def on_response(self, request: Any, response: Any) -> None:
        """One JSON line per exchange; request bodies stay out (they may carry secrets)."""
        if request.context.options.get("stream"):
            return  # an LRO's first call: the SDK streams that body itself, and it can be read only once
        answer = response.http_response
        answer.read()
        try:
            body = json.loads(answer.text()) if answer.text() else None
        except ValueError:
            body = None
        entry = {
            "method": request.http_request.method,
            "url": request.http_request.url,
            "status": answer.status_code,
            "headers": dict(answer.headers),
            "body": body,
        }
        with open(self._path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


class _NoCredential:
    """The client insists on a credential; the function key policy leaves it unused."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("the function key policy replaces bearer tokens")


def _client(base_url: str, key: str) -> Any:
    return ServiceLinkerManagementClient(
        _NoCredential(),
        base_url=base_url,
        authentication_policy=_FunctionKeyPolicy(key),
        polling_interval=0.2,
        retry_total=0,
        per_call_policies=[_TrafficPolicy(path)] if (path := os.environ.get("SDK_DRIVER_TRAFFIC")) else [],
    )


def _dict(model: Any) -> Any:
    return None if model is None else model.as_dict()


def _create(client: Any, step: dict[str, Any]) -> Any:
    # A plain dict, as `az aks connection create` passes it (snake_case or camelCase keys both work).
    poller = client.linker.begin_create_or_update(step["resourceUri"], step["name"], step["parameters"])
    return _dict(poller.result())


def _update(client: Any, step: dict[str, Any]) -> Any:
    poller = client.linker.begin_update(step["resourceUri"], step["name"], step["parameters"])
    return _dict(poller.result())


def _get_modify_put(client: Any, step: dict[str, Any]) -> Any:
    """What SDK users do to change one property: GET the linker, set attributes, PUT it back."""
    linker = client.linker.get(step["resourceUri"], step["name"])
    for attribute, value in step["changes"].items():
        setattr(linker, attribute, value)
    return _dict(client.linker.begin_create_or_update(step["resourceUri"], step["name"], linker).result())


def _list(client: Any, step: dict[str, Any]) -> Any:
    """Every page the pager follows (nextLink), as lists of linker names."""
    return [[linker.name for linker in page] for page in client.linker.list(step["resourceUri"]).by_page()]


def _serialize(client: Any, step: dict[str, Any]) -> Any:
    """The wire body the SDK makes of a parameters dict (what begin_create_or_update sends)."""
    serializer = Serializer({k: v for k, v in vars(models).items() if isinstance(v, type)})
    return serializer.body(step["parameters"], step.get("model", "LinkerResource"))


_OPS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "create": _create,
    "get": lambda c, s: _dict(c.linker.get(s["resourceUri"], s["name"])),
    "list": _list,
    "update": _update,
    "get_modify_put": _get_modify_put,
    "validate": lambda c, s: _dict(c.linker.begin_validate(s["resourceUri"], s["name"]).result()),
    "list_configurations": lambda c, s: _dict(c.linker.list_configurations(s["resourceUri"], s["name"])),
    "delete": lambda c, s: c.linker.begin_delete(s["resourceUri"], s["name"]).result(),
    "serialize": _serialize,
}


def _run(client: Any, step: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"ok": True, "value": _OPS[step["op"]](client, step)}
    except HttpResponseError as error:
        detail = error.error
        return {
            "ok": False,
            "status": error.status_code,
            "code": detail.code if detail is not None else None,
            "message": detail.message if detail is not None else str(error),
        }


def main() -> None:
    """Run the steps on stdin against the URL in argv[1]; print their results."""
    client = _client(sys.argv[1], os.environ["SDK_DRIVER_FUNCTION_KEY"])
    steps = json.load(sys.stdin)
    json.dump([_run(client, step) for step in steps], sys.stdout)


if __name__ == "__main__":
    main()
