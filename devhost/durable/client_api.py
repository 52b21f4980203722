"""The Durable HTTP API (durable-protocol.md §6) that the SDK's DurableOrchestrationClient talks to."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from devhost.durable.history import parse_timestamp

if TYPE_CHECKING:
    from devhost.durable.engine import DurableEngine

PREFIXES = ("/durabletask", "/runtime/webhooks/durabletask")
_RUNNING = ("Pending", "Running", "ContinuedAsNew", "Suspended")
CONTINUATION_HEADER = "x-ms-continuation-token"
DEFAULT_PAGE_SIZE = 100  # OrchestrationStatusQueryCondition.PageSize's default in the extension
STATUS_RETRY_AFTER_SECONDS = 5  # what the extension asks of a client polling a running instance
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_durable_routes(engine: DurableEngine, app: web.Application) -> None:
    """Register the API under both prefixes (the host guards /runtime/webhooks/ with its system key)."""
    api = _DurableApi(engine)
    routes: list[tuple[str, str, Handler]] = [
        ("POST", "/orchestrators/{name}", api.start),
        ("POST", "/orchestrators/{name}/{instance_id}", api.start),
        ("GET", "/instances", api.list),
        ("GET", "/instances/", api.list),
        ("DELETE", "/instances", api.purge_by),
        ("DELETE", "/instances/", api.purge_by),
        ("GET", "/instances/{instance_id}", api.status),
        ("DELETE", "/instances/{instance_id}", api.purge),
        ("POST", "/instances/{instance_id}/raiseEvent/{event}", api.raise_event),
        ("POST", "/instances/{instance_id}/terminate", api.terminate),
        ("POST", "/instances/{instance_id}/suspend", api.suspend),
        ("POST", "/instances/{instance_id}/resume", api.resume),
        ("POST", "/instances/{instance_id}/rewind", api.rewind),
        ("POST", "/instances/{instance_id}/restart", api.restart),
        ("POST", "/entities/{name}/{key}", api.signal_entity),
        ("GET", "/entities/{name}/{key}", api.read_entity),
    ]
    for prefix in PREFIXES:
        for method, path, handler in routes:
            app.router.add_route(method, prefix + path, _errors(handler))


def _errors(handler: Handler) -> Handler:
    from devhost.durable.engine import EngineError

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except EngineError as exc:
            if exc.status == 404:
                return web.Response(status=404)
            return web.json_response(
                {"Message": exc.message, "ExceptionMessage": exc.message}, status=exc.status
            )

    return wrapped


def _flag(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name)
    return default if value is None else value.strip().lower() == "true"


def _time(request: web.Request, name: str) -> datetime | None:
    """A timestamp filter; one that does not parse is no filter (the extension uses DateTime.TryParse)."""
    value = request.query.get(name)
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _top(request: web.Request) -> int:
    """The page size: `top` when it is a positive integer, else the extension's default."""
    try:
        top = int(request.query.get("top", ""))
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return top if top > 0 else DEFAULT_PAGE_SIZE


