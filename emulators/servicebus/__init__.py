"""A local Service Bus stand-in: an AMQP 1.0 broker that the `azure-servicebus` SDK talks to."""

from emulators.servicebus.broker import ServiceBusEmulator
from emulators.servicebus.state import ManualClock, QueueConfig, QueueCounts, ShiftedClock

__all__ = ["ManualClock", "QueueConfig", "QueueCounts", "ServiceBusEmulator", "ShiftedClock"]
