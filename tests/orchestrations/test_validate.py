"""`validate` reads the cluster as every workflow does: a failed read is retried, and nothing is written."""

from __future__ import annotations

import uuid

from tests.orchestrations.conftest import (
    CLUSTER_1,
    POLICY,
    Env,
    Run,
    register_provider_now,
    secret_connection,
)


def _validate(env: Env, linker_id: str) -> Run:
    return env.run("validate", {"linkerId": linker_id, "operationId": uuid.uuid4().hex, "policy": POLICY})


def _connected(env: Env) -> str:
    register_provider_now(env)
    linker_id = env.put_connection(secret_connection())
    assert env.connect(linker_id).output["provisioningState"] == "Succeeded"
    env.clear_journals()
    return linker_id


def test_a_cluster_read_that_fails_once_is_retried_after_the_backoff(env: Env) -> None:
    linker_id = _connected(env)
    env.arm.admin.add_fault(f"(?i){CLUSTER_1}$", method="GET", status=500, times=1)

    run = _validate(env, linker_id)

    assert run.output["provisioningState"] == "Succeeded", run.output
    assert run.output["validation"]["isConnectionAvailable"] is True
    assert run.waits() == [POLICY["backoffInitialSeconds"]]
    assert env.writes() == []


def test_a_cluster_that_stays_unreadable_fails_with_the_classified_error_after_the_retries(env: Env) -> None:
    linker_id = _connected(env)
    env.arm.admin.add_fault(f"(?i){CLUSTER_1}$", method="GET", status=500)

    run = _validate(env, linker_id)

    assert run.output["provisioningState"] == "Failed"
    assert run.output["error"]["category"] == "transient"
    # Doubling backoff up to the cap, then the cap, until the retry deadline (30 minutes by default).
    waits = run.waits()
    assert waits[:6] == [5, 10, 20, 40, 80, 160] and sum(waits) == 1800
    assert "retried for 1800 s" in run.output["error"]["message"]
    assert env.writes() == []


def test_an_unregistered_provider_is_reported_not_registered(env: Env) -> None:
    linker_id = _connected(env)
    missing = {
        "error": {
            "code": "MissingSubscriptionRegistration",
            "message": "The subscription is not registered to use namespace 'Microsoft.ContainerService'.",
        }
    }
    env.arm.admin.add_fault(f"(?i){CLUSTER_1}$", method="GET", status=409, body=missing)

    run = _validate(env, linker_id)

    assert run.output["provisioningState"] == "Failed"
    assert run.output["error"]["code"] == "MissingSubscriptionRegistration"
    assert run.waits() == []
    assert env.writes() == []
