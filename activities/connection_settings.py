"""The app's own storage and Service Bus connections, read as the Functions host reads a named connection.

A connection named NAME is either a connection string (the setting NAME) or identity-based (settings
`NAME__<property>`), as the Functions documentation defines them ("Common properties for identity-based
connections", functions-reference; Table: `__accountName` or `__tableServiceUri`; Service Bus:
`__fullyQualifiedNamespace`). Identity-based connections use `DefaultAzureCredential`, or
`ManagedIdentityCredential` (with `__clientId` for a user-assigned identity) when `__credential` is
`managedidentity`. When both forms are set, the connection string wins, as it does for the host.

A setting that is present but not understood (an unknown `__credential`, a `__clientId` without it, storage
settings that give no Table endpoint) is refused with a message naming it: falling back to the local
development storage, or to no events at all, would fail later and far from the cause.

Local emulators only (an assumption, written here and nowhere else): a `__fullyQualifiedNamespace` on a
loopback host with an explicit port (`127.0.0.1:5672`) is a development emulator spoken to in plain AMQP, as
the SDK does for a connection string with `UseDevelopmentEmulator=true`. Real namespaces never carry a port.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MANAGED_IDENTITY = "managedidentity"
DEVELOPMENT_STORAGE = "UseDevelopmentStorage=true"
PUBLIC_TABLE_SUFFIX = "table.core.windows.net"
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_STORAGE_PROPERTIES = {
    "accountName",
    "tableServiceUri",
    "blobServiceUri",
    "queueServiceUri",
    "credential",
    "clientId",
}
_SERVICEBUS_PROPERTIES = {"fullyQualifiedNamespace", "credential", "clientId"}


class ConnectionSettingError(ValueError):
    """A connection's settings are present but cannot be used; the message names the setting to fix."""


@dataclass(frozen=True)
class IdentityCredentialChoice:
    """Which credential an identity-based connection uses (`__credential`, `__clientId`)."""

    managed_identity: bool = False
    client_id: str = ""

    def build(self) -> Any:
        """The azure-identity credential these settings ask for."""
        if self.managed_identity:
            from azure.identity import ManagedIdentityCredential

            return ManagedIdentityCredential(client_id=self.client_id or None)
        from activities.credentials import default_credential

        return default_credential(os.environ)


@dataclass(frozen=True)
class StorageConnection:
    """The registry's Table endpoint: a connection string, or a service URI with an identity."""

    connection_string: str = field(default="", repr=False)
    table_service_uri: str = ""
    identity: IdentityCredentialChoice = IdentityCredentialChoice()

    @property
    def identity_based(self) -> bool:
        """True when the Table client authenticates with a token credential."""
        return not self.connection_string


@dataclass(frozen=True)
class ServiceBusConnection:
    """The namespace the app sends to: a connection string, or a namespace with an identity (or nothing)."""

    connection_string: str = field(default="", repr=False)
    namespace: str = ""
    identity: IdentityCredentialChoice = IdentityCredentialChoice()

    @property
    def configured(self) -> bool:
        """True when either form is set."""
        return bool(self.connection_string or self.namespace)

    @property
    def is_local_emulator(self) -> bool:
        """A loopback namespace with an explicit port: the development emulator (plain AMQP)."""
        host, _, port = self.namespace.rpartition(":")
        return bool(port.isdigit() and host.strip("[]") in _LOOPBACK_HOSTS)


