"""Durable entities: operations from orchestrations and from the client, state kept between batches."""

from __future__ import annotations

import azure.durable_functions as df

from devhost.durable.harness import DurableHarness
from tests.devhost.engine.conftest import START


def test_orchestration_signals_and_calls_an_entity(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            iid = await client.start_new("use_counter", client_input="c1")
            status = await hz.wait_for(iid)
            assert status["output"] == {"total": 8, "error": "cannot divide"}
            state = await client.read_entity_state(df.EntityId("counter", "c1"))
            assert state.entity_exists and state.entity_state == 8

    run(scenario())


def test_client_signals_reach_the_entity_and_unknown_entities_do_not_exist(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            entity = df.EntityId("Counter", "c2")
            await client.signal_entity(entity, "add", 4)
            await client.signal_entity(entity, "add", 6)
            await hz.run_until_idle()
            state = await client.read_entity_state(entity)
            assert state.entity_exists and state.entity_state == 10
            missing = await client.read_entity_state(df.EntityId("counter", "nobody"))
            assert not missing.entity_exists

    run(scenario())