def _page(
    items: list[dict[str, Any]], size: int, token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a listing and the continuation token of the next (None on the last page).

    The token is opaque to callers; here it is the offset of the next page. A token that is not ours starts
    from the beginning, as a fresh query would.
    """
    try:
        start = max(0, int(base64.urlsafe_b64decode((token or "").encode()).decode() or "0"))
    except (ValueError, UnicodeDecodeError):
        start = 0
    end = start + size
    following = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], following


def _statuses(request: web.Request) -> list[str] | None:
    value = request.query.get("runtimeStatus")
    return [s.strip() for s in value.split(",") if s.strip()] if value else None


class _DurableApi:
    def __init__(self, engine: DurableEngine) -> None:
        self.engine = engine

    def _check_status(self, request: web.Request, instance_id: str) -> web.Response:
        origin = f"{request.scheme}://{request.host}"
        payload = self.engine.check_status_payload(origin, instance_id, code=request.query.get("code"))
        return web.json_response(
            payload, status=202, headers={"Location": payload["statusQueryGetUri"], "Retry-After": "10"}
        )

    async def start(self, request: web.Request) -> web.Response:
        input_text, problem = await _body_input(request)
        if problem is not None:
            return problem
        instance_id = self.engine.start_new_json(
            request.match_info["name"], request.match_info.get("instance_id"), input_text
        )
        return self._check_status(request, instance_id)

    async def status(self, request: web.Request) -> web.Response:
        status = await self.engine.get_public_status(
            request.match_info["instance_id"],
            show_history=_flag(request, "showHistory"),
            show_history_output=_flag(request, "showHistoryOutput"),
            show_input=_flag(request, "showInput", True),
        )
        if status is None:
            return web.Response(status=404)
        if status["runtimeStatus"] in _RUNNING:
            # As the extension answers a running instance: poll this same URL, not in a tight loop.
            headers = {"Location": str(request.url), "Retry-After": str(STATUS_RETRY_AFTER_SECONDS)}
            return web.json_response(status, status=202, headers=headers)
        code = 200
        if status["runtimeStatus"] == "Failed" and _flag(request, "returnInternalServerErrorOnFailure"):
            code = 500
        return web.json_response(status, status=code)

    async def list(self, request: web.Request) -> web.Response:
        found = await self.engine.list_instances(
            created_from=_time(request, "createdTimeFrom"),
            created_to=_time(request, "createdTimeTo"),
            statuses=_statuses(request),
            prefix=request.query.get("instanceIdPrefix"),
        )
        page, token = _page(found, _top(request), request.headers.get(CONTINUATION_HEADER))
        if not _flag(request, "showInput", True):
            page = [{**status, "input": None} for status in page]
        # The extension always sends the header; its value is empty on the last page.
        return web.json_response(page, headers={CONTINUATION_HEADER: token or ""})

    async def purge(self, request: web.Request) -> web.Response:
        deleted = await self.engine.purge(request.match_info["instance_id"])
        return web.json_response({"instancesDeleted": deleted})

    async def purge_by(self, request: web.Request) -> web.Response:
        created_from = _time(request, "createdTimeFrom")
        if created_from is None:  # the extension refuses to purge a whole task hub by accident
            return web.json_response(
                {"Message": "Please provide value for 'createdTimeFrom' parameter."}, status=400
            )
        deleted = await self.engine.purge_by(
            created_from=created_from,
            created_to=_time(request, "createdTimeTo"),
            statuses=_statuses(request),
        )
        return web.json_response({"instancesDeleted": deleted}, status=200 if deleted else 404)

    async def raise_event(self, request: web.Request) -> web.Response:
        body = await request.text()
        try:
            value = json.loads(body) if body.strip() else None
        except json.JSONDecodeError:
            return web.json_response({"Message": "Only JSON content is supported."}, status=400)
        # Kept as the host does: the SDK's double-encoded body reaches the orchestrator as a JSON string.
        self.engine.raise_event_json(
            request.match_info["instance_id"], request.match_info["event"], json.dumps(value)
        )
        return web.Response(status=202)

    async def terminate(self, request: web.Request) -> web.Response:
        await self.engine.terminate(request.match_info["instance_id"], request.query.get("reason"))
        return web.Response(status=202)

    async def suspend(self, request: web.Request) -> web.Response:
        await self.engine.suspend(request.match_info["instance_id"], request.query.get("reason"))
        return web.Response(status=202)

    async def resume(self, request: web.Request) -> web.Response:
        await self.engine.resume(request.match_info["instance_id"], request.query.get("reason"))
        return web.Response(status=202)

    async def rewind(self, request: web.Request) -> web.Response:
        await self.engine.rewind(request.match_info["instance_id"], request.query.get("reason"))
        return web.Response(status=202)

    async def restart(self, request: web.Request) -> web.Response:
        new_id = await self.engine.restart(
            request.match_info["instance_id"], _flag(request, "restartWithNewInstanceId", True)
        )
        return self._check_status(request, new_id)

    async def signal_entity(self, request: web.Request) -> web.Response:
        input_text, problem = await _body_input(request)
        if problem is not None:
            return problem
        operation = request.query.get("op", "")
        self.engine.signal_entity_json(
            request.match_info["name"], request.match_info["key"], operation, input_text
        )
        return web.Response(status=202)

    async def read_entity(self, request: web.Request) -> web.Response:
        exists, state = await self.engine.read_entity_state(
            request.match_info["name"], request.match_info["key"]
        )
        if not exists:
            return web.Response(status=404)
        return web.json_response(state)


async def _body_input(request: web.Request) -> tuple[str | None, web.Response | None]:
    """The input's JSON text from a request body (the SDK double-encodes it), or a 400 response."""
    body = await request.text()
    if not body.strip():
        return None, None
    try:
        value: Any = json.loads(body)
    except json.JSONDecodeError:
        return None, web.json_response({"Message": "The request body is not valid JSON."}, status=400)
    if isinstance(value, str):
        try:
            json.loads(value)
        except json.JSONDecodeError:
            return json.dumps(value), None  # a plain string posted by hand, not the SDK's encoding
        return value, None
    return json.dumps(value), None
