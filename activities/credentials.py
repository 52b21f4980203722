"""The product's DefaultAzureCredential, built in one place (ARM, clusters, identity-based connections).

An authority host that is not one of Microsoft's clouds (the local Entra stand-in, AZURE_AUTHORITY_HOST)
cannot be confirmed by MSAL's instance discovery, which asks login.microsoftonline.com: it is trusted as
configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import TokenCredential

# Authorities MSAL knows without instance discovery (public, US Government and China clouds).
WELL_KNOWN_AUTHORITIES = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)


def instance_discovery_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """`disable_instance_discovery=True` for an authority host outside Microsoft's clouds, else nothing."""
    host = urlsplit(environ.get("AZURE_AUTHORITY_HOST") or "https://login.microsoftonline.com").hostname
    return {} if host in WELL_KNOWN_AUTHORITIES else {"disable_instance_discovery": True}


def default_credential(environ: Mapping[str, str]) -> TokenCredential:
    """DefaultAzureCredential as on Azure: AZURE_CLIENT_ID / AZURE_CLIENT_SECRET / AZURE_TENANT_ID (and
    AZURE_AUTHORITY_HOST), workload identity, or the managed identity, whichever the environment provides."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(**instance_discovery_options(environ))
