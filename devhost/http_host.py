"""The HTTP front of the devhost: HTTP triggers, the host's admin endpoints and the Durable HTTP API.

Answers as the Functions host does: 401 with an empty body for a missing or wrong key, 404 when no route (or
no method) matches, 500 with an empty body when the function raises, 202 for an admin invocation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
from aiohttp import web
from azure.functions.servicebus import ServiceBusMessage
from azure.functions.timer import TimerRequest

from devhost.discovery import FunctionIndex, FunctionInfo
from devhost.invoker import Invoker
from devhost.keys import ADMIN, KeyStore, presented_key
from devhost.routes import RouteTemplate, join_route

log = logging.getLogger("devhost")

HOST_VERSION = "4.1036.1.0-devhost"
_DURABLE_TRIGGERS = {"orchestrationTrigger", "activityTrigger", "entityTrigger"}
# The Durable extension's webhooks need its system key (or the master key), as on the real host.
DURABLE_SYSTEM_KEY = "durabletask_extension"
MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024  # the Functions host's documented HTTP request length limit
_WEBHOOK_PREFIX = "/runtime/webhooks/"


def routing_path(raw_path: str) -> str:
    """The path routes are matched against, decoded as ASP.NET Core's PathString decodes it: every escape but
    `%2F`, which stays encoded, so an encoded slash stays inside its segment (a route parameter) instead of
    splitting it. aiohttp's decoded `request.path` would let `linkers/%2f` match the list route."""
    without_query = raw_path.split("?", 1)[0]
    kept = re.sub(r"%2[fF]", "\x00", without_query)
    return urllib.parse.unquote(kept).replace("\x00", "%2F").lstrip("/")


@dataclass(frozen=True)
class HttpRoute:
    """One HTTP-triggered function as served: full template, methods (None: any) and auth level."""

    info: FunctionInfo
    template: RouteTemplate
    methods: frozenset[str] | None
    auth_level: str


def http_routes(index: FunctionIndex, route_prefix: str) -> list[HttpRoute]:
    """The app's HTTP triggers as routes, most specific first (ASP.NET precedence)."""
    routes = []
    for info in index.by_trigger("httpTrigger"):
        route = info.trigger.get("route") or info.name
        methods = info.trigger.get("methods")
        routes.append(
            HttpRoute(
                info=info,
                template=RouteTemplate(join_route(route_prefix, route)),
                methods=frozenset(str(m).upper() for m in methods) if methods else None,
                auth_level=str(info.trigger.get("authLevel") or "function").lower(),
            )
        )
    return sorted(routes, key=lambda r: r.template.precedence)


