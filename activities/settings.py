"""The activities' settings, read once from the environment (app settings; see local.settings.sample.json)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from activities.connection_settings import (
    ServiceBusConnection,
    StorageConnection,
    servicebus_connection,
    storage_connection,
)
from connector.scope import parse_allowed_scopes
from sealing import key_from_setting

PUBLIC_ARM_ENDPOINT = "https://management.azure.com"
DEFAULT_EXTENSION_TYPE = "microsoft.servicelinker.connection"


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    return env.get(name, default).strip()


def number_setting(env: Mapping[str, str], name: str, default: float) -> float:
    """A numeric app setting; the default when empty; a clear error naming the setting when not a number."""
    raw = _text(env, name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"Setting {name} must be a number, got {raw!r}") from None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _text(env, name).lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"Setting {name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything an activity needs to reach Azure, Kubernetes and storage."""

    arm_endpoint: str = PUBLIC_ARM_ENDPOINT
    # ALLOWED_SCOPES, enforced again on every ARM call (activities/scope_guard.py). Empty allows nothing.
    allowed_scopes: tuple[str, ...] = ()
    arm_ca_bundle: str | None = None
    # A fixed bearer token for the emulators; empty on Azure, where DefaultAzureCredential is used.
    arm_static_token: str | None = field(default=None, repr=False)
    arm_polling_interval_seconds: float = 30.0
    arm_retry_total: int = 5
    arm_retry_backoff_factor: float = 0.8
    # A throttling Retry-After longer than this is not slept through inside an activity: the activity fails as
    # THROTTLED with retry_after, and the orchestrator waits on a durable timer instead of holding a worker.
    arm_max_inline_retry_after_seconds: float = 30.0
    tenant_id: str = ""
    storage_connection: str = field(default="UseDevelopmentStorage=true", repr=False)
    # Identity-based registry storage (AzureWebJobsStorage__*), used instead of storage_connection when set.
    storage_identity: StorageConnection | None = None
    registry_table: str = "connections"
    # Connection and read timeout of every registry call, one attempt each: a store that is down or hung
    # fails the call within this time (503 at the API, a retried activity) instead of holding it.
    registry_timeout_seconds: float = 5.0
    sealing_key: bytes | None = field(default=None, repr=False)
    extension_type: str = DEFAULT_EXTENSION_TYPE
    extension_release_train: str = "stable"
    # Empty: auto-upgrade minor versions; otherwise the pinned version.
    extension_version: str = ""
    create_missing_namespace: bool = True
    servicebus_connection: str = field(default="", repr=False)
    # Identity-based Service Bus (SERVICEBUS_CONNECTION__*), used instead of servicebus_connection when set.
    servicebus_identity: ServiceBusConnection | None = None
    # Empty: outcome events are not sent (publish_outcome does no I/O).
    servicebus_events_queue: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from environment variables (the Functions app settings)."""
        env = os.environ if env is None else env
        sealing = _text(env, "SECRET_SEALING_KEY")
        storage = storage_connection(env)
        servicebus = servicebus_connection(env)
        return cls(
            arm_endpoint=(_text(env, "ARM_ENDPOINT") or PUBLIC_ARM_ENDPOINT).rstrip("/"),
            allowed_scopes=parse_allowed_scopes(_text(env, "ALLOWED_SCOPES")),
            arm_ca_bundle=_text(env, "ARM_CA_BUNDLE") or None,
            arm_static_token=_text(env, "ARM_STATIC_TOKEN") or None,
            arm_polling_interval_seconds=number_setting(env, "ARM_POLLING_INTERVAL_SECONDS", 30.0),
            arm_retry_total=int(number_setting(env, "ARM_RETRY_TOTAL", 5)),
            arm_retry_backoff_factor=number_setting(env, "ARM_RETRY_BACKOFF_FACTOR", 0.8),
            arm_max_inline_retry_after_seconds=number_setting(
                env, "ARM_MAX_INLINE_RETRY_AFTER_SECONDS", 30.0
            ),
            tenant_id=_text(env, "AZURE_TENANT_ID"),
            storage_connection=storage.connection_string,
            storage_identity=storage if storage.identity_based else None,
            registry_table=_text(env, "REGISTRY_TABLE") or "connections",
            registry_timeout_seconds=number_setting(env, "REGISTRY_TIMEOUT_SECONDS", 5.0),
            sealing_key=key_from_setting(sealing) if sealing else None,
            extension_type=_text(env, "EXTENSION_TYPE") or DEFAULT_EXTENSION_TYPE,
            extension_release_train=_text(env, "EXTENSION_RELEASE_TRAIN") or "stable",
            extension_version=_text(env, "EXTENSION_VERSION"),
            create_missing_namespace=_flag(env, "CREATE_MISSING_NAMESPACE", True),
            servicebus_connection=servicebus.connection_string,
            servicebus_identity=servicebus if servicebus.namespace else None,
            servicebus_events_queue=_text(env, "SERVICEBUS_EVENTS_QUEUE"),
        )

    @property
    def storage(self) -> StorageConnection:
        """The registry's storage connection, identity-based or by connection string."""
        return self.storage_identity or StorageConnection(connection_string=self.storage_connection)

    @property
    def servicebus(self) -> ServiceBusConnection:
        """The Service Bus connection events are sent on, identity-based or by connection string."""
        return self.servicebus_identity or ServiceBusConnection(connection_string=self.servicebus_connection)

    @property
    def uses_public_cloud(self) -> bool:
        """True when ARM is the public Azure endpoint (no emulator or sovereign override)."""
        return self.arm_endpoint.rstrip("/") == PUBLIC_ARM_ENDPOINT
