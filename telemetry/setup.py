"""Turning telemetry on: the Azure Monitor OpenTelemetry distro, when Application Insights is configured."""

from __future__ import annotations

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
    from azure.monitor.opentelemetry import configure_azure_monitor

    # Only the app's structured records are exported as logs (the SDKs' own loggers stay with the host).
    configure_azure_monitor(connection_string=connection, logger_name=LOGGER_NAME)
    _configured = True
    return True
