"""The orchestrations' timing policy and the pure decisions made from it (no I/O, no clock).

The trigger reads the settings and passes them as `policy` in every orchestration input; orchestrators never
read the environment. Missing or malformed values fall back to the defaults below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from connector.errors import Category, ConnectorError


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
    max_attempts: int = 5  # tries of one call that fails transiently (the first try counts)

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
            max_attempts=int(number("maxAttempts", default.max_attempts, 1)),
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
            "maxAttempts": self.max_attempts,
        }


def backoff_delay(policy: Policy, attempt: int) -> float:
    """The wait before try `attempt + 1` (attempt counts from 0): doubling from the initial wait, capped."""
    exponent = min(max(attempt, 0), 30)  # 2**30 already exceeds any cap; avoid huge floats
    return float(min(policy.backoff_initial_seconds * (2**exponent), policy.backoff_max_seconds))


def poll_delay(policy: Policy, attempt: int, remaining_seconds: float) -> float:
    """The wait before the next poll of a resource: the backoff, shortened to end at the deadline."""
    return max(0.0, min(backoff_delay(policy, attempt), remaining_seconds))


class Next(StrEnum):
    """What to do after a call failed."""

    RETRY = "retry"  # wait `delay`, then call again
    WAIT_FOR_CLUSTER = "waitForCluster"  # wait until the cluster is Succeeded, then call again
    REGISTER_PROVIDER = "registerProvider"  # register the provider, wait until Registered, call again
    FAIL = "fail"  # give up now with the error


@dataclass(frozen=True)
class Decision:
    """The next step after a failure, and the wait before a plain retry."""

    next: Next
    delay: float = 0.0


def decide(policy: Policy, error: ConnectorError, attempt: int) -> Decision:
    """The next step after try `attempt` (from 0) failed with `error`, by the error's category.

    Transient and throttled failures are retried with backoff (a longer Retry-After wins) until
    `max_attempts`; a busy cluster is waited out; an unregistered provider is registered. Unauthorized,
    invalid, not-found, conflicting, timed-out and failed-extension errors fail at once.
    """
    if attempt + 1 >= policy.max_attempts:
        return Decision(Next.FAIL)
    if error.category in (Category.TRANSIENT, Category.THROTTLED):
        delay = backoff_delay(policy, attempt)
        if error.retry_after is not None and error.retry_after > delay:
            delay = float(error.retry_after)
        return Decision(Next.RETRY, delay)
    if error.category is Category.CLUSTER_BUSY:
        return Decision(Next.WAIT_FOR_CLUSTER)
    if error.category is Category.PROVIDER_NOT_REGISTERED:
        return Decision(Next.REGISTER_PROVIDER)
    return Decision(Next.FAIL)
