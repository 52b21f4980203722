"""Latency of `publish_outcome` (one ConnectionOperationCompleted event) on the Service Bus emulator.

Events are published one after the other, as an activity slot would, through the process-wide path the
activities use (`activities.events.publish_outcome` with one `Clients`). The broker runs in this process on
127.0.0.1; every event is received back afterwards, so a figure never counts a message that was lost.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from activities.clients import Clients
from activities.events import publish_outcome
from activities.settings import Settings
from emulators.servicebus import ServiceBusEmulator

_QUEUE = "bench-events"
_LINKER = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-bench/providers/"
    "Microsoft.ContainerService/managedClusters/aks-bench/providers/Microsoft.ServiceLinker/linkers/bench"
)


@dataclass(frozen=True)
class Result:
    """Per-event latencies of one run, in seconds."""

    latencies: list[float]
    connections_opened: int

    @property
    def events(self) -> int:
        """How many events were published."""
        return len(self.latencies)

    def percentile(self, share: float) -> float:
        """The latency below which `share` (0..1) of the events were published, in seconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    @property
    def events_per_s(self) -> float:
        """Events per second, one after the other."""
        return self.events / sum(self.latencies)


def run(events: int = 200) -> Result:
    """Publish `events` outcomes in a row on a fresh emulator and time each call."""
    with ServiceBusEmulator([_QUEUE]) as emulator:
        clients = Clients(
            Settings(servicebus_connection=emulator.connection_string, servicebus_events_queue=_QUEUE)
        )
        latencies = []
        try:
            for index in range(events):
                payload = {
                    "operationId": f"bench-{index}",
                    "linkerId": _LINKER,
                    "kind": "connect",
                    "provisioningState": "Succeeded",
                }
                started = time.perf_counter()
                publish_outcome(payload, clients=clients)
                latencies.append(time.perf_counter() - started)
        finally:
            clients.close_servicebus()
        received = emulator.message_count(_QUEUE)
        if received != events:
            raise RuntimeError(f"published {events} events but the queue holds {received}")
        return Result(latencies, emulator.connections_opened)


def table(result: Result) -> str:
    """The figures as a Markdown table."""
    seconds = (
        result.percentile(0.5),
        result.percentile(0.95),
        max(result.latencies),
        statistics.fmean(result.latencies),
    )
    ms = [value * 1000 for value in seconds]
    return "\n".join(
        [
            "| events (one after the other) | p50 | p95 | max | mean | events/s | AMQP connections opened |",
            "|---|---|---|---|---|---|---|",
            f"| {result.events} | {ms[0]:.1f} ms | {ms[1]:.1f} ms | {ms[2]:.1f} ms | {ms[3]:.1f} ms "
            f"| {result.events_per_s:.1f} | {result.connections_opened} |",
        ]
    )
