"""Instance management through the real DurableOrchestrationClient: terminate, suspend, resume, purge,
rewind, restart and singletons."""

from __future__ import annotations

import aiohttp
import pytest

from devhost.durable.harness import DurableHarness
from tests.devhost.engine import sample_app
from tests.devhost.engine.conftest import START


def test_terminate_ends_a_waiting_instance_and_later_events_are_refused(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            iid = await client.start_new("approval")
            await hz.run_until_idle()
            await client.terminate(iid, "no longer needed")
            await hz.run_until_idle()
            status = await client.get_status(iid)
            assert status.runtime_status.value == "Terminated"
            assert status.output == "no longer needed"
            with pytest.raises(Exception, match="completed"):
                await client.raise_event(iid, "Approve", True)

    run(scenario())


def test_suspend_buffers_events_until_resume(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            iid = await client.start_new("approval")
            await hz.run_until_idle()
            await client.suspend(iid, "maintenance")
            await client.raise_event(iid, "Approve", "later")
            await hz.run_until_idle()
            assert (await client.get_status(iid)).runtime_status.value == "Suspended"
            await client.resume(iid, "done")
            status = await hz.wait_for(iid)
            assert status["runtimeStatus"] == "Completed"
            assert status["output"]["answer"] == '"later"'

    run(scenario())


def test_purge_removes_an_ended_instance_and_refuses_a_running_one(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            done = await client.start_new("hello_sequence")
            await hz.wait_for(done)
            waiting = await client.start_new("approval")
            await hz.run_until_idle()
            result = await client.purge_instance_history(done)
            assert result.instances_deleted == 1
            assert not await client.get_status(done)
            url = f"{hz.base_url}/durabletask/instances/{waiting}"
            async with aiohttp.ClientSession() as http, http.delete(url) as response:
                assert response.status == 412
            assert (await client.get_status(waiting)).runtime_status.value == "Running"

    run(scenario())


def test_rewind_reruns_the_failed_activity_and_completes(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            sample_app.SWITCHES["fail"] = True
            iid = await client.start_new("failing")
            assert (await hz.wait_for(iid))["runtimeStatus"] == "Failed"
            sample_app.SWITCHES["fail"] = False
            await client.rewind(iid, "fixed the switch")
            status = await hz.wait_for(iid)
            assert status["runtimeStatus"] == "Completed"
            assert status["output"] == ["Hello before!", "ok x"]
            history = await hz.engine.get_status(iid, show_history=True)
            names = [e.get("Name") for e in history["historyEvents"] if e["EventType"] == "TaskScheduled"]
            assert names == ["say_hello", "switchable"], "only the failed activity runs again"

    run(scenario())


def test_rewind_after_exhausted_retries_runs_the_last_attempt_again(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            iid = await client.start_new("parent", instance_id="rw")
            sample_app.ATTEMPTS["rw-sub"] = -10  # the retried child fails on both of its attempts
            status = await hz.wait_for(iid)
            assert status["runtimeStatus"] == "Failed"
            sample_app.ATTEMPTS["rw-sub"] = 5  # from now on the child's activity succeeds
            await client.rewind(iid, "try again")
            status = await hz.wait_for(iid)
            assert status["runtimeStatus"] == "Completed", status
            assert status["output"]["retried"] == "succeeded on attempt 6"

    run(scenario())


def test_restart_runs_again_with_the_original_input(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            first = await client.start_new("hello_sequence", client_input="ann")
            original = await hz.wait_for(first)
            restarted = await client.restart(first)
            new_id = restarted["id"] if isinstance(restarted, dict) else restarted
            assert new_id != first
            again = await hz.wait_for(new_id)
            assert again["output"] == original["output"] == ["Hello ann-a!", "Hello ann-b!", "Hello ann-c!"]
            same = await client.restart(first, restart_with_new_instance_id=False)
            same_id = same["id"] if isinstance(same, dict) else same
            assert same_id == first
            assert (await hz.wait_for(first))["output"] == original["output"]

    run(scenario())


def test_starting_a_running_instance_id_is_a_conflict(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            await client.start_new("approval", instance_id="single")
            await hz.run_until_idle()
            with pytest.raises(Exception, match=r"409|already exists"):
                await client.start_new("approval", instance_id="single")
            async with aiohttp.ClientSession() as http:
                url = f"{hz.base_url}/durabletask/orchestrators/approval/single"
                async with http.post(url) as response:
                    assert response.status == 409
            # Once ended, the same id can be started again (it replaces the old instance).
            await client.terminate("single", "make room")
            await client.start_new("hello_sequence", instance_id="single", client_input="again")
            assert (await hz.wait_for("single"))["output"][0] == "Hello again-a!"

    run(scenario())
