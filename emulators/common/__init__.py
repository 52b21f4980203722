"""Scaffolding shared by the HTTP emulators (ARM, Kubernetes).

Server
    `Emulator(clock=None, ca=None)`: HTTPS (stdlib ThreadingHTTPServer, TLS from a `trustme` CA) on 127.0.0.1.
    `.start(host="127.0.0.1", port=0)` serves in a daemon thread and returns self; `.stop()`; context manager.
    `.url` (`https://127.0.0.1:P`), `.admin_url`, `.port`, `.ca_pem` (bytes), `.ca_file` (path, written on
    start), `.clock`, `.faults`, `.journal`, `.router`, `.admin_router`.
    Subclasses register routes with `self.router.add(method, "/a/{name}/b/{key:[a-z0-9-]+}", handler)` (or
    `add_regex`); a handler takes a `Request` (`method, path, query, headers, body, params`, `.arg(name)`,
    `.header(name)`, `.json()`) and returns a `Response` (`Response.json(status, obj, headers)`, `.text(...)`,
    `.empty(...)`). Overridable hooks: `reset_state()`, `seed(data) -> dict`, `not_found(req)`,
    `method_not_allowed(req)`, `internal_error(req, exc)`, `fault_response(rule, req)`, `journal_extra(req)`.
    Admin routes of a subclass go on `self.admin_router` (paths relative to `/_emulator`); raise
    `AdminError(status, message)` to refuse.

Clock
    `Clock()` is real time plus an offset; `VirtualClock(start)` stands still. Both have `now()` (epoch
    seconds), `utcnow()`, `timestamp()` (RFC 3339) and `advance(seconds)`. Emulators read time only from
    `self.clock`, and derive time-dependent state from it lazily, so tests advance time instead of sleeping.

Admin API (under `/_emulator`, never journaled, never faulted)
    POST   /reset            forget state, fault rules and journal (the clock keeps its time)
    POST   /faults           add a rule; body: {"path": regex searched in the path (default ".*"),
                             "method": "GET"|"*", "status": int, "body": JSON or text, "headers": {...},
                             "times": N (default unlimited), "probability": 0..1, "seed": int (rule RNG),
                             "latency": seconds, "drop": bool}. `status` answers instead of the handler;
                             `drop` closes the socket without answering; `latency` alone delays and proceeds.
                             Rules are checked in order; the first that fires wins; a probability miss does
                             not use up `times`. Answers the rule with its "id".
    GET    /faults           {"rules": [... with "fired" counts]}
    DELETE /faults           remove all rules
    GET    /journal          {"entries": [{method, path, route, apiVersion, status (0 = dropped), durationMs,
                             time (clock), fault (rule id or null), extra}], "counters": {"METHOD route": n}}
    DELETE /journal          clear it
    POST   /clock/advance    {"seconds": N} -> {"now": t};   GET /clock -> {"now": t}
    POST   /seed             emulator-specific state

Client
    `EmulatorAdmin(base_url, ca_file)`: `reset()`, `seed(data)`, `add_fault(path, *, method, status, body,
    headers, times, probability, latency, drop, seed) -> rule`, `faults()`, `clear_faults()`, `journal()`,
    `clear_journal()`, `advance_clock(seconds)`, and `call(method, path, body=None, *, text=None)` for
    emulator-specific admin routes. Errors raise `AdminCallError(status, body)`.

Process
    `process.run(build, name, argv)` / `process.main(build, name)`: `--host`, `--port`, `--state seed.yaml`,
    `--ca-file out.pem`; prints `<name> emulator ready on https://127.0.0.1:P` and serves until SIGTERM or
    SIGINT.
"""

from .admin import AdminCallError, EmulatorAdmin
from .clock import Clock, VirtualClock
from .faults import FaultRule, FaultRules
from .http import Request, Response, Route, Router
from .journal import Journal, JournalEntry
from .server import ADMIN_PREFIX, AdminError, Emulator

__all__ = [
    "ADMIN_PREFIX",
    "AdminCallError",
    "AdminError",
    "Clock",
    "Emulator",
    "EmulatorAdmin",
    "FaultRule",
    "FaultRules",
    "Journal",
    "JournalEntry",
    "Request",
    "Response",
    "Route",
    "Router",
    "VirtualClock",
]
