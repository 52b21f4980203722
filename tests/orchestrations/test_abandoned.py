"""A linker whose operation crashed or never ends its orchestration reads Failed, not Accepted forever."""

from __future__ import annotations

import asyncio
from typing import Any

from activities import registry as registry_ops
from devhost.durable.harness import DurableHarness
from tests.orchestrations.conftest import Env, LinkedClock, secret_connection
from triggers import operations as ops


def _settle_after(env: Env, linker_id: str, operation_id: str, orchestration_input: Any) -> dict[str, Any]:
    """Run `connect` with this input under `operation_id`, name it on the record, then settle the record."""

    async def scenario() -> dict[str, Any]:
        async with DurableHarness(env.index, clock=LinkedClock(env.arm.clock)) as harness:
            client = harness.client()
            await client.start_new("connect", operation_id, orchestration_input)
            await harness.wait_for(operation_id)
            settled = await ops.settle_abandoned(client, env.record(linker_id))
            assert settled is not None
            return settled

    return asyncio.run(scenario())


def test_a_crashed_orchestration_leaves_the_linker_failed_with_an_error_that_leaks_nothing(env: Env) -> None:
    linker_id = env.put_connection(secret_connection())
    registry_ops.update_status(
        linker_id, "Accepted", last_operation={"id": "op-crash", "kind": "connect"}, clients=env.clients
    )

    # An input that is not an object crashes the orchestrator before it can record anything.
    settled = _settle_after(env, linker_id, "op-crash", "not an object")

    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == settled["provisioningState"] == "Failed"
    assert record["lastError"]["code"] == "InternalServerError"
    assert "AttributeError" not in record["lastError"]["message"]


def test_a_record_whose_operation_ended_normally_is_left_as_written(env: Env) -> None:
    linker_id = env.put_connection(secret_connection())
    registry_ops.update_status(
        linker_id, "Accepted", last_operation={"id": "op-fine", "kind": "connect"}, clients=env.clients
    )

    settled = _settle_after(env, linker_id, "op-fine", {"linkerId": linker_id, "operationId": "op-fine"})

    assert settled["provisioningState"] == "Succeeded"
    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == "Succeeded" and not record["lastError"]
