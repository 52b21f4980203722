"""Helpers every ARM handler uses: JSON answers, LRO headers, lookups that raise ARM's 404s."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from emulators.arm import errors
from emulators.arm.state import ArmState, Operation, Resource
from emulators.common.http import Request, Response


def ok(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer."""
    return Response.json(status, payload, headers)


def body_of(req: Request) -> dict[str, Any]:
    """The request body as a JSON object; 400 InvalidRequestContent otherwise."""
    try:
        data = req.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.invalid_request(
            "InvalidRequestContent", f"The request content was invalid: {exc}"
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise errors.invalid_request("InvalidRequestContent", "The request content must be a JSON object.")
    return data


def base_url(req: Request) -> str:
    """The scheme and host the client used, for URLs we hand back (async operation, next links)."""
    return "https://" + (req.header("Host") or "127.0.0.1")


def async_operation_headers(req: Request, op: Operation) -> dict[str, str]:
    """`Azure-AsyncOperation` to the operation status resource (never Retry-After: see reference §2)."""
    api_version = req.arg("api-version") or "2025-01-01"
    return {"Azure-AsyncOperation": f"{base_url(req)}{op.url_path()}?api-version={api_version}"}


def require_group(state: ArmState, sub_id: str, rg: str) -> dict[str, Any]:
    """The resource group or ARM's 404 (SubscriptionNotFound / ResourceGroupNotFound)."""
    if state.subscription(sub_id) is None:
        raise errors.subscription_not_found(sub_id)
    group = state.resource_group(sub_id, rg)
    if group is None:
        raise errors.resource_group_not_found(rg)
    return group


def require_resource(state: ArmState, sub_id: str, rg: str, resource_id: str, type_path: str) -> Resource:
    """The resource or ARM's 404 naming its type and resource group."""
    require_group(state, sub_id, rg)
    resource = state.get(resource_id)
    if resource is None:
        type_name, _, name = type_path.rpartition("/")
        raise errors.resource_not_found(type_name, name, rg)
    return resource


def public_view(resource: Resource) -> dict[str, Any]:
    """A deep copy of the resource JSON, safe to serialise (callers mutate it freely)."""
    copied: dict[str, Any] = json.loads(json.dumps(resource.body))
    return copied


SKIP_TOKEN = "$skipToken"


def page(req: Request, items: list[dict[str, Any]], size: int) -> Response:
    """One page of an ARM list: `size` items from `$skipToken` on, and a `nextLink` while more remain.

    The token is the offset into the list, opaque to clients; the nextLink repeats the request's other query
    parameters (api-version, $filter) as ARM's do, so the SDK pagers follow it unchanged.
    """
    raw = req.arg(SKIP_TOKEN) or "0"
    if not raw.isdigit():
        raise errors.invalid_request(
            "InvalidSkipToken", f"The skip token '{raw}' is not valid.", target=SKIP_TOKEN
        )
    start, size = int(raw), max(1, size)
    payload: dict[str, Any] = {"value": items[start : start + size]}
    if start + size < len(items):
        query = {k: v for k, v in req.query.items() if k != SKIP_TOKEN}
        query[SKIP_TOKEN] = [str(start + size)]
        payload["nextLink"] = f"{base_url(req)}{req.path}?{urllib.parse.urlencode(query, doseq=True)}"
    return ok(payload)
