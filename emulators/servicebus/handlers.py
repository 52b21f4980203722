"""The proton event handler: routes links by address, and turns transfers and dispositions into state changes.

Addresses the SDK uses (keyed on the URL path; the scheme is `amqps` even over plain AMQP):
- `$cbs`: claims-based security, a request/response pair of links; put-tokens decided by `cbs.TokenPolicy`.
- `<queue>` and `<queue>/$deadletterqueue`: a client sender enqueues, a client receiver consumes.
- `<queue>/$management`: answered with status 501 for every operation (peek, renew-lock, schedule, ...).
Sessions and topics are refused when the link attaches, with `amqp:not-implemented`.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from proton import Condition, Delivery, Endpoint, Event, Handler, Link, Message, Terminus, int32, symbol
from proton.handlers import Handshaker

from emulators.servicebus import wire
from emulators.servicebus.cbs import TokenPolicy
from emulators.servicebus.errors import BrokerError, NotAllowed, NotImplementedByEmulator
from emulators.servicebus.state import BrokerState, Entity, Outcome

_log = logging.getLogger(__name__)

CBS = "$cbs"
MANAGEMENT_SUFFIX = "/$management"
SESSION_FILTER = "com.microsoft:session-filter"
DEAD_LETTER_REASON_KEY = "DeadLetterReason"
DEAD_LETTER_DESCRIPTION_KEY = "DeadLetterErrorDescription"
# Credit granted to client senders; replenished one for one as transfers arrive.
INCOMING_CREDIT = 100

Scheduler = Callable[[float, Handler], Any]
_EventMethod = Callable[["BrokerHandler", Event], None]


def entity_path(address: str | None) -> str:
    """The entity path of a link address: `amqps://host:port/q/$deadletterqueue` → `q/$deadletterqueue`."""
    if not address:
        return ""
    parsed = urlparse(address)
    path = parsed.path if parsed.scheme else address
    return path.strip("/")


@dataclass
class Route:
    """What a link is for, decided when it attaches."""

    kind: str  # "queue", "request" ($cbs / $management requests), "reply", or "refused"
    path: str  # lower-cased entity path, or "$cbs" / "<queue>/$management"
    outbox: list[bytes] = field(default_factory=list)  # replies waiting for credit


def _route(link: Link) -> Route:
    route: Route = getattr(link, "route", None) or Route("refused", "")
    return route


def _guarded(method: _EventMethod) -> _EventMethod:
    """Keep the reactor alive when handling one event fails: log it and close that client's connection."""

    @functools.wraps(method)
    def guarded(self: BrokerHandler, event: Event) -> None:
        try:
            method(self, event)
        except Exception:
            _log.exception("the Service Bus emulator failed handling %s", event.type)
            connection = event.connection
            if connection is not None:
                connection.condition = _condition("amqp:internal-error", "The emulator failed; see its log.")
                connection.close()

    return guarded