def _text(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _properties(env: Mapping[str, str], connection: str) -> dict[str, str]:
    """The non-empty `connection__property` settings, keyed by property (case as the setting has it)."""
    prefix = connection.lower() + "__"
    return {
        name[len(prefix) :]: value.strip()
        for name, value in env.items()
        if name.lower().startswith(prefix) and value.strip()
    }


def _identity(connection: str, properties: Mapping[str, str]) -> IdentityCredentialChoice:
    lowered = {key.lower(): value for key, value in properties.items()}
    credential = lowered.get("credential", "")
    client_id = lowered.get("clientid", "")
    if credential and credential.lower() != MANAGED_IDENTITY:
        raise ConnectionSettingError(
            f"Setting {connection}__credential must be '{MANAGED_IDENTITY}' (or unset for "
            f"DefaultAzureCredential), got {credential!r}"
        )
    if client_id and not credential:
        raise ConnectionSettingError(
            f"Setting {connection}__clientId is only used with {connection}__credential={MANAGED_IDENTITY}; "
            "set both, or neither"
        )
    return IdentityCredentialChoice(managed_identity=bool(credential), client_id=client_id)


def _refuse_unknown(connection: str, properties: Mapping[str, str], known: set[str]) -> None:
    known_lowered = {name.lower() for name in known}
    unknown = sorted(f"{connection}__{key}" for key in properties if key.lower() not in known_lowered)
    if unknown:
        raise ConnectionSettingError(
            f"Unsupported setting(s) {', '.join(unknown)}: the app reads "
            + ", ".join(f"{connection}__{name}" for name in sorted(known))
        )


def storage_connection(env: Mapping[str, str], name: str = "AzureWebJobsStorage") -> StorageConnection:
    """The registry's storage connection from `name` or its identity-based `name__*` settings."""
    connection_string = _text(env, name)
    if connection_string:
        return StorageConnection(connection_string=connection_string)
    properties = _properties(env, name)
    if not properties:
        # Nothing set at all: the local development storage, as `func start` assumes for a blank setting.
        return StorageConnection(connection_string=DEVELOPMENT_STORAGE)
    _refuse_unknown(name, properties, _STORAGE_PROPERTIES)
    lowered = {key.lower(): value for key, value in properties.items()}
    identity = _identity(name, properties)
    table_uri = lowered.get("tableserviceuri", "")
    account = lowered.get("accountname", "")
    if not table_uri and account:
        table_uri = f"https://{account}.{PUBLIC_TABLE_SUFFIX}"
    if not table_uri:
        raise ConnectionSettingError(
            f"Settings {name}__* give no Table endpoint: set {name}__accountName, or {name}__tableServiceUri "
            "(the registry is a table; blob and queue URIs alone do not locate it)"
        )
    parsed = urlsplit(table_uri)
    if parsed.scheme != "https" or not parsed.netloc:
        raise ConnectionSettingError(
            f"Setting {name}__tableServiceUri must be an https URL (a bearer token is never sent over http), "
            f"got {table_uri!r}"
        )
    return StorageConnection(table_service_uri=table_uri.rstrip("/"), identity=identity)


def servicebus_connection(
    env: Mapping[str, str], name: str = "SERVICEBUS_CONNECTION"
) -> ServiceBusConnection:
    """The Service Bus connection from `name` or its identity-based `name__*` settings (may be unset)."""
    connection_string = _text(env, name)
    if connection_string:
        return ServiceBusConnection(connection_string=connection_string)
    properties = _properties(env, name)
    if not properties:
        return ServiceBusConnection()
    _refuse_unknown(name, properties, _SERVICEBUS_PROPERTIES)
    lowered = {key.lower(): value for key, value in properties.items()}
    identity = _identity(name, properties)
    namespace = lowered.get("fullyqualifiednamespace", "")
    if not namespace:
        raise ConnectionSettingError(
            f"Settings {name}__* need {name}__fullyQualifiedNamespace "
            "(e.g. mynamespace.servicebus.windows.net)"
        )
    if "://" in namespace or "/" in namespace:
        raise ConnectionSettingError(
            f"Setting {name}__fullyQualifiedNamespace is a host name such as "
            f"mynamespace.servicebus.windows.net, not a URL; got {namespace!r}"
        )
    return ServiceBusConnection(namespace=namespace, identity=identity)


def check_app_connections(env: Mapping[str, str] | None = None) -> None:
    """Refuse to start (ConnectionSettingError, naming the setting) on unusable connection settings."""
    env = os.environ if env is None else env
    storage_connection(env)
    servicebus_connection(env)
