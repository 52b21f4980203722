"""The emulator base: HTTPS on 127.0.0.1 with a route table, fault rules, a call journal and an admin API."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import trustme

from .clock import Clock
from .faults import FaultRule, FaultRules
from .http import Request, Response, Router
from .journal import Journal, JournalEntry

ADMIN_PREFIX = "/_emulator"


class AdminError(Exception):
    """An admin call the emulator refuses; answered as `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Emulator:
    """Base for ARM and Kubernetes emulators. Subclasses add routes to `self.router` and admin routes to
    `self.admin_router`, and override the hooks below (`reset_state`, `seed`, `not_found`, ...)."""

    name = "emulator"

    def __init__(self, clock: Clock | None = None, ca: trustme.CA | None = None) -> None:
        self.clock = clock or Clock()
        self.ca = ca or trustme.CA()
        self.router = Router()
        self.admin_router = Router()
        self.faults = FaultRules()
        self.journal = Journal()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ca_dir: str | None = None
        self.ca_file = ""
        self._add_common_admin_routes()

    # ----- overridable behaviour -----
    def reset_state(self) -> None:
        """Forget every emulator-specific object (subclasses override)."""

    def seed(self, data: Any) -> dict[str, Any]:
        """Load emulator-specific state from a seed document (subclasses override)."""
        raise AdminError(400, f"{self.name} emulator has no seed format")

    def not_found(self, request: Request) -> Response:
        """Answer for a path no route matches."""
        return Response.json(404, {"error": {"code": "NotFound", "message": f"no route for {request.path}"}})

    def method_not_allowed(self, request: Request) -> Response:
        """Answer for a known path under a method it does not serve."""
        return Response.json(405, {"error": {"code": "MethodNotAllowed", "message": request.method}})

    def internal_error(self, request: Request, exc: BaseException) -> Response:
        """Answer for a handler that raised (a bug in the emulator)."""
        return Response.json(500, {"error": {"code": "InternalError", "message": type(exc).__name__}})

    def fault_response(self, rule: FaultRule, request: Request) -> Response:
        """The response a fault rule with a `status` answers (body as given, JSON unless a string)."""
        if isinstance(rule.body, str):
            return Response.text(rule.status or 500, rule.body, rule.headers)
        default = {"error": {"code": "InjectedFault", "message": "fault injected by the emulator"}}
        body = rule.body if rule.body is not None else default
        return Response.json(rule.status or 500, body, rule.headers)

    def journal_extra(self, request: Request) -> dict[str, Any]:
        """Emulator-specific fields added to each journal entry (never secrets)."""
        return {}

    # ----- lifecycle -----
    def reset(self) -> None:
        """Forget state, fault rules and the journal (the clock keeps its time)."""
        self.reset_state()
        self.faults.clear()
        self.journal.clear()

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Emulator:
        """Serve HTTPS in a daemon thread; returns self once the socket listens."""
        self._bind(host, port)
        assert self._httpd is not None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name=f"{self.name}-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve HTTPS in the calling thread until `stop` (from a signal handler or another thread)."""
        if self._httpd is None:
            self._bind(host, port)
        assert self._httpd is not None
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and remove the CA file."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._ca_dir is not None:
            with contextlib.suppress(OSError):
                os.remove(self.ca_file)
                os.rmdir(self._ca_dir)
            self._ca_dir = None

    def __enter__(self) -> Emulator:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port listened on."""
        assert self._httpd is not None, "emulator not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """`https://127.0.0.1:PORT`."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        """Base URL of the admin API."""
        return self.url + ADMIN_PREFIX

    @property
    def ca_pem(self) -> bytes:
        """PEM of the CA that signed the server certificate (give it to clients as their trust root)."""
        return self.ca.cert_pem.bytes()

    def write_ca_file(self, path: str) -> None:
        """Write the CA PEM to `path` (for a process whose clients read a CA bundle from disk)."""
        with open(path, "wb") as f:
            f.write(self.ca_pem)

    def _bind(self, host: str, port: int) -> None:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
        self._httpd = _Server((host, port), _make_handler(self, ctx))
        self._ca_dir = tempfile.mkdtemp(prefix=f"{self.name}-emulator-")
        self.ca_file = os.path.join(self._ca_dir, "ca.pem")
        self.write_ca_file(self.ca_file)

    # ----- dispatch -----
    def handle(self, request: Request) -> Response | None:
        """Answer one request: admin API, else faults then routes; None means drop the connection."""
        if request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/"):
            return self._handle_admin(request)
        started = time.monotonic()
        response: Response | None
        route, params, path_known = self.router.match(request.method, request.path)
        request.params = params
        rule = self.faults.pick(request.method, request.path)
        if rule is not None and rule.latency > 0:
            time.sleep(rule.latency)
        if rule is not None and rule.drop:
            response = None
        elif rule is not None and rule.status is not None:
            response = self.fault_response(rule, request)
        else:
            response = self._call(route.handler if route else None, request, path_known)
        self.journal.record(
            JournalEntry(
                method=request.method,
                path=request.path,
                route=route.name if route else None,
                apiVersion=request.arg("api-version"),
                status=response.status if response is not None else 0,
                durationMs=round((time.monotonic() - started) * 1000, 3),
                time=self.clock.now(),
                fault=rule.id if rule is not None else None,
                extra=self.journal_extra(request),
            )
        )
        return response

    def _call(self, handler: Any, request: Request, path_known: bool) -> Response:
        if handler is None:
            return self.method_not_allowed(request) if path_known else self.not_found(request)
        try:
            response: Response = handler(request)
            return response
        except Exception as exc:  # a bug in a handler must not kill the connection thread silently
            import traceback

            traceback.print_exc()
            return self.internal_error(request, exc)

    def _handle_admin(self, request: Request) -> Response:
        sub = request.path[len(ADMIN_PREFIX) :] or "/"
        route, params, path_known = self.admin_router.match(request.method, sub)
        if route is None:
            status = 405 if path_known else 404
            return Response.json(status, {"error": f"no admin route {request.method} {sub}"})
        request.params = params
        try:
            return route.handler(request)
        except AdminError as exc:
            return Response.json(exc.status, {"error": exc.message})
        except ValueError as exc:
            return Response.json(400, {"error": str(exc)})

    # ----- common admin API -----
    def _add_common_admin_routes(self) -> None:
        add = self.admin_router.add
        add("POST", "/reset", lambda r: _then(self.reset, Response.json(200, {"reset": True})))
        add("POST", "/faults", self._admin_add_fault)
        add("GET", "/faults", lambda r: Response.json(200, {"rules": self.faults.list()}))
        add("DELETE", "/faults", lambda r: _then(self.faults.clear, Response.empty(204)))
        add("GET", "/journal", lambda r: Response.json(200, self.journal.snapshot()))
        add("DELETE", "/journal", lambda r: _then(self.journal.clear, Response.empty(204)))
        add("POST", "/clock/advance", self._admin_advance)
        add("GET", "/clock", lambda r: Response.json(200, {"now": self.clock.now()}))
        add("POST", "/seed", lambda r: Response.json(200, self.seed(_json_body(r))))

    def _admin_add_fault(self, request: Request) -> Response:
        spec = _json_body(request)
        if not isinstance(spec, dict):
            raise AdminError(400, "a fault rule is a JSON object")
        return Response.json(201, self.faults.add(spec).describe())

    def _admin_advance(self, request: Request) -> Response:
        body = _json_body(request)
        seconds = float(body.get("seconds", 0)) if isinstance(body, dict) else 0.0
        self.clock.advance(seconds)
        return Response.json(200, {"now": self.clock.now()})


def _then(action: Callable[[], None], response: Response) -> Response:
    action()
    return response


def _json_body(request: Request) -> Any:
    try:
        return request.json()
    except ValueError as exc:
        raise AdminError(400, f"body is not JSON: {exc}") from exc


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client hang-ups and TLS handshake failures are routine here; stay quiet."""


def _make_handler(emulator: Emulator, ctx: ssl.SSLContext) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Buffer each response so headers and body leave in one segment (else delayed ACKs cost ~40 ms).
        wbufsize = 1 << 16
        server_version = f"{emulator.name}-emulator"
        sys_version = ""

        def setup(self) -> None:
            # The TLS handshake runs here, in the connection's own thread, not in the accept loop.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.request = ctx.wrap_socket(self.request, server_side=True)
            super().setup()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the journal records requests."""

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request.parse(self.command, self.path, cast(Mapping[str, str], self.headers), body)
            response = emulator.handle(request)
            if response is None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    return _Handler


def dumps(obj: Any) -> str:
    """Compact JSON (for printing ready lines and seeds)."""
    return json.dumps(obj, separators=(",", ":"))