class BrokerHandler(Handler):
    """Handles every connection of one broker; all calls happen on the reactor thread."""

    def __init__(self, state: BrokerState, tokens: TokenPolicy | None = None) -> None:
        super().__init__()
        self.state = state
        self.tokens = tokens or TokenPolicy()
        self.handlers = [Handshaker()]
        self.connections: list[Any] = []
        self.connections_opened = 0  # every client connection ever accepted (tests count reconnects)
        self._consumers: dict[str, list[Link]] = {}
        self._scheduler: Scheduler | None = None
        self._reactor_now: Callable[[], float] | None = None
        self._sweep_due: float | None = None

    def bind(self, scheduler: Scheduler, reactor_now: Callable[[], float]) -> None:
        """Give the handler the reactor's timer, used to expire locks while no client is active."""
        self._scheduler = scheduler
        self._reactor_now = reactor_now

    # -- connections -------------------------------------------------------------------------------------

    def on_connection_init(self, event: Event) -> None:
        self.connections.append(event.connection)
        self.connections_opened += 1

    def on_connection_bound(self, event: Event) -> None:
        # Clients may skip SASL (the SDK does with UseDevelopmentEmulator); if they use it, ANONYMOUS does.
        if event.transport is not None:
            event.transport.sasl().allowed_mechs("ANONYMOUS")

    def close_connections(self) -> None:
        """Close every client connection, and its transport so that proton releases the socket."""
        for connection in list(self.connections):
            connection.close()
            transport = connection.transport
            if transport is not None:
                transport.close_tail()
                transport.close_head()

    def on_connection_final(self, event: Event) -> None:
        if event.connection in self.connections:
            self.connections.remove(event.connection)

    def on_transport_closed(self, event: Event) -> None:
        self._forget_links(lambda link: link.connection == event.connection)

    def on_link_remote_close(self, event: Event) -> None:
        self._forget_links(lambda link: link == event.link)

    def _forget_links(self, doomed: Callable[[Link], bool]) -> None:
        for path, links in self._consumers.items():
            self._consumers[path] = [link for link in links if not doomed(link)]

    # -- attach --------------------------------------------------------------------------------------------

    @_guarded
    def on_link_remote_open(self, event: Event) -> None:
        link = _require(event.link)
        link.snd_settle_mode = link.remote_snd_settle_mode
        link.rcv_settle_mode = link.remote_rcv_settle_mode
        address = link.remote_source.address if link.is_sender else link.remote_target.address
        try:
            route = self._route_for(link, entity_path(address))
        except BrokerError as error:
            _log.info("refusing link to %r: %s", address, error.description)
            self._refuse_link(link, error)
            return
        link.route = route
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        link.open()
        if link.is_receiver:
            link.flow(INCOMING_CREDIT)
        elif route.kind == "queue":
            self._consumers.setdefault(route.path, []).append(link)

    def _route_for(self, link: Link, path: str) -> Route:
        if path == CBS or path.lower().endswith(MANAGEMENT_SUFFIX):
            return Route("request" if link.is_receiver else "reply", path.lower())
        if "/subscriptions/" in path.lower():
            raise NotImplementedByEmulator("topics and subscriptions")
        if link.is_sender and _has_session_filter(link):
            raise NotImplementedByEmulator("sessions")
        entity = self.state.entity(path)
        if link.is_receiver and entity.is_dead_letter:
            raise NotAllowed("Messages cannot be sent to a dead-letter sub-queue.")
        return Route("queue", entity.path.lower())

    @staticmethod
    def _refuse_link(link: Link, error: BrokerError) -> None:
        # As Service Bus does: attach with a null terminus on our side, then detach with the error. The SDK
        # treats a null terminus as a dead link at once instead of first sending on it.
        link.condition = _condition(error.condition, error.description)
        if link.is_sender:
            link.target.copy(link.remote_target)
            link.source.type = Terminus.UNSPECIFIED
        else:
            link.source.copy(link.remote_source)
            link.target.type = Terminus.UNSPECIFIED
        link.open()
        link.close()

    # -- transfers and dispositions ----------------------------------------------------------------------

    @_guarded
    def on_delivery(self, event: Event) -> None:
        link, delivery = _require(event.link), _require(event.delivery)
        if link.is_receiver:
            self._receive(link, delivery)
        elif delivery.updated:
            self._settle(delivery)

    @_guarded
    def on_link_flow(self, event: Event) -> None:
        link = _require(event.link)
        route = _route(link)
        if link.is_sender and route.kind == "queue":
            self._pump(route.path)
        elif link.is_sender:
            self._flush(link)

    def _receive(self, link: Link, delivery: Delivery) -> None:
        if not delivery.readable or delivery.partial:
            return
        raw = link.recv(delivery.pending) or b""
        link.advance()
        link.flow(1)
        route = _route(link)
        try:
            if route.kind == "request":
                self._answer_request(link, route, raw)
            else:
                entity = self.state.entity(route.path)
                payloads = wire.unbatch(raw)
                if any(wire.SCHEDULED_ENQUEUE_TIME in wire.message_annotations(p) for p in payloads):
                    # Delivering a scheduled message at once would hide timing bugs; refuse it instead.
                    raise NotImplementedByEmulator("scheduled messages (scheduled_enqueue_time_utc)")
                for payload in payloads:
                    self.state.enqueue(entity, payload)
                self._pump(route.path)
        except BrokerError as error:
            _reject(delivery, error.condition, error.description)
        except wire.DecodeError as error:
            _reject(delivery, "amqp:decode-error", str(error))
        else:
            delivery.update(Delivery.ACCEPTED)
            delivery.settle()

    def _settle(self, delivery: Delivery) -> None:
        """Apply a receiver's settlement and echo the outcome: the SDK waits for that echo."""
        token: uuid.UUID | None = getattr(delivery, "lock_token", None)
        remote = delivery.remote_state
        if token is None:
            delivery.settle()
            return
        reason: str | None = None
        description: str | None = None
        if remote == Delivery.ACCEPTED:
            outcome = Outcome.COMPLETE
        elif remote == Delivery.RELEASED:
            outcome = Outcome.RELEASE
        elif remote == Delivery.REJECTED:
            outcome = Outcome.DEAD_LETTER
            reason, description = _dead_letter_details(delivery.remote.condition)
        elif remote == Delivery.MODIFIED and delivery.remote.undeliverable:
            # The SDK defers a message this way; reading it back needs $management, which is not provided.
            error = NotImplementedByEmulator("message deferral")
            _reject(delivery, error.condition, error.description)
            return
        elif remote == Delivery.MODIFIED:
            outcome = Outcome.ABANDON
        else:
            return  # `received` is not an outcome: wait for one.
        try:
            entity = self.state.settle(token, outcome, reason, description)
        except BrokerError as error:
            _reject(delivery, error.condition, error.description)
            return
        if remote == Delivery.MODIFIED:
            delivery.local.failed = True
            delivery.local.undeliverable = False
        # A dead-letter is echoed as `rejected` without an error: an error would tell the SDK it failed.
        delivery.update(remote)
        delivery.settle()
        if outcome is not Outcome.COMPLETE:
            self._pump(entity.path.lower())
            self._pump(entity.queue.dead_letter.path.lower())

    # -- consumers ---------------------------------------------------------------------------------------

    def _pump(self, path: str) -> None:
        """Hand available messages to the entity's receivers, one each in turn, while they have credit."""
        links = [link for link in self._consumers.get(path, []) if _is_open(link)]
        if not links:
            return
        entity = self.state.entity(path)
        delivered = True
        while delivered:
            delivered = False
            for link in links:
                if link.credit > 0 and self._deliver_one(link, entity):
                    delivered = True
        for link in links:
            if link.drain_mode and link.credit > 0:
                link.drained()
        self._schedule_sweep()

    def _deliver_one(self, link: Link, entity: Entity) -> bool:
        if link.snd_settle_mode == Link.SND_SETTLED:
            message = self.state.take(entity)
            if message is None:
                return False
            delivery = link.delivery(uuid.uuid4().bytes_le)  # type: ignore[arg-type]  # proton takes bytes too
            link.send(wire.render_delivery(message, locked_until=None))
            link.advance()
            delivery.settle()
            return True
        lease = self.state.lease(entity)
        if lease is None:
            return False
        # The delivery tag is the lock token's bytes (little-endian UUID): the SDK reads the token from it.
        delivery = link.delivery(lease.token.bytes_le)  # type: ignore[arg-type]
        delivery.lock_token = lease.token
        link.send(wire.render_delivery(lease.message, locked_until=lease.locked_until))
        link.advance()
        return True

    # -- lock expiry -------------------------------------------------------------------------------------

    def sweep(self) -> None:
        """Release expired locks and redeliver what became available."""
        for entity in self.state.expire_locks():
            self._pump(entity.path.lower())
            self._pump(entity.queue.dead_letter.path.lower())
        self._schedule_sweep()

    @_guarded
    def on_timer_task(self, event: Event) -> None:
        self._sweep_due = None
        self.sweep()

    def _schedule_sweep(self) -> None:
        """Keep one reactor timer armed for the earliest lock expiry."""
        expiry = self.state.next_lock_expiry()
        if expiry is None or self._scheduler is None or self._reactor_now is None:
            return
        delay = max(0.0, expiry - self.state.clock()) + 0.001
        due = self._reactor_now() + delay
        if self._sweep_due is not None and self._sweep_due <= due:
            return
        self._sweep_due = due
        self._scheduler(delay, self)

    # -- $cbs and $management --------------------------------------------------------------------------

    def _answer_request(self, link: Link, route: Route, raw: bytes) -> None:
        request = Message()
        request.decode(raw)
        application: dict[str, Any]
        if route.path == CBS:
            put: dict[Any, Any] = dict(request.properties or {})
            properties = {str(key): value for key, value in put.items()}
            refusal = self.tokens.decide(
                str(properties.get("type", "")), str(properties.get("name", "")), request.body
            )
            if refusal is None:
                application = {"status-code": int32(200), "status-description": "OK"}
            else:
                application = {"status-code": int32(401), "status-description": refusal}
        else:
            request_properties: dict[Any, Any] = dict(request.properties or {})
            operation = str(request_properties.get("operation", ""))
            error = NotImplementedByEmulator(f"the management operation '{operation}'")
            application = {
                "statusCode": int32(error.status_code),
                "statusDescription": error.description,
                "errorCondition": symbol(error.condition),
            }
        reply = Message(correlation_id=request.id, address=request.reply_to, properties=application)
        self._reply(link, route, request.reply_to, reply.encode())

    def _reply(self, request_link: Link, route: Route, reply_to: str | None, encoded: bytes) -> None:
        for candidate in _links_of(request_link.connection):
            candidate_route = _route(candidate)
            answers = candidate_route.path == route.path or (
                reply_to is not None and candidate.remote_target.address == reply_to
            )
            if candidate.is_sender and candidate_route.kind == "reply" and answers:
                candidate_route.outbox.append(encoded)
                self._flush(candidate)
                return
        _log.warning("no reply link for a request on %r", route.path)

    def _flush(self, link: Link) -> None:
        outbox = _route(link).outbox
        while outbox and link.credit > 0:
            delivery = link.delivery(uuid.uuid4().bytes_le)  # type: ignore[arg-type]
            link.send(outbox.pop(0))
            link.advance()
            delivery.settle()


