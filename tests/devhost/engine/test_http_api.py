"""The Durable HTTP API as the host serves it: status codes, check-status URLs, listing and purging."""

from __future__ import annotations

import json
from datetime import timedelta

import aiohttp
import azure.functions as func

from devhost.durable.harness import DurableHarness
from tests.devhost.engine import sample_app
from tests.devhost.engine.conftest import START


def test_status_codes_follow_the_runtime_status(index, run):
    async def scenario():
        sample_app.SWITCHES["fail"] = True
        async with DurableHarness(index, start=START) as hz, aiohttp.ClientSession() as http:
            client = hz.client()
            waiting = await client.start_new("approval")
            failed = await client.start_new("failing")
            done = await client.start_new("hello_sequence")
            await hz.run_until_idle()
            base = f"{hz.base_url}/durabletask/instances"
            expectations = {
                f"{base}/{waiting}": 202,
                f"{base}/{done}": 200,
                f"{base}/{failed}": 200,
                f"{base}/{failed}?returnInternalServerErrorOnFailure=true": 500,
                f"{base}/nope": 404,
            }
            for url, code in expectations.items():
                async with http.get(url) as response:
                    assert response.status == code, url
            async with http.get(f"{base}/{done}?showHistory=true&showHistoryOutput=true") as response:
                body = await response.json()
            assert body["runtimeStatus"] == "Completed"
            assert body["createdTime"] == "2024-03-01T12:00:00Z"
            kinds = [e["EventType"] for e in body["historyEvents"]]
            assert kinds[:2] == ["OrchestratorStarted", "ExecutionStarted"]
            assert kinds[-1] == "ExecutionCompleted"

    run(scenario())


def test_check_status_response_urls_resolve_on_the_webhook_prefix(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz, aiohttp.ClientSession() as http:
            client = hz.client()
            iid = await client.start_new("hello_sequence", client_input="web")
            request = func.HttpRequest("POST", f"{hz.base_url}/api/start", body=b"")
            response = client.create_check_status_response(request, iid)
            assert response.status_code == 202
            urls = json.loads(response.get_body())
            assert urls["id"] == iid
            assert urls["statusQueryGetUri"].startswith(
                f"{hz.base_url}/runtime/webhooks/durabletask/instances/"
            )
            await hz.wait_for(iid)
            async with http.get(urls["statusQueryGetUri"]) as status:
                assert status.status == 200
                assert (await status.json())["output"][0] == "Hello web-a!"

    run(scenario())


def test_listing_filters_and_purging_by_status(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz:
            client = hz.client()
            for n in range(3):
                await client.start_new("hello_sequence", instance_id=f"batch-{n}")
            await client.start_new("approval", instance_id="other-1")
            await hz.run_until_idle()
            everything = await client.get_status_all()
            assert len(everything) == 4
            completed = await client.get_status_by(runtime_status=[df_status("Completed")])
            assert sorted(s.instance_id for s in completed) == ["batch-0", "batch-1", "batch-2"]
            result = await client.purge_instance_history_by(
                created_time_from=START - timedelta(days=1), runtime_status=[df_status("Completed")]
            )
            assert result.instances_deleted == 3
            remaining = await client.get_status_all()
            assert [s.instance_id for s in remaining] == ["other-1"]

    run(scenario())


def test_unknown_orchestrator_is_refused(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz, aiohttp.ClientSession() as http:
            url = f"{hz.base_url}/durabletask/orchestrators/missing"
            async with http.post(url) as response:
                assert response.status == 400
                assert "missing" in (await response.json())["ExceptionMessage"]

    run(scenario())


def df_status(name: str):
    """The SDK's OrchestrationRuntimeStatus member for a status name."""
    import azure.durable_functions as df

    return df.OrchestrationRuntimeStatus(name)
