"""The pure decisions: policy defaults, the backoff schedule, the next step after a failure, grouping."""

from __future__ import annotations

import pytest

from connector import plan
from connector.errors import Category, make_error
from orchestrators.grouping import batches, summarize
from orchestrators.policy import (
    Decision,
    Next,
    Policy,
    backoff_delay,
    decide,
    poll_delay,
    retries_exhausted,
)
from tests.orchestrations.conftest import CLUSTER_1, secret_connection
from triggers.settings import TriggerSettings

POLICY = Policy(backoff_initial_seconds=5, backoff_max_seconds=60, transient_retry_deadline_seconds=600)


def test_policy_from_the_trigger_dict_with_defaults_for_what_is_missing_or_unusable() -> None:
    policy = Policy.from_dict(
        {
            "clusterReadyTimeoutSeconds": 600,
            "backoffInitialSeconds": "fast",
            "maxParallelClusters": 0,
            "transientRetryDeadlineSeconds": 120,
        }
    )
    assert policy.cluster_ready_timeout_seconds == 600
    assert policy.transient_retry_deadline_seconds == 120
    assert policy.backoff_initial_seconds == Policy().backoff_initial_seconds
    assert policy.max_parallel_clusters == Policy().max_parallel_clusters
    assert Policy.from_dict(None) == Policy()
    assert Policy.from_dict(policy.to_dict()) == policy


def test_backoff_doubles_then_stays_at_the_cap() -> None:
    assert [backoff_delay(POLICY, n) for n in range(6)] == [5, 10, 20, 40, 60, 60]
    assert backoff_delay(POLICY, 10_000) == 60


def test_a_poll_never_waits_past_the_deadline() -> None:
    assert poll_delay(POLICY, 3, remaining_seconds=100) == 40
    assert poll_delay(POLICY, 3, remaining_seconds=12) == 12
    assert poll_delay(POLICY, 3, remaining_seconds=-5) == 0


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        (Category.TRANSIENT, Decision(Next.RETRY, 10)),
        (Category.THROTTLED, Decision(Next.RETRY, 10)),
        (Category.CLUSTER_BUSY, Decision(Next.WAIT_FOR_CLUSTER, 10)),
        (Category.PROVIDER_NOT_REGISTERED, Decision(Next.REGISTER_PROVIDER, 10)),
        (Category.UNAUTHORIZED, Decision(Next.FAIL)),
        (Category.INVALID, Decision(Next.FAIL)),
        (Category.NOT_FOUND, Decision(Next.FAIL)),
        (Category.CONFLICT, Decision(Next.FAIL)),
        (Category.TIMED_OUT, Decision(Next.FAIL)),
        (Category.EXTENSION_FAILED, Decision(Next.FAIL)),
    ],
)
def test_the_next_step_follows_the_error_category(category: Category, expected: Decision) -> None:
    assert decide(POLICY, make_error(category, "Code", "message"), attempt=1) == expected


def test_a_longer_retry_after_wins_over_the_backoff() -> None:
    throttled = make_error(Category.THROTTLED, "TooManyRequests", "slow down", retry_after=90)
    assert decide(POLICY, throttled, attempt=0) == Decision(Next.RETRY, 90)
    # Honoured even when it reaches past the deadline: the throttle said when to come back.
    assert decide(POLICY, throttled, attempt=0, retrying_seconds=590) == Decision(Next.RETRY, 90)


def test_retries_are_bounded_by_the_deadline_in_time_not_by_a_number_of_attempts() -> None:
    transient = make_error(Category.TRANSIENT, "InternalServerError", "oops")
    assert decide(POLICY, transient, attempt=50, retrying_seconds=300) == Decision(Next.RETRY, 60)
    # The last wait ends at the deadline; at the deadline the call fails.
    assert decide(POLICY, transient, attempt=50, retrying_seconds=590) == Decision(Next.RETRY, 10)
    assert decide(POLICY, transient, attempt=1, retrying_seconds=600).next is Next.FAIL
    busy = make_error(Category.CLUSTER_BUSY, "OperationNotAllowed", "updating")
    assert decide(POLICY, busy, attempt=50, retrying_seconds=10).next is Next.WAIT_FOR_CLUSTER
    assert decide(POLICY, busy, attempt=1, retrying_seconds=600).next is Next.FAIL
    assert Policy().transient_retry_deadline_seconds == 1800  # the documented default: 30 minutes


def test_the_error_a_call_gives_up_with_says_how_long_it_retried() -> None:
    transient = make_error(Category.TRANSIENT, "InternalServerError", "oops")
    exhausted = retries_exhausted(POLICY, transient, 600, 12)
    assert exhausted.code == "InternalServerError" and exhausted.category is Category.TRANSIENT
    assert exhausted.message.startswith("oops (retried for 600 s over 12 attempts;")
    refused = make_error(Category.UNAUTHORIZED, "AuthorizationFailed", "no")
    assert retries_exhausted(POLICY, refused, 600, 12) == refused  # not a retry that ran out


def test_fan_out_is_in_batches_of_the_policy_size() -> None:
    assert batches([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert batches([1], 0) == [[1]]


def test_drift_is_counted_per_connection_the_actions_repair() -> None:
    one, two = secret_connection("one"), secret_connection("two")
    apply_one = plan.ApplySecret(linker_id=one.linker_id, namespace="default", secret_name="sc-one-secret")
    assert plan.linkers_served(apply_one, [one, two]) == {one.linker_id.lower()}
    install = plan.InstallExtension(cluster_id=CLUSTER_1)
    assert plan.linkers_served(install, [one, two]) == {one.linker_id.lower(), two.linker_id.lower()}
    totals = summarize(
        "s", [{"connections": 2, "drifted": 1, "repaired": 1, "failed": 0}, {"connections": 1}]
    )
    assert {k: totals[k] for k in ("clusters", "connections", "drifted", "repaired", "failed")} == {
        "clusters": 2,
        "connections": 3,
        "drifted": 1,
        "repaired": 1,
        "failed": 0,
    }


def test_the_trigger_passes_the_retry_deadline_setting_in_every_orchestration_input() -> None:
    policy = TriggerSettings.from_env({"TRANSIENT_RETRY_DEADLINE_SECONDS": "600"}).policy()
    assert Policy.from_dict(policy).transient_retry_deadline_seconds == 600
    assert Policy.from_dict(TriggerSettings.from_env({}).policy()) == Policy()
