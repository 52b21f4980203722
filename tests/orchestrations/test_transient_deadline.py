"""Transient faults are retried until a deadline in time, not for a few attempts: an operation rides out a
five-minute ARM or Kubernetes outage, and one that outlasts the deadline fails saying how long it retried.

The outages are the emulators' own fault rules (every API request answers 500), lifted at a virtual time.
"""

from __future__ import annotations

from connector import naming
from orchestrators.policy import Policy
from tests.orchestrations.conftest import Env, secret_connection

# The test policy's backoff (conftest POLICY): doubling from 5 s, capped at 160 s.
BACKOFF_TO_THE_CAP = [5, 10, 20, 40, 80, 160]


def _second_linker(env: Env) -> str:
    """A linker on a cluster that is already set up (provider, extension): its connect needs no wait of
    its own, so every timer it asks for is a retry."""
    first = env.put_connection(secret_connection("warmup"))
    assert env.connect(first).output["provisioningState"] == "Succeeded"
    env.clear_journals()
    return env.put_connection(secret_connection("blob1"))


def test_a_five_minute_arm_outage_is_ridden_out_with_backoff_and_the_connection_succeeds(env: Env) -> None:
    linker_id = _second_linker(env)
    env.outage(env.arm.admin, seconds=300)
    run = env.connect(linker_id)

    assert run.output["provisioningState"] == "Succeeded", run.output
    # Retried at 5, 15, 35, 75, 155 s (all inside the outage) and 315 s, after it ended.
    assert run.waits() == BACKOFF_TO_THE_CAP
    failed = [e for e in env.arm_calls() if e["status"] >= 500]
    assert len(failed) == len(BACKOFF_TO_THE_CAP)
    assert env.secret(naming.secret_name("blob1"))
    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == "Succeeded"


def test_a_five_minute_kubernetes_outage_is_ridden_out_and_the_secret_is_written(env: Env) -> None:
    linker_id = _second_linker(env)
    env.outage(env.kube_admin, seconds=300, status=503)
    run = env.connect(linker_id)

    assert run.output["provisioningState"] == "Succeeded", run.output
    assert run.waits() == BACKOFF_TO_THE_CAP
    assert env.secret(naming.secret_name("blob1"))


def test_an_outage_longer_than_the_deadline_fails_with_the_error_and_how_long_it_retried(env: Env) -> None:
    linker_id = _second_linker(env)
    env.outage(env.arm.admin, seconds=None)
    run = env.connect(linker_id)  # the default deadline: 30 minutes

    assert Policy().transient_retry_deadline_seconds == 1800
    waits = run.waits()
    # Backoff up to the cap, then the cap, the last wait shortened to end at the deadline.
    assert waits[:6] == BACKOFF_TO_THE_CAP and set(waits[6:-1]) == {160} and 0 < waits[-1] <= 160
    assert sum(waits) == 1800
    error = run.output["error"]
    assert run.output["provisioningState"] == "Failed"
    assert error["code"] == "InternalServerError" and error["category"] == "transient"
    assert f"retried for 1800 s over {len(waits) + 1} attempts" in error["message"]
    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == "Failed"
    assert record["lastError"]["message"] == error["message"]


def test_the_deadline_comes_from_the_policy_in_the_input(env: Env) -> None:
    linker_id = _second_linker(env)
    env.outage(env.arm.admin, seconds=None)
    run = env.connect(linker_id, transientRetryDeadlineSeconds=100)

    assert run.waits() == [5, 10, 20, 40, 25]
    assert run.output["provisioningState"] == "Failed"
    assert "retried for 100 s over 6 attempts" in run.output["error"]["message"]
