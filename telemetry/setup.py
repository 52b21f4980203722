"""Turning telemetry on: the Azure Monitor OpenTelemetry distro, when Application Insights is configured."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from telemetry.signals import LOGGER_NAME

CONNECTION_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
# "Authorization=AAD[;ClientId=<user-assigned identity>]": Microsoft Entra authenticated ingestion, which an
# Application Insights resource with local authentication disabled (as infra/ deploys it) requires.
AUTHENTICATION_SETTING = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"

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
    options: dict[str, object] = {}
    entra = entra_ingestion(env.get(AUTHENTICATION_SETTING, ""))
    if entra is not None:
        from azure.identity import ManagedIdentityCredential

        options["credential"] = ManagedIdentityCredential(client_id=entra or None)
    configure_azure_monitor(connection_string=connection, logger_name=LOGGER_NAME, **options)
    logging.getLogger(LOGGER_NAME).setLevel(logging.INFO)  # the structured records are INFO and above
    _configured = True
    return True


def entra_ingestion(authentication: str) -> str | None:
    """The managed identity's client id ("" for the system-assigned one) when the authentication string asks
    for Microsoft Entra ingestion (`Authorization=AAD`), else None (ingestion by instrumentation key)."""
    fields = dict(
        (key.strip().lower(), value.strip())
        for key, _, value in (part.partition("=") for part in authentication.split(";"))
        if key.strip()
    )
    if fields.get("authorization", "").lower() != "aad":
        return None
    return fields.get("clientid", "")


def _provider_installed() -> bool:
    """True when an SDK tracer provider is already the global one (someone configured OpenTelemetry)."""
    from opentelemetry import trace

    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)
