"""OpenTelemetry on a devhost run, read from the in-memory exporters: a connect operation yields a span per
HTTP request, per orchestration episode (never for replayed history) and per activity, with the linker,
operation and cluster ids; the metrics of operations, retries and throttles, drift and repairs, and
connection states; structured log records; and no secret anywhere in what is exported."""

from __future__ import annotations

import base64
import os
from typing import Any

from devhost.durable.history import EventType
from telemetry.signals import ATTRIBUTES
from tests.e2e.conftest import API, CLUSTER, E2E, blob_secret_body
from tests.fixtures.telemetry import TelemetryCapture, telemetry_capture  # noqa: F401

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
_THROTTLED = {"error": {"code": "TooManyRequests", "message": "The request is being throttled."}}


def _episodes(e2e: E2E, instance_id: str) -> int:
    history = e2e.host.host.engine.store.history(instance_id)
    return sum(1 for event in history if event.get("EventType") == EventType.OrchestratorStarted)


def _attributes(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


def test_a_connect_operation_yields_spans_metrics_and_logs_without_secrets(
    e2e: E2E,
    telemetry_capture: TelemetryCapture,  # noqa: F811
) -> None:
    capture = telemetry_capture
    capture.clear()
    before = {
        "operations": capture.total("linker.operations", operation_kind="connect", outcome="Succeeded"),
        "durations": capture.total("linker.operation.duration", operation_kind="connect"),
        "throttles": capture.total("linker.activity.throttles"),
        "retries": capture.total("linker.activity.retries"),
        "drift": capture.total("linker.reconcile.drift", action="ApplySecret"),
        "repairs": capture.total("linker.reconcile.repairs", action="ApplySecret", outcome="succeeded"),
        "succeeded": capture.total("linker.connections", state="Succeeded"),
    }
    # Three 429s in a row outlast the SDK's inline retries (ARM_RETRY_TOTAL=2): the orchestrator retries.
    e2e.arm.admin.add_fault(
        r".*/managedClusters/aks-demo-1$",
        method="GET",
        status=429,
        body=_THROTTLED,
        headers={"Retry-After": "0"},
        times=3,
    )

    status, headers, body = e2e.http("PUT", f"{LINKERS}/otel?api-version={API}", blob_secret_body())
    assert status == 201, body
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"
    instances = e2e.host.run(e2e.host.host.engine.list_instances())
    operation_id = next(i["instanceId"] for i in instances if i.get("name") == "connect")
    linker_id = f"{LINKERS}/otel"

    # One span per HTTP request, named by its route template (no ids in the name).
    http = [s for s in capture.spans("http PUT") if "linkers/{name}" in s.name]
    assert len(http) == 1 and _attributes(http[0])["http.response.status_code"] == 201
    # One span per orchestration episode, never one for replayed history.
    episodes = [
        s for s in capture.spans("orchestration connect") if _attributes(s)["operation.id"] == operation_id
    ]
    assert len(episodes) == _episodes(e2e, operation_id) >= 3
    assert all(_attributes(s)["linker.id"] == linker_id for s in episodes)
    assert [_attributes(s)["outcome"] for s in episodes].count("completed") == 1
    assert all("step" in _attributes(s) for s in episodes[1:])
    # One span per activity execution, with the ids its input names; the throttled ones carry the code.
    activities = capture.spans("activity ")
    names = {_attributes(s)["activity"] for s in activities}
    assert {"plan_connections", "apply_linker", "registry_update_status", "publish_outcome"} <= names
    assert all(
        _attributes(s)["linker.id"] == linker_id for s in activities if s.name == "activity publish_outcome"
    )
    throttled = [s for s in activities if _attributes(s).get("error.code") == "TooManyRequests"]
    assert throttled and all(_attributes(s)["cluster.id"].lower() == CLUSTER.lower() for s in throttled)

    after = {
        "operations": capture.total("linker.operations", operation_kind="connect", outcome="Succeeded"),
        "durations": capture.total("linker.operation.duration", operation_kind="connect"),
        "throttles": capture.total("linker.activity.throttles"),
        "retries": capture.total("linker.activity.retries"),
        "drift": capture.total("linker.reconcile.drift", action="ApplySecret"),
        "repairs": capture.total("linker.reconcile.repairs", action="ApplySecret", outcome="succeeded"),
        "succeeded": capture.total("linker.connections", state="Succeeded"),
    }
    delta = {name: after[name] - before[name] for name in before}
    assert delta == {
        "operations": 1,
        "durations": 1,
        "throttles": 1,
        "retries": 1,
        "drift": 1,
        "repairs": 1,
        "succeeded": 1,
    }, delta
    causes = {p.attributes.get("cause") for p in capture.points("linker.activity.throttles")}
    assert "TooManyRequests" in causes

    # Structured records: a fixed message and the dimensions as attributes (no printf-style text).
    records = [r for r in capture.logs() if r.log_record.body == "operation ended"]
    assert any(dict(r.log_record.attributes or {}).get("operation.id") == operation_id for r in records)
    retried = [r for r in capture.logs() if r.log_record.body == "activity retried"]
    assert retried and dict(retried[0].log_record.attributes or {})["cause"] == "TooManyRequests"

    # No secret anywhere: the key the Secret holds (and its base64 form), the sealing key, the storage key.
    secret = e2e.kube_secret(CLUSTER, "default", "sc-otel-secret")
    assert secret, "the connection's Secret was written"
    canaries = {value for value in secret.values() if len(value) >= 16}
    canaries |= {base64.b64encode(c.encode()).decode() for c in canaries}
    canaries.add(os.environ["SECRET_SEALING_KEY"])
    exported = "\n".join(capture.texts())
    assert canaries and not {c for c in canaries if c in exported}
    # Only the allowed dimensions are exported by the app's own signals.
    for span in capture.spans("orchestration ") + capture.spans("activity ") + capture.spans("http "):
        assert set(_attributes(span)) <= ATTRIBUTES, span.name
