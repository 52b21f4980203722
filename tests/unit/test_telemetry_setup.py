"""Telemetry is configured only when APPLICATIONINSIGHTS_CONNECTION_STRING is set, through the Azure Monitor
distro (azure-monitor-opentelemetry's configure_azure_monitor), and never twice: the Functions Python worker
may have configured it already. Run in a child process: OpenTelemetry's providers are process-wide."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# An ingestion endpoint nothing listens on: nothing leaves the machine.
CONNECTION = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"


def _run(code: str, **env: str) -> list[str]:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("APPLICATIONINSIGHTS")}
    child_env |= {"APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true", **env}
    done = subprocess.run(
        [sys.executable, "-c", code + "\nimport os; os._exit(0)"],
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_without_a_connection_string_nothing_is_configured() -> None:
    out = _run(
        "import telemetry\nfrom opentelemetry import trace\n"
        "print(telemetry.configure(), type(trace.get_tracer_provider()).__name__)"
    )
    assert out == ["False", "ProxyTracerProvider"]


def test_with_a_connection_string_the_distro_installs_the_sdk_providers_once() -> None:
    out = _run(
        "import telemetry\nfrom opentelemetry import metrics, trace\n"
        "print(telemetry.configure(), telemetry.configure(), type(trace.get_tracer_provider()).__name__,"
        " type(metrics.get_meter_provider()).__name__)",
        APPLICATIONINSIGHTS_CONNECTION_STRING=CONNECTION,
    )
    assert out == ["True", "True", "TracerProvider", "MeterProvider"]


def test_a_provider_the_worker_installed_is_left_alone() -> None:
    out = _run(
        "from opentelemetry import trace\nfrom opentelemetry.sdk.trace import TracerProvider\n"
        "mine = TracerProvider()\ntrace.set_tracer_provider(mine)\nimport telemetry\n"
        "print(telemetry.configure(), trace.get_tracer_provider() is mine)",
        APPLICATIONINSIGHTS_CONNECTION_STRING=CONNECTION,
    )
    assert out == ["False", "True"]


def test_entra_ingestion_is_read_from_the_authentication_string() -> None:
    """The format the Functions host documents for APPLICATIONINSIGHTS_AUTHENTICATION_STRING."""
    from telemetry.setup import entra_ingestion

    assert entra_ingestion("Authorization=AAD;ClientId=11111111-2222-3333-4444-555555555555") == (
        "11111111-2222-3333-4444-555555555555"
    )
    assert entra_ingestion("Authorization=AAD") == ""  # the system-assigned identity
    assert entra_ingestion("") is None


def test_with_entra_ingestion_the_exporters_authenticate_with_the_managed_identity() -> None:
    out = _run(
        "import telemetry\nfrom opentelemetry import trace\n"
        "ok = telemetry.configure()\n"
        "processors = trace.get_tracer_provider()._active_span_processor._span_processors\n"
        "exporters = [getattr(p, 'span_exporter', None) for p in processors]\n"
        "print(ok, [type(getattr(e, '_credential', None)).__name__ for e in exporters])",
        APPLICATIONINSIGHTS_CONNECTION_STRING=CONNECTION,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING="Authorization=AAD;ClientId=11111111-2222-3333-4444-555555555555",
    )
    assert out[0] == "True" and "ManagedIdentityCredential" in " ".join(out[1:]), out
