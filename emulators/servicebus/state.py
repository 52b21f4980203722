"""Queues, messages and locks: the broker's state, free of AMQP so its rules read (and test) plainly.

Every method is thread-safe: the reactor thread mutates the state while tests inspect it from theirs.
Times are seconds since the epoch from an injectable clock, so lock expiry is tested without sleeping.
"""

from __future__ import annotations

import heapq
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum

from emulators.servicebus.errors import (
    MAX_DELIVERY_COUNT_REASON,
    MAX_DELIVERY_COUNT_TEXT,
    EntityNotFound,
    LockLost,
    NotAllowed,
)

DEAD_LETTER_SUFFIX = "/$deadletterqueue"
DEFAULT_MAX_DELIVERY_COUNT = 10
DEFAULT_LOCK_DURATION = 30.0

# Service Bus entity names: letters, digits, periods, hyphens, underscores and slashes, up to 260 characters.
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,259}$")

Clock = Callable[[], float]


class ManualClock:
    """A clock that moves only when told to: every time it reads is chosen by the test."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`."""
        with self._lock:
            self._now += seconds


class ShiftedClock:
    """Wall-clock time plus an offset a test can push forward: time runs, and can also jump."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Jump `seconds` ahead of wall-clock time."""
        with self._lock:
            self._offset += seconds


@dataclass(frozen=True)
class QueueConfig:
    """A queue's name and the two properties the broker honours."""

    name: str
    max_delivery_count: int = DEFAULT_MAX_DELIVERY_COUNT
    lock_duration: float = DEFAULT_LOCK_DURATION

    def __post_init__(self) -> None:
        if not _QUEUE_NAME.match(self.name) or self.name.lower().endswith(DEAD_LETTER_SUFFIX):
            raise ValueError(f"invalid queue name {self.name!r}")
        if self.max_delivery_count < 1:
            raise ValueError(f"maxDeliveryCount must be at least 1, got {self.max_delivery_count}")
        if self.lock_duration <= 0:
            raise ValueError(f"lockDuration must be positive, got {self.lock_duration}")

    @classmethod
    def parse(cls, spec: str) -> QueueConfig:
        """Parse `name[:maxDeliveryCount=N][:lockDuration=SECONDS]`, as given to `--queue`."""
        name, *options = spec.split(":")
        values: dict[str, str] = {}
        for option in options:
            key, sep, value = option.partition("=")
            if not sep or key not in ("maxDeliveryCount", "lockDuration"):
                raise ValueError(f"unknown queue option {option!r} in {spec!r}")
            values[key] = value
        return cls(
            name=name,
            max_delivery_count=int(values.get("maxDeliveryCount", DEFAULT_MAX_DELIVERY_COUNT)),
            lock_duration=float(values.get("lockDuration", DEFAULT_LOCK_DURATION)),
        )


@dataclass
class StoredMessage:
    """A message as the broker keeps it: the client's encoded bytes plus what the broker adds."""

    payload: bytes
    sequence_number: int
    enqueued_time: float
    delivery_count: int = 0
    dead_letter_reason: str | None = None
    dead_letter_description: str | None = None


@dataclass(eq=False)
class Entity:
    """A queue or its dead-letter sub-queue: available messages in sequence order, and the locked ones."""

    path: str
    queue: Queue
    _available: list[tuple[int, StoredMessage]] = field(default_factory=list)
    locked: dict[uuid.UUID, Lease] = field(default_factory=dict)

    @property
    def is_dead_letter(self) -> bool:
        """True for the `$deadletterqueue` sub-queue."""
        return self.path.endswith(DEAD_LETTER_SUFFIX)

    @property
    def available_count(self) -> int:
        """Messages a receiver could get now."""
        return len(self._available)

    def push(self, message: StoredMessage) -> None:
        """Make a message available again at its place in sequence order."""
        heapq.heappush(self._available, (message.sequence_number, message))

    def clear(self) -> None:
        """Forget every message, available or locked."""
        self._available.clear()
        self.locked.clear()

    def pop(self) -> StoredMessage | None:
        """Take the oldest available message, if any."""
        return heapq.heappop(self._available)[1] if self._available else None


@dataclass(eq=False)
class Lease:
    """A peek-lock: the message stays in its entity, hidden, until settled or until `locked_until`."""

    token: uuid.UUID
    message: StoredMessage
    entity: Entity
    locked_until: float


class Queue:
    """A configured queue with its dead-letter sub-queue."""

    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self.active = Entity(config.name, self)
        self.dead_letter = Entity(config.name + DEAD_LETTER_SUFFIX, self)
        self.next_sequence_number = 1


@dataclass(frozen=True)
class QueueCounts:
    """What a test can observe of a queue, like the runtime properties Service Bus reports."""

    active: int
    locked: int
    dead_letter: int


class Outcome(Enum):
    """How a receiver settled a peek-locked message."""

    COMPLETE = "complete"
    ABANDON = "abandon"
    DEAD_LETTER = "dead-letter"
    RELEASE = "release"


