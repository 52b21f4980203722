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
                    if code == 202:  # the extension: poll this same URL, and not in a tight loop
                        assert response.headers["Location"] == url
                        assert response.headers["Retry-After"] == "5"
                    else:
                        assert "Location" not in response.headers, url

    run(scenario())


def test_history_has_the_documented_public_shape(index, run):
    """showHistory returns what the HTTP API reference's example shows, not the internal events."""

    async def scenario():
        async with DurableHarness(index, start=START) as hz, aiohttp.ClientSession() as http:
            done = await hz.client().start_new("hello_sequence", client_input="web")
            await hz.run_until_idle()
            base = f"{hz.base_url}/durabletask/instances/{done}?showHistory=true"
            async with http.get(f"{base}&showHistoryOutput=true") as response:
                body = await response.json()
            async with http.get(base) as response:
                without_output = (await response.json())["historyEvents"]

        assert body["createdTime"] == "2024-03-01T12:00:00Z"
        events = body["historyEvents"]
        assert [e["EventType"] for e in events] == ["ExecutionStarted"] + ["TaskCompleted"] * 3 + [
            "ExecutionCompleted"
        ]
        started, *completed, ended = events
        assert started["FunctionName"] == "hello_sequence" and "Name" not in started
        assert [e["FunctionName"] for e in completed] == ["say_hello"] * 3
        assert [e["Result"] for e in completed] == ["Hello web-a!", "Hello web-b!", "Hello web-c!"]
        assert all(e["ScheduledTime"] <= e["Timestamp"] for e in completed)
        assert ended["OrchestrationStatus"] == "Completed"
        assert ended["Result"] == ["Hello web-a!", "Hello web-b!", "Hello web-c!"]
        assert all("EventId" not in e and "IsPlayed" not in e and "TaskScheduledId" not in e for e in events)
        assert all("Result" not in e for e in without_output)

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


def test_listing_pages_with_top_and_the_continuation_header(index, run):
    async def scenario():
        async with DurableHarness(index, start=START) as hz, aiohttp.ClientSession() as http:
            client = hz.client()
            started = [await client.start_new("hello_sequence", client_input=str(n)) for n in range(5)]
            await hz.run_until_idle()
            url = f"{hz.base_url}/durabletask/instances?top=2"
            seen: list[str] = []
            token = ""
            pages = 0
            while True:
                headers = {"x-ms-continuation-token": token} if token else {}
                async with http.get(url, headers=headers) as response:
                    page = await response.json()
                    token = response.headers["x-ms-continuation-token"]
                assert len(page) <= 2
                seen += [status["instanceId"] for status in page]
                pages += 1
                if not token:
                    break
            assert sorted(seen) == sorted(started) and pages == 3

    run(scenario())


def test_unparsable_filters_are_no_filter_and_purge_needs_a_start_time(index, run):
    """As the extension: an unparsable list filter is dropped; purging by filter needs createdTimeFrom."""

    async def scenario():
        async with DurableHarness(index, start=START) as hz, aiohttp.ClientSession() as http:
            done = await hz.client().start_new("hello_sequence")
            await hz.run_until_idle()
            base = f"{hz.base_url}/durabletask/instances"
            async with http.get(f"{base}?createdTimeFrom=notadate") as response:
                assert response.status == 200
                assert [s["instanceId"] for s in await response.json()] == [done]
            for query in ("", "?createdTimeFrom=notadate"):
                async with http.delete(base + query) as response:
                    assert response.status == 400
                    assert "createdTimeFrom" in (await response.json())["Message"]
            assert await hz.client().get_status(done) is not None

    run(scenario())
