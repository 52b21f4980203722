"""The triggers' settings, read from the app settings on each request (cheap, and tests can change them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from activities.settings import number_setting
from connector.model import Connection
from connector.policy import Policy
from connector.scope import ScopeViolation, connection_violation, is_within, parse_allowed_scopes
from sealing import key_from_setting

_TRUE = ("1", "true", "yes", "on")
DEFAULT_LIST_PAGE_SIZE = 100
# The app setting of each numeric Policy field. An unset setting keeps Policy's default (connector/policy.py).
POLICY_SETTINGS = {
    "cluster_ready_timeout_seconds": "CLUSTER_READY_TIMEOUT_SECONDS",
    "extension_ready_timeout_seconds": "EXTENSION_READY_TIMEOUT_SECONDS",
    "provider_ready_timeout_seconds": "PROVIDER_READY_TIMEOUT_SECONDS",
    "backoff_initial_seconds": "BACKOFF_INITIAL_SECONDS",
    "backoff_max_seconds": "BACKOFF_MAX_SECONDS",
    "max_parallel_clusters": "RECONCILE_MAX_PARALLEL_CLUSTERS",
    "transient_retry_deadline_seconds": "TRANSIENT_RETRY_DEADLINE_SECONDS",
}
POLICY_FLAGS = {"remove_orphans": "RECONCILE_REMOVE_ORPHANS"}


def policy_from_env(env: Mapping[str, str]) -> Policy:
    """The orchestration policy from the app settings; each unset setting keeps Policy's default."""
    default = Policy()
    values: dict[str, Any] = {
        name: number_setting(env, setting, getattr(default, name))
        for name, setting in POLICY_SETTINGS.items()
    }
    values["max_parallel_clusters"] = int(values["max_parallel_clusters"])
    for name, setting in POLICY_FLAGS.items():
        values[name] = env.get(setting, "").strip().lower() in _TRUE
    return replace(default, **values)


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
    # Budgets, backoff and opt-ins of every orchestration; the defaults are Policy's (connector/policy.py).
    orchestration_policy: Policy = field(default_factory=Policy)
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
            orchestration_policy=policy_from_env(env),
            reconcile_jitter_seconds=number_setting(env, "RECONCILE_JITTER_SECONDS", 60),
            events_queue=env.get("SERVICEBUS_EVENTS_QUEUE", "").strip(),
            tenant_id=env.get("AZURE_TENANT_ID", "").strip(),
            list_page_size=max(1, int(number_setting(env, "LIST_PAGE_SIZE", DEFAULT_LIST_PAGE_SIZE))),
            public_base_url=public_base_url(env),
            instance_id=env.get("WEBSITE_INSTANCE_ID", "").strip(),
        )

    def policy(self) -> dict[str, Any]:
        """The orchestration policy every orchestration input carries (orchestrators never read settings)."""
        return self.orchestration_policy.to_dict()

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
