"""The triggers' settings, read from the app settings on each request (cheap, and tests can change them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from activities.settings import number_setting
from connector.model import Connection
from connector.scope import ScopeViolation, connection_violation, is_within, parse_allowed_scopes
from sealing import key_from_setting

_TRUE = ("1", "true", "yes", "on")
DEFAULT_LIST_PAGE_SIZE = 100


def public_base_url(env: Mapping[str, str]) -> str:
    """The origin of every absolute URL the API emits (operation URLs, nextLink, the OpenAPI server).

    PUBLIC_BASE_URL when set (local runs: devhost's bound address), else https://WEBSITE_HOSTNAME (set by
    App Service on Azure), else "" and the URLs are host-relative. Never the request's Host header: the
    caller chooses it, and an SDK would poll, with its key, whatever host an operation URL names.
    """
    explicit = env.get("PUBLIC_BASE_URL", "").strip().rstrip("/")
    if explicit:
        return explicit
    hostname = env.get("WEBSITE_HOSTNAME", "").strip().rstrip("/")
    return f"https://{hostname}" if hostname else ""


@dataclass(frozen=True)
class TriggerSettings:
    """What the entry points need: scopes, the sealing key, the orchestration policy, queue names."""

    allowed_scopes: tuple[str, ...] = ()
    sealing_key: bytes | None = field(default=None, repr=False)
    cluster_ready_timeout_seconds: float = 3600
    extension_ready_timeout_seconds: float = 1800
    backoff_initial_seconds: float = 15
    backoff_max_seconds: float = 300
    max_parallel_clusters: int = 4
    transient_retry_deadline_seconds: float = 1800
    reconcile_remove_orphans: bool = False
    reconcile_jitter_seconds: float = 60
    events_queue: str = ""
    # The tenant listConfigurations reports (the activities write the same AZURE_TENANT_ID into Secrets).
    tenant_id: str = ""
    list_page_size: int = DEFAULT_LIST_PAGE_SIZE
    # The origin of every absolute URL the API emits; "" makes them host-relative (see `public_base_url`).
    public_base_url: str = ""
    # This host's instance (App Service's WEBSITE_INSTANCE_ID); "" locally, where the host name stands in.
    instance_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TriggerSettings:
        """Read the settings from environment variables (the Functions app settings)."""
        env = os.environ if env is None else env
        sealing = env.get("SECRET_SEALING_KEY", "").strip()
        return cls(
            allowed_scopes=parse_allowed_scopes(env.get("ALLOWED_SCOPES", "")),
            sealing_key=key_from_setting(sealing) if sealing else None,
            cluster_ready_timeout_seconds=number_setting(env, "CLUSTER_READY_TIMEOUT_SECONDS", 3600),
            extension_ready_timeout_seconds=number_setting(env, "EXTENSION_READY_TIMEOUT_SECONDS", 1800),
            backoff_initial_seconds=number_setting(env, "BACKOFF_INITIAL_SECONDS", 15),
            backoff_max_seconds=number_setting(env, "BACKOFF_MAX_SECONDS", 300),
            max_parallel_clusters=int(number_setting(env, "RECONCILE_MAX_PARALLEL_CLUSTERS", 4)),
            transient_retry_deadline_seconds=number_setting(env, "TRANSIENT_RETRY_DEADLINE_SECONDS", 1800),
            reconcile_remove_orphans=env.get("RECONCILE_REMOVE_ORPHANS", "").strip().lower() in _TRUE,
            reconcile_jitter_seconds=number_setting(env, "RECONCILE_JITTER_SECONDS", 60),
            events_queue=env.get("SERVICEBUS_EVENTS_QUEUE", "").strip(),
            tenant_id=env.get("AZURE_TENANT_ID", "").strip(),
            list_page_size=max(1, int(number_setting(env, "LIST_PAGE_SIZE", DEFAULT_LIST_PAGE_SIZE))),
            public_base_url=public_base_url(env),
            instance_id=env.get("WEBSITE_INSTANCE_ID", "").strip(),
        )

    def policy(self) -> dict[str, Any]:
        """The orchestration policy every orchestration input carries (orchestrators never read settings)."""
        return {
            "clusterReadyTimeoutSeconds": self.cluster_ready_timeout_seconds,
            "extensionReadyTimeoutSeconds": self.extension_ready_timeout_seconds,
            "backoffInitialSeconds": self.backoff_initial_seconds,
            "backoffMaxSeconds": self.backoff_max_seconds,
            "maxParallelClusters": self.max_parallel_clusters,
            "transientRetryDeadlineSeconds": self.transient_retry_deadline_seconds,
            "removeOrphans": self.reconcile_remove_orphans,
        }

    def allows(self, resource_id: str) -> bool:
        """True if the resource lies inside one of ALLOWED_SCOPES (a subscription or a resource group).

        No ALLOWED_SCOPES at all allows nothing: an instance must be told what it may act on.
        """
        return is_within(resource_id, self.allowed_scopes)

    def scope_violation(self, connection: Connection) -> ScopeViolation | None:
        """The first resource the connection names outside ALLOWED_SCOPES, or None when all are inside.

        Checked: cluster, target, the workload identity's subscription and id, the secret store's vault.
        """
        return connection_violation(connection, self.allowed_scopes)
