"""What the app's telemetry lets out: the allowed dimensions and error codes only, never an exception's
text nor an attribute outside `telemetry.ATTRIBUTES` (a secret cannot ride along)."""

from __future__ import annotations

import logging

import pytest

from telemetry import activity_span, log
from tests.fixtures.telemetry import TelemetryCapture, telemetry_capture  # noqa: F401

CANARY = "canary-3f1c9e-not-for-telemetry"


class Refused(Exception):
    """An activity failure as ConnectorFailure carries it: a classified code, a message."""

    error = type("Error", (), {"code": "AuthorizationFailed"})()


def test_a_failed_activity_span_carries_the_code_not_the_message(
    telemetry_capture: TelemetryCapture,  # noqa: F811
) -> None:
    telemetry_capture.clear()
    payload = {"linkerId": "/subscriptions/s/l", "password": CANARY, "clusterId": "/subscriptions/s/c"}
    with pytest.raises(Refused), activity_span("apply_linker", payload):
        raise Refused(f"denied for key {CANARY}")
    (span,) = telemetry_capture.spans("activity apply_linker")
    assert span.status.description == "AuthorizationFailed"
    assert dict(span.attributes or {}) == {
        "activity": "apply_linker",
        "linker.id": "/subscriptions/s/l",
        "cluster.id": "/subscriptions/s/c",
        "error.code": "AuthorizationFailed",
    }
    assert CANARY not in span.to_json() and not span.events


def test_a_log_record_keeps_only_the_allowed_dimensions(
    telemetry_capture: TelemetryCapture,  # noqa: F811
) -> None:
    telemetry_capture.clear()
    log(logging.WARNING, "registry failure", error_code="RegistryUnavailable", connection_string=CANARY)
    (record,) = [r for r in telemetry_capture.logs() if r.log_record.body == "registry failure"]
    attributes = dict(record.log_record.attributes or {})
    assert attributes.get("error.code") == "RegistryUnavailable"
    assert "connection.string" not in attributes and CANARY not in "\n".join(telemetry_capture.texts())
