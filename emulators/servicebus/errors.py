"""Typed broker errors carrying the AMQP condition and the wording Azure Service Bus uses.

The SDK maps the condition to its exception class (`amqp:not-found` → MessagingEntityNotFoundError,
`com.microsoft:message-lock-lost` → MessageLockLostError, `amqp:not-implemented` → ServiceBusError), and
does not retry any of these, so a client fails at once instead of waiting out its retries.
"""

from __future__ import annotations

NOT_FOUND = "amqp:not-found"
NOT_IMPLEMENTED = "amqp:not-implemented"
NOT_ALLOWED = "amqp:not-allowed"
MESSAGE_LOCK_LOST = "com.microsoft:message-lock-lost"

# The error texts below follow the service's own messages, so that logs read as they would against Azure.
ENTITY_NOT_FOUND_TEXT = "The messaging entity '{address}' could not be found."
LOCK_LOST_TEXT = (
    "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the "
    "queue, or was received by a different receiver instance."
)
MAX_DELIVERY_COUNT_REASON = "MaxDeliveryCountExceeded"
MAX_DELIVERY_COUNT_TEXT = "Message could not be consumed after {count} delivery attempts."


class BrokerError(Exception):
    """An error the broker reports to the client as an AMQP condition."""

    condition = "amqp:internal-error"
    status_code = 500

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class EntityNotFound(BrokerError):
    """The address names no configured queue."""

    condition = NOT_FOUND
    status_code = 404

    def __init__(self, address: str) -> None:
        super().__init__(ENTITY_NOT_FOUND_TEXT.format(address=address))


class LockLost(BrokerError):
    """The lock token is unknown or its lock has expired."""

    condition = MESSAGE_LOCK_LOST
    status_code = 410

    def __init__(self) -> None:
        super().__init__(LOCK_LOST_TEXT)


class NotImplementedByEmulator(BrokerError):
    """A Service Bus feature this emulator does not provide."""

    condition = NOT_IMPLEMENTED
    status_code = 501

    def __init__(self, feature: str) -> None:
        super().__init__(f"Not supported by the local Service Bus emulator: {feature}.")


class NotAllowed(BrokerError):
    """An operation Service Bus itself refuses."""

    condition = NOT_ALLOWED
    status_code = 403
