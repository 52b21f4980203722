"""The app's telemetry: OpenTelemetry spans, metrics and structured logs, exported to Application Insights.

Import rule: this package imports the OpenTelemetry API (and, in `configure`, the Azure Monitor distro) and
nothing of ours; triggers, orchestrators and activities may all import it. Without a configured provider
every call here is a no-op, so tests and local runs pay nothing unless they install one.

What is emitted (names in `signals.py`):
- spans: one per HTTP request (`http <route>`), per orchestration episode (`orchestration <name>`: once per
  execution of the orchestrator function, never for replayed history), per activity (`activity <name>`);
- metrics: operations by kind and outcome, operation duration, activity retries and throttles by cause,
  reconcile drift and repairs by action, connection states recorded;
- log records with the same dimensions as attributes (Application Insights' customDimensions).
Only the dimensions in `signals.ATTRIBUTES` ever leave, and only as ids, names, codes and numbers: no
exception text, no payload, so no secret can ride along.
"""

from telemetry.setup import configure
from telemetry.signals import (
    ATTRIBUTES,
    activity_retried,
    activity_span,
    connection_state_recorded,
    http_span,
    log,
    operation_completed,
    orchestration_episode,
    reconcile_drift,
    reconcile_repair,
    traced_http,
)

__all__ = [
    "ATTRIBUTES",
    "activity_retried",
    "activity_span",
    "configure",
    "connection_state_recorded",
    "http_span",
    "log",
    "operation_completed",
    "orchestration_episode",
    "reconcile_drift",
    "reconcile_repair",
    "traced_http",
]
