"""Turning telemetry on: the Azure Monitor OpenTelemetry distro, when Application Insights is configured."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from telemetry.signals import LOGGER_NAME

CONNECTION_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"

_configured = False


def configure(env: Mapping[str, str] | None = None) -> bool:
    """Configure the distro from APPLICATIONINSIGHTS_CONNECTION_STRING; False, doing nothing, when unset."""
    global _configured
    env = os.environ if env is None else env
    connection = env.get(CONNECTION_SETTING, "").strip()
    if not connection or _configured:
        return _configured
    if _provider_installed():
        # The Functions Python worker configures the distro itself when PYTHON_ENABLE_OPENTELEMETRY (or
        # PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY) is set; configuring again would export twice.
        return False
    from azure.monitor.opentelemetry import configure_azure_monitor

    # Only the app's structured records are exported as logs (the SDKs' own loggers stay with the host).
    configure_azure_monitor(connection_string=connection, logger_name=LOGGER_NAME)
    logging.getLogger(LOGGER_NAME).setLevel(logging.INFO)  # the structured records are INFO and above
    _configured = True
    return True


def _provider_installed() -> bool:
    """True when an SDK tracer provider is already the global one (someone configured OpenTelemetry)."""
    from opentelemetry import trace

    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)
