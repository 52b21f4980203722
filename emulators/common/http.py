"""Request, response and route table shared by the emulators' HTTP layers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

_PARAM = re.compile(r"\{(\w+)(?::([^{}]+))?\}")


@dataclass
class Request:
    """One parsed HTTP request as handlers see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Request:
        """Build a request from the raw request line target (path and query) and headers."""
        path, _, query = target.partition("?")
        return cls(method.upper(), path, parse_qs(query, keep_blank_values=True), headers, body)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of the query parameter `name`, or `default`."""
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str = "") -> str:
        """A request header (case-insensitive)."""
        value = self.headers.get(name)
        return default if value is None else value

    def json(self) -> Any:
        """The body decoded as JSON (raises ValueError on bad JSON); None when the body is empty."""
        if not self.body.strip():
            return None
        return json.loads(self.body)


@dataclass
class Response:
    """What a handler answers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        """A JSON response."""
        merged = {"Content-Type": "application/json"}
        merged.update(headers or {})
        return cls(status, json.dumps(payload).encode(), merged)

    @classmethod
    def text(cls, status: int, text: str, headers: Mapping[str, str] | None = None) -> Response:
        """A text/plain response."""
        merged = {"Content-Type": "text/plain; charset=utf-8"}
        merged.update(headers or {})
        return cls(status, text.encode(), merged)

    @classmethod
    def empty(cls, status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
        """A response without a body."""
        return cls(status, b"", dict(headers or {}))


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """A method and a compiled path pattern; `name` (the journal key) is the template minus param regexes."""

    method: str
    name: str
    regex: re.Pattern[str]
    handler: Handler


def compile_template(template: str) -> re.Pattern[str]:
    """Turn `/a/{name}/b/{key:[a-z0-9-]+}` into an anchored regex with named groups (default `[^/]+`)."""
    out, pos = [], 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


class Router:
    """A tiny route table: method + path template (or regex) → handler."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Register `handler` for `method` on a path template such as `/api/v1/namespaces/{namespace}`."""
        name = _PARAM.sub(lambda m: "{" + m.group(1) + "}", template)
        self.routes.append(Route(method.upper(), name, compile_template(template), handler))

    def add_regex(self, method: str, pattern: str, handler: Handler, name: str | None = None) -> None:
        """Register `handler` for `method` on a full-match regex with named groups."""
        self.routes.append(Route(method.upper(), name or pattern, re.compile(f"^(?:{pattern})$"), handler))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Find the route; returns (route, path params, whether the path matched under another method)."""
        path_known = False
        for route in self.routes:
            m = route.regex.match(path)
            if m is None:
                continue
            if route.method == method.upper():
                return route, m.groupdict(), True
            path_known = True
        return None, {}, path_known
