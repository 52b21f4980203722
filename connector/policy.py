"""The orchestrations' timing policy: budgets, backoff and opt-ins, with their one set of defaults.

The trigger builds it from the app settings (triggers/settings.py; an unset setting keeps the default here)
and passes it as `policy` in every orchestration input; the orchestrators read it back with `from_dict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Policy:
    """Budgets and backoff for one orchestration.

    The defaults are the app settings' documented defaults (local.settings.sample.json), which the trigger
    sends; they apply only to an input that lacks a value.
    """

    cluster_ready_timeout_seconds: float = 3600.0  # AKS upgrades and feature updates take many minutes
    extension_ready_timeout_seconds: float = 1800.0
    provider_ready_timeout_seconds: float = 900.0
    backoff_initial_seconds: float = 15.0
    backoff_max_seconds: float = 300.0
    max_parallel_clusters: int = 4
    # How long one call keeps retrying transient failures (throttling, 5xx, dropped connections) before the
    # operation fails: long enough to ride out an ARM or Kubernetes outage of several minutes.
    transient_retry_deadline_seconds: float = 1800.0
    # Reconcile removes the orphans it reports (labelled as ours, owned by no record) only when opted in.
    remove_orphans: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Policy:
        """A policy from the input's camelCase dict; absent, null or unusable values take the defaults."""
        data = data or {}
        default = cls()

        def number(key: str, fallback: float, minimum: float) -> float:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
                return fallback
            return float(value)

        return cls(
            cluster_ready_timeout_seconds=number(
                "clusterReadyTimeoutSeconds", default.cluster_ready_timeout_seconds, 0
            ),
            extension_ready_timeout_seconds=number(
                "extensionReadyTimeoutSeconds", default.extension_ready_timeout_seconds, 0
            ),
            provider_ready_timeout_seconds=number(
                "providerReadyTimeoutSeconds", default.provider_ready_timeout_seconds, 0
            ),
            backoff_initial_seconds=number("backoffInitialSeconds", default.backoff_initial_seconds, 0.001),
            backoff_max_seconds=number("backoffMaxSeconds", default.backoff_max_seconds, 0.001),
            max_parallel_clusters=int(number("maxParallelClusters", default.max_parallel_clusters, 1)),
            transient_retry_deadline_seconds=number(
                "transientRetryDeadlineSeconds", default.transient_retry_deadline_seconds, 0
            ),
            remove_orphans=data.get("removeOrphans") is True,
        )

    def to_dict(self) -> dict[str, Any]:
        """The camelCase dict `from_dict` reads (what a parent hands its sub-orchestrations)."""
        return {
            "clusterReadyTimeoutSeconds": self.cluster_ready_timeout_seconds,
            "extensionReadyTimeoutSeconds": self.extension_ready_timeout_seconds,
            "providerReadyTimeoutSeconds": self.provider_ready_timeout_seconds,
            "backoffInitialSeconds": self.backoff_initial_seconds,
            "backoffMaxSeconds": self.backoff_max_seconds,
            "maxParallelClusters": self.max_parallel_clusters,
            "transientRetryDeadlineSeconds": self.transient_retry_deadline_seconds,
            "removeOrphans": self.remove_orphans,
        }
