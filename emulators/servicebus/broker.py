"""The Service Bus emulator as a library: a proton reactor on a daemon thread, plus inspection for tests."""

from __future__ import annotations

import datetime
import os
import threading
from collections.abc import Callable, Iterable
from types import TracebackType

from proton import Event
from proton.reactor import ApplicationEvent, Container, EventInjector

from emulators.servicebus.cbs import JwtVerifier, PutToken, TokenPolicy
from emulators.servicebus.handlers import BrokerHandler
from emulators.servicebus.state import BrokerState, Clock, ManualClock, QueueConfig, QueueCounts, ShiftedClock

# The emulator accepts any key; this is the one the official emulator documents.
SAS_KEY_NAME = "RootManageSharedAccessKey"
SAS_KEY_VALUE = "SAS_KEY_VALUE"
_START_TIMEOUT = 5.0


class _ReactorHandler(BrokerHandler):
    """The broker handler plus the control events the owning thread injects."""

    def __init__(
        self,
        state: BrokerState,
        tokens: TokenPolicy,
        started: threading.Event,
        release: Callable[[], None],
    ) -> None:
        super().__init__(state, tokens)
        self._started = started
        self._release = release

    def on_reactor_init(self, event: Event) -> None:
        container = event.container
        self.bind(container.schedule, lambda: container.now)
        self._started.set()

    def on_broker_sweep(self, event: Event) -> None:
        self.sweep()
        done: threading.Event = event.context.subject  # type: ignore[union-attr]
        done.set()

    def on_broker_stop(self, event: Event) -> None:
        self.close_connections()
        self._release()


class ServiceBusEmulator:
    """An AMQP 1.0 broker that `azure-servicebus` reaches with `UseDevelopmentEmulator=true`.

    `with ServiceBusEmulator(["orders"]) as sb:`, then give `sb.connection_string` to `ServiceBusClient`.
    Pass `clock=ShiftedClock()` (or `ManualClock()`) to drive lock expiry with `advance_clock`, not waiting.
    """

    def __init__(
        self,
        queues: Iterable[QueueConfig | str] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
    ) -> None:
        configs = [QueueConfig.parse(queue) if isinstance(queue, str) else queue for queue in queues]
        self.state = BrokerState(configs, clock=clock) if clock else BrokerState(configs)
        self.tokens = TokenPolicy()  # kept across stop and start, like the queues
        self.host = host
        self._requested_port = port
        self.port = port
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self._connections_before_start = 0  # counted by earlier runs of this emulator (stop, then start)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> ServiceBusEmulator:
        """Listen, start the reactor thread, and return once it serves connections."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        self._handler = _ReactorHandler(self.state, self.tokens, self._started, self._release)
        self._container = Container(self._handler)
        self._acceptor = self._container.acceptor(self.host, str(self._requested_port))
        # Proton keeps the listening socket to itself; its selectable delegates to the socket (pinned 0.40.0).
        self.port = int(self._acceptor._selectable.getsockname()[1])
        self._injector = EventInjector()
        self._container.selectable(self._injector)
        name = f"servicebus-{self.port}"
        self._thread = threading.Thread(target=self._container.run, name=name, daemon=True)
        self._thread.start()
        if not self._started.wait(_START_TIMEOUT):
            raise RuntimeError("the Service Bus emulator did not start")
        return self

    def _release(self) -> None:
        """On the reactor thread: stop listening and let the reactor end."""
        self._acceptor.close()
        self._injector.close()
        self._container.stop()

    def stop(self, timeout: float = 5.0) -> None:
        """Close every connection and the listener, and end the reactor thread."""
        if self._thread is None:
            return
        self._injector.trigger(ApplicationEvent("broker_stop"))
        self._thread.join(timeout)
        self._thread = None
        self._connections_before_start += self._handler.connections_opened
        for fd in self._injector.pipe:  # proton never closes the injector's wake-up pipe
            os.close(fd)

    def __enter__(self) -> ServiceBusEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while the reactor thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def connection_string(self) -> str:
        """The connection string the SDK takes, in the official emulator's form."""
        return (
            f"Endpoint=sb://{self.host}:{self.port};SharedAccessKeyName={SAS_KEY_NAME};"
            f"SharedAccessKey={SAS_KEY_VALUE};UseDevelopmentEmulator=true;"
        )

    # -- claims-based security ---------------------------------------------------------------------------

    def trust_jwt(self, verifier: JwtVerifier | None) -> None:
        """Check `jwt` put-tokens with `verifier(token, audience)` (raising when invalid); None: grant all."""
        self.tokens.trust_jwt(verifier)

    def put_tokens(self) -> list[PutToken]:
        """Every put-token answered so far: type, entity, granted, verified client id (never the token)."""
        return self.tokens.journal()

    # -- queues and inspection ---------------------------------------------------------------------------

    def add_queue(self, queue: QueueConfig | str, **options: float) -> QueueConfig:
        """Create a queue while running: `add_queue("q", max_delivery_count=3, lock_duration=5)`."""
        config = queue if isinstance(queue, QueueConfig) else QueueConfig(queue, **options)  # type: ignore[arg-type]
        self.state.add_queue(config)
        return config

    def counts(self, queue: str) -> QueueCounts:
        """Active, locked and dead-lettered message counts of a queue."""
        return self.state.counts(queue)

    def message_count(self, queue: str) -> int:
        """Messages in the queue, locked ones included (Service Bus's active message count)."""
        return self.state.counts(queue).active

    def dead_letter_count(self, queue: str) -> int:
        """Messages in the queue's dead-letter sub-queue."""
        return self.state.counts(queue).dead_letter

    @property
    def connections_opened(self) -> int:
        """How many AMQP connections clients have opened since this emulator was created."""
        return self._connections_before_start + (self._handler.connections_opened if self._thread else 0)

    @property
    def open_connections(self) -> int:
        """How many client connections are open right now."""
        return len(self._handler.connections) if self._thread else 0

    def purge(self) -> None:
        """Drop all messages and locks, keeping the queues."""
        self.state.purge()

    def now(self) -> datetime.datetime:
        """The broker's current time (enqueued times and lock expiries are read from it)."""
        return datetime.datetime.fromtimestamp(self.state.clock(), datetime.UTC)

    def advance_clock(self, seconds: float) -> None:
        """Move the broker's clock forward and let it act on locks that expired meanwhile."""
        clock = self.state.clock
        if not isinstance(clock, ManualClock | ShiftedClock):
            raise TypeError("advance_clock needs clock=ManualClock() or clock=ShiftedClock()")
        clock.advance(seconds)
        if self.running:
            # Wait for the sweep, so that what a test does next sees the expired locks already released.
            done = threading.Event()
            self._injector.trigger(ApplicationEvent("broker_sweep", subject=done))
            if not done.wait(_START_TIMEOUT):
                raise RuntimeError("the Service Bus emulator did not process the clock change")