def to_http_request(request: web.Request, body: bytes, route_params: dict[str, str]) -> func.HttpRequest:
    """The func.HttpRequest the worker would build from this aiohttp request."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    params: dict[str, str] = {}
    for name, value in request.query.items():
        params.setdefault(name, value)
    return func.HttpRequest(
        request.method, str(request.url), headers=headers, params=params, route_params=route_params, body=body
    )


def to_web_response(result: Any) -> web.Response:
    """The HTTP response for whatever the function returned (HttpResponse, text, bytes, JSON-able, None)."""
    if result is None:
        return web.Response(status=204)
    if isinstance(result, func.HttpResponse):
        headers = dict(result.headers.items())
        if not any(name.lower() == "content-type" for name in headers):
            mimetype = result.mimetype or "text/plain"
            headers["Content-Type"] = f"{mimetype}; charset={result.charset}" if result.charset else mimetype
        return web.Response(status=result.status_code, body=result.get_body(), headers=headers)
    if isinstance(result, bytes):
        return web.Response(body=result, content_type="application/octet-stream")
    if isinstance(result, str):
        return web.Response(text=result, content_type="text/plain")
    return web.json_response(result)


def admin_trigger_value(info: FunctionInfo, input_text: str | None) -> Any:
    """The trigger object an admin invocation passes: a TimerRequest, a Service Bus message, or the input."""
    if info.trigger_type == "timerTrigger":
        return TimerRequest(past_due=False)
    if info.trigger_type == "serviceBusTrigger":
        return ServiceBusMessage(
            body=(input_text or "").encode(),
            message_id=uuid.uuid4().hex,
            application_properties={},
            user_properties={},
            delivery_count=1,
            enqueued_time_utc=datetime.now(UTC),
        )
    return input_text


class HttpHost:
    """Builds the aiohttp application that serves one app's HTTP surface."""

    def __init__(
        self,
        index: FunctionIndex,
        *,
        keys: KeyStore,
        invoker: Invoker,
        route_prefix: str = "api",
        add_durable_routes: Callable[[web.Application], None] | None = None,
        host_id: str = "devhost",
    ) -> None:
        self.index = index
        self.keys = keys
        self.invoker = invoker
        self.route_prefix = route_prefix
        self.routes = http_routes(index, route_prefix)
        self._add_durable_routes = add_durable_routes
        self._host_id = host_id
        self._started = time.monotonic()
        self._background: set[asyncio.Task[Any]] = set()
        keys.ensure_function_keys([r.info.name for r in self.routes])

    def build_app(self) -> web.Application:
        """An aiohttp application with admin routes, Durable routes and, last, the HTTP triggers."""
        # The Functions host accepts request bodies up to 100 MB (aiohttp's default is 1 MiB): the app, not
        # the host, decides what a smaller limit answers.
        app = web.Application(middlewares=[self._webhook_auth], client_max_size=MAX_REQUEST_BODY_BYTES)
        app.router.add_get("/admin/host/status", self._host_status)
        app.router.add_get("/admin/host/ping", self._ping)
        app.router.add_post("/admin/functions/{name}", self._admin_invoke)
        if self._add_durable_routes is not None:
            self._add_durable_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    async def drain(self) -> None:
        """Wait for admin invocations still running (called when the host stops)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def function_urls(self, base_url: str) -> list[tuple[str, str, str]]:
        """(function name, methods, URL template) for every HTTP trigger, as `func start` lists them."""
        return [
            (
                r.info.name,
                ",".join(sorted(r.methods)) if r.methods else "*",
                f"{base_url}/{r.template.template}",
            )
            for r in self.routes
        ]

    @web.middleware
    async def _webhook_auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        key = presented_key(request.query, request.headers)
        if request.path.startswith(_WEBHOOK_PREFIX) and not self.keys.grants_system(DURABLE_SYSTEM_KEY, key):
            return web.Response(status=401)
        response: web.StreamResponse = await handler(request)
        return response

    def _authorized(self, request: web.Request, level: str, function_name: str | None) -> bool:
        return self.keys.is_authorized(level, function_name, presented_key(request.query, request.headers))

    async def _host_status(self, request: web.Request) -> web.Response:
        if not self._authorized(request, ADMIN, None):
            return web.Response(status=401)
        return web.json_response(
            {
                "id": self._host_id,
                "state": "Running",
                "version": HOST_VERSION,
                "versionDetails": f"{HOST_VERSION} (devhost: the Python worker runs in-process)",
                "processUptime": int((time.monotonic() - self._started) * 1000),
            }
        )

    async def _ping(self, request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def _admin_invoke(self, request: web.Request) -> web.Response:
        if not self._authorized(request, ADMIN, None):
            return web.Response(status=401)
        name = request.match_info["name"]
        info = next((f for f in self.index.functions.values() if f.name.lower() == name.lower()), None)
        if info is None:
            return web.Response(status=404)
        if info.trigger_type == "httpTrigger" or info.trigger_type in _DURABLE_TRIGGERS:
            return web.json_response(
                {
                    "error": f"function '{info.name}' has a {info.trigger_type}; "
                    "call it through its own route "
                    "or the Durable client"
                },
                status=400,
            )
        try:
            document = json.loads(await request.read() or b"{}")
        except json.JSONDecodeError:
            return web.json_response({"error": 'the body must be JSON: {"input": "..."}'}, status=400)
        input_text = document.get("input") if isinstance(document, dict) else None
        task = asyncio.create_task(self._invoke_quietly(info, admin_trigger_value(info, input_text)))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return web.Response(status=202)

    async def _invoke_quietly(self, info: FunctionInfo, value: Any) -> None:
        try:
            await self.invoker.invoke(info, value)
        except Exception:
            # Already reported as a Failed invocation; an admin call has nobody to answer.
            log.debug("admin invocation of %s failed", info.name, exc_info=True)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = routing_path(request.raw_path)
        for route in self.routes:
            params = route.template.match(path)
            if params is None or (route.methods is not None and request.method.upper() not in route.methods):
                continue
            if not self._authorized(request, route.auth_level, route.info.name):
                return web.Response(status=401)
            http_request = to_http_request(request, await request.read(), params)
            try:
                result = await self.invoker.invoke(route.info, http_request)
            except Exception:
                # Reported with its traceback by the invoker; the caller learns nothing, as on the host.
                return web.Response(status=500)
            return to_web_response(result)
        return web.Response(status=404)