def _require(value: Any) -> Any:
    if value is None:
        raise RuntimeError("proton event without the expected endpoint")
    return value


def _reject(delivery: Delivery, condition: str, description: str) -> None:
    delivery.local.condition = _condition(condition, description)
    delivery.update(Delivery.REJECTED)
    delivery.settle()


def _condition(name: str, description: str) -> Condition:
    """An AMQP error with the `info` map Azure always sends: the SDK's sender reads that field unguarded."""
    return Condition(name, description, {symbol("com.microsoft:tracking-id"): str(uuid.uuid4())})


def _dead_letter_details(condition: Condition | None) -> tuple[str | None, str | None]:
    """Reason and description from a rejected outcome: the SDK puts them in the error's info map."""
    if condition is None:
        return None, None
    info: dict[str, Any] = {}
    if isinstance(condition.info, dict):
        info = {str(key): value for key, value in condition.info.items()}
    reason = info.get(DEAD_LETTER_REASON_KEY)
    description = info.get(DEAD_LETTER_DESCRIPTION_KEY, condition.description)
    return (None if reason is None else str(reason)), (None if description is None else str(description))


def _has_session_filter(link: Link) -> bool:
    data = link.remote_source.filter
    data.rewind()
    filters = data.get_object() if data.next() else None
    return isinstance(filters, dict) and any(str(key) == SESSION_FILTER for key in filters)


def _is_open(link: Link) -> bool:
    return bool(link.state & Endpoint.LOCAL_ACTIVE) and bool(link.state & Endpoint.REMOTE_ACTIVE)


def _links_of(connection: Any) -> list[Link]:
    links = []
    link = connection.link_head(Endpoint.LOCAL_ACTIVE)
    while link:
        links.append(link)
        link = link.next(Endpoint.LOCAL_ACTIVE)
    return links