class BrokerState:
    """All queues of one broker, keyed case-insensitively as Service Bus does."""

    def __init__(self, queues: Iterable[QueueConfig] = (), clock: Clock = time.time) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._queues: dict[str, Queue] = {}
        self._leases: dict[uuid.UUID, Lease] = {}
        for config in queues:
            self.add_queue(config)

    def add_queue(self, config: QueueConfig) -> None:
        """Create a queue; creating an identical one again is a no-op, a different one is refused."""
        with self._lock:
            existing = self._queues.get(config.name.lower())
            if existing is not None and existing.config != config:
                raise ValueError(f"queue {config.name!r} already exists with {existing.config}")
            if existing is None:
                self._queues[config.name.lower()] = Queue(config)

    def queue_names(self) -> list[str]:
        """Names of all configured queues."""
        with self._lock:
            return [queue.config.name for queue in self._queues.values()]

    def entity(self, path: str) -> Entity:
        """Resolve `queue` or `queue/$deadletterqueue`; anything else is not found."""
        key = path.strip("/").lower()
        with self._lock:
            if key.endswith(DEAD_LETTER_SUFFIX):
                queue = self._queues.get(key[: -len(DEAD_LETTER_SUFFIX)])
                if queue is not None:
                    return queue.dead_letter
            else:
                queue = self._queues.get(key)
                if queue is not None:
                    return queue.active
        raise EntityNotFound(path)

    def enqueue(self, entity: Entity, payload: bytes) -> StoredMessage:
        """Accept a message sent to a queue, stamping its sequence number and enqueued time."""
        if entity.is_dead_letter:
            raise NotAllowed("Messages cannot be sent to a dead-letter sub-queue.")
        with self._lock:
            queue = entity.queue
            message = StoredMessage(payload, queue.next_sequence_number, self.clock())
            queue.next_sequence_number += 1
            entity.push(message)
            return message

    def lease(self, entity: Entity) -> Lease | None:
        """Lock the oldest available message for one lock duration (peek-lock)."""
        with self._lock:
            message = entity.pop()
            if message is None:
                return None
            locked_until = self.clock() + entity.queue.config.lock_duration
            lease = Lease(uuid.uuid4(), message, entity, locked_until)
            entity.locked[lease.token] = lease
            self._leases[lease.token] = lease
            return lease

    def take(self, entity: Entity) -> StoredMessage | None:
        """Remove and return the oldest available message (receive-and-delete)."""
        with self._lock:
            return entity.pop()

    def settle(
        self,
        token: uuid.UUID,
        outcome: Outcome,
        reason: str | None = None,
        description: str | None = None,
    ) -> Entity:
        """Apply a receiver's outcome to a locked message; returns the entity whose messages changed."""
        with self._lock:
            lease = self._leases.get(token)
            if lease is None or lease.locked_until <= self.clock():
                raise LockLost()
            self._drop_lease(lease)
            message, entity = lease.message, lease.entity
            if outcome is Outcome.ABANDON:
                self._fail_delivery(lease)
            elif outcome is Outcome.RELEASE:
                # A released message was never handed to the application: no delivery attempt is counted.
                entity.push(message)
            elif outcome is Outcome.DEAD_LETTER:
                self._dead_letter(message, entity, reason, description)
            return entity

    def expire_locks(self) -> list[Entity]:
        """Return expired locks' messages to their queues (counting a failed delivery); list what changed."""
        with self._lock:
            now = self.clock()
            expired = [lease for lease in self._leases.values() if lease.locked_until <= now]
            for lease in expired:
                self._drop_lease(lease)
                self._fail_delivery(lease)
            return list(dict.fromkeys(lease.entity for lease in expired))

    def next_lock_expiry(self) -> float | None:
        """When the earliest lock runs out, or None when nothing is locked."""
        with self._lock:
            return min((lease.locked_until for lease in self._leases.values()), default=None)

    def counts(self, name: str) -> QueueCounts:
        """Active (available + locked), locked and dead-lettered message counts of a queue."""
        with self._lock:
            queue = self.entity(name).queue
            locked = len(queue.active.locked)
            dead_letter = queue.dead_letter.available_count + len(queue.dead_letter.locked)
            return QueueCounts(queue.active.available_count + locked, locked, dead_letter)

    def purge(self) -> None:
        """Drop every message and lock, keeping the queues (a reset between tests)."""
        with self._lock:
            self._leases.clear()
            for queue in self._queues.values():
                queue.active.clear()
                queue.dead_letter.clear()

    def _drop_lease(self, lease: Lease) -> None:
        del self._leases[lease.token]
        del lease.entity.locked[lease.token]

    def _fail_delivery(self, lease: Lease) -> None:
        message, entity = lease.message, lease.entity
        message.delivery_count += 1
        max_count = entity.queue.config.max_delivery_count
        if message.delivery_count >= max_count and not entity.is_dead_letter:
            description = MAX_DELIVERY_COUNT_TEXT.format(count=max_count)
            self._dead_letter(message, entity, MAX_DELIVERY_COUNT_REASON, description)
        else:
            entity.push(message)

    def _dead_letter(
        self, message: StoredMessage, entity: Entity, reason: str | None, description: str | None
    ) -> None:
        message.dead_letter_reason = reason
        message.dead_letter_description = description
        entity.queue.dead_letter.push(message)
