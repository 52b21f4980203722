"""The orchestrations' timing policy and the pure decisions made from it (no I/O, no clock).

The trigger reads the settings and passes them as `policy` in every orchestration input; orchestrators never
read the environment. `Policy` itself, with its defaults, lives in connector/policy.py (one home).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from connector.errors import Category, ConnectorError
from connector.policy import Policy

__all__ = ["Decision", "Next", "Policy", "backoff_delay", "decide", "poll_delay", "retries_exhausted"]


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
    WAIT_FOR_CLUSTER = "waitForCluster"  # wait until the cluster is Succeeded, back off, call again
    REGISTER_PROVIDER = "registerProvider"  # register, wait until Registered, back off, call again
    FAIL = "fail"  # give up now with the error


@dataclass(frozen=True)
class Decision:
    """The next step after a failure, and the wait before the next try (after the cluster or provider wait,
    if any)."""

    next: Next
    delay: float = 0.0


def decide(policy: Policy, error: ConnectorError, attempt: int, retrying_seconds: float = 0.0) -> Decision:
    """The next step after try `attempt` (from 0) of a call failed with `error`, by the error's category.

    `retrying_seconds` is how long the call has been retrying (time spent waiting out a busy cluster or a
    provider registration excluded: those waits have budgets of their own). Transient and throttled
    failures are retried with backoff (a longer Retry-After wins; the last wait is shortened to end at the
    deadline) until `transient_retry_deadline_seconds`; a busy cluster is waited out; an unregistered
    provider is registered. Unauthorized, invalid, not-found, conflicting, timed-out and failed-extension
    errors fail at once.
    """
    remaining = policy.transient_retry_deadline_seconds - retrying_seconds
    if not error.retryable or remaining <= 0:
        return Decision(Next.FAIL)
    delay = min(backoff_delay(policy, attempt), remaining)
    if error.category is Category.CLUSTER_BUSY:
        return Decision(Next.WAIT_FOR_CLUSTER, delay)
    if error.category is Category.PROVIDER_NOT_REGISTERED:
        return Decision(Next.REGISTER_PROVIDER, delay)
    if error.retry_after is not None and error.retry_after > delay:
        delay = float(error.retry_after)  # a throttle's Retry-After is honoured even past the deadline
    return Decision(Next.RETRY, delay)


def retries_exhausted(
    policy: Policy, error: ConnectorError, retrying_seconds: float, attempts: int
) -> ConnectorError:
    """The error a call fails with once its retries ran out: the last error, saying how long it retried."""
    if not error.retryable or retrying_seconds <= 0:
        return error
    return replace(
        error,
        message=(
            f"{error.message} (retried for {retrying_seconds:g} s over {attempts} attempts; the retry "
            f"deadline is {policy.transient_retry_deadline_seconds:g} s, TRANSIENT_RETRY_DEADLINE_SECONDS)"
        ),
    )
