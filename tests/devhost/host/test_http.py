"""HTTP triggers, keys, route templates and admin endpoints, over real HTTP against an in-process DevHost."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devhost.app import DevHost, DevHostConfig
from devhost.clock import VirtualClock
from devhost.http_host import DURABLE_SYSTEM_KEY
from tests.devhost.host import sample_app
from tests.devhost.host.conftest import SAMPLE_APP, START, HostFactory, eventually, run


async def fetch(method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as response:
        return response.status, dict(response.headers), await response.read()


def test_http_starter_runs_an_orchestration_that_the_status_url_reports(make_host: HostFactory) -> None:
    async def body() -> None:
        clock = VirtualClock(START)
        host = await make_host(clock)
        try:
            key = host.keys.function_keys("http_start")["default"]
            status, headers, raw = await fetch(
                "POST", f"{host.base_url}/api/orchestrators/greet", params={"code": key}, json=["Ann", "Bob"]
            )
            assert status == 202
            check = json.loads(raw)
            assert headers["Location"] == check["statusQueryGetUri"]
            assert check["statusQueryGetUri"].startswith(f"{host.base_url}/runtime/webhooks/durabletask/")
            polls = []
            while True:
                status, _, raw = await fetch("GET", check["statusQueryGetUri"])
                document = json.loads(raw)
                polls.append(document["runtimeStatus"])
                if document["runtimeStatus"] not in ("Pending", "Running"):
                    break
                assert status == 202 and len(polls) < 500
                # The orchestration waits one virtual minute: move time on while polling.
                clock.advance(5)
                await asyncio.sleep(0.01)
            assert status == 200
            assert document["runtimeStatus"] == "Completed"
            assert document["output"] == ["Hello Ann", "Hello Bob"]
            assert document["input"] == ["Ann", "Bob"]
            assert document["instanceId"] == check["id"]
        finally:
            await host.stop()

    run(body())


def test_keys_and_auth_levels_answer_401_as_the_host_does(make_host: HostFactory) -> None:
    async def body() -> None:
        host = await make_host()
        try:
            secret_url, operator_url = f"{host.base_url}/api/secret", f"{host.base_url}/api/operator"
            function_key = host.keys.function_keys("secret")["default"]
            other_function_key = host.keys.function_keys("http_start")["default"]
            host_key, master_key = host.keys.host_keys["default"], host.keys.master_key

            assert (await fetch("GET", secret_url))[0] == 401
            assert (await fetch("GET", secret_url, params={"code": "wrong"}))[0] == 401
            assert (await fetch("GET", secret_url, params={"code": other_function_key}))[0] == 401
            for key in (function_key, host_key, master_key):
                status, _, raw = await fetch("GET", secret_url, params={"code": key})
                assert (status, raw) == (200, b"function-level ok")
            status, _, _ = await fetch("GET", secret_url, headers={"x-functions-key": function_key})
            assert status == 200
            unauthorized = await fetch("GET", secret_url, params={"code": "wrong"})
            assert unauthorized[2] == b""

            for key in (function_key, host_key):
                assert (await fetch("GET", operator_url, params={"code": key}))[0] == 401
            assert (await fetch("GET", operator_url, params={"code": master_key}))[:1] == (200,)
        finally:
            await host.stop()

    run(body())


def test_keys_persist_in_the_keys_file_across_restarts(make_host: HostFactory, app_dir: Path) -> None:
    async def body() -> None:
        first = await make_host()
        master, function_key = first.keys.master_key, first.keys.function_keys("secret")["default"]
        await first.stop()
        stored = json.loads((app_dir / ".devhost" / "keys.json").read_text())
        assert stored["masterKey"] == master
        assert (app_dir / ".devhost" / "keys.json").stat().st_mode & 0o077 == 0
        second = await make_host()
        try:
            status, _, _ = await fetch("GET", f"{second.base_url}/api/secret", params={"code": function_key})
            assert status == 200 and second.keys.master_key == master
        finally:
            await second.stop()

    run(body())


def test_route_templates_methods_and_the_request_object(make_host: HostFactory) -> None:
    async def body() -> None:
        host = await make_host()
        base = f"{host.base_url}/api"
        try:
            status, headers, raw = await fetch(
                "GET", f"{base}/items/42", params={"q": "1"}, headers={"x-sample": "yes"}
            )
            assert status == 200
            assert headers["x-handled-by"] == "sample"
            assert headers["Content-Type"].startswith("application/json")
            assert json.loads(raw) == {
                "method": "GET",
                "route": {"id": "42"},
                "params": {"q": "1"},
                "body": "",
                "header": "yes",
            }
            # alpha goes to the other function; neither int nor alpha matches nothing
            assert json.loads((await fetch("GET", f"{base}/items/abc"))[2])["route"] == {"name": "abc"}
            assert (await fetch("GET", f"{base}/items/4a"))[0] == 404
            # methods: PUT allowed on item_by_name, POST on neither
            status, _, raw = await fetch("PUT", f"{base}/items/abc", data=b"new")
            assert status == 200 and json.loads(raw)["body"] == "new"
            assert (await fetch("POST", f"{base}/items/abc"))[0] == 404
            # catch-all, any method
            status, _, raw = await fetch("DELETE", f"{base}/files/a/b/c.txt")
            assert json.loads(raw)["route"] == {"path": "a/b/c.txt"}
            # optional parameter; an async function returning text
            assert (await fetch("GET", f"{base}/greeting"))[2] == b"Hello stranger"
            assert (await fetch("GET", f"{base}/greeting/Ann"))[2] == b"Hello Ann"
            # the route prefix is required
            assert (await fetch("GET", f"{host.base_url}/items/42"))[0] == 404
            # a function that raises: 500 with nothing of the exception in the body
            assert (await fetch("GET", f"{base}/broken"))[:3:2] == (500, b"")
        finally:
            await host.stop()

    run(body())


def test_route_prefix_comes_from_host_json(make_host: HostFactory, app_dir: Path) -> None:
    host_json = json.loads((app_dir / "host.json").read_text())
    host_json["extensions"]["http"]["routePrefix"] = "v1"
    (app_dir / "host.json").write_text(json.dumps(host_json))

    async def body() -> None:
        host = await make_host()
        try:
            assert (await fetch("GET", f"{host.base_url}/v1/items/7"))[0] == 200
            assert (await fetch("GET", f"{host.base_url}/api/items/7"))[0] == 404
            assert host.engine.task_hub == "SampleHub"
        finally:
            await host.stop()

    run(body())


def test_admin_host_status_and_admin_invocation(make_host: HostFactory) -> None:
    async def body() -> None:
        host: DevHost = await make_host()
        master = {"x-functions-key": host.keys.master_key}
        try:
            assert (await fetch("GET", f"{host.base_url}/admin/host/status"))[0] == 401
            status, _, raw = await fetch("GET", f"{host.base_url}/admin/host/status", headers=master)
            assert status == 200
            document = json.loads(raw)
            assert document["state"] == "Running" and document["version"]

            sample_app.timer_calls.clear()
            invoke = f"{host.base_url}/admin/functions/tick"
            function_key = {"x-functions-key": host.keys.host_keys["default"]}
            assert (await fetch("POST", invoke, json={"input": ""}, headers=function_key))[0] == 401
            assert (await fetch("POST", invoke, json={"input": ""}, headers=master))[0] == 202
            calls = await eventually(lambda: sample_app.timer_calls, what="the admin-invoked timer")
            assert calls[0]["function"] == "tick" and calls[0]["past_due"] is False

            admin = f"{host.base_url}/admin/functions"
            assert (await fetch("POST", f"{admin}/nope", json={}, headers=master))[0] == 404
            status, _, raw = await fetch("POST", f"{admin}/secret", json={}, headers=master)
            assert status == 400 and b"httpTrigger" in raw
        finally:
            await host.stop()

    run(body())


def test_durable_webhooks_need_the_system_key(make_host: HostFactory) -> None:
    async def body() -> None:
        host = await make_host()
        try:
            url = f"{host.base_url}/runtime/webhooks/durabletask/instances/nope"
            assert (await fetch("GET", url))[0] == 401
            assert (await fetch("GET", url, params={"code": "wrong"}))[0] == 401
            function_key = host.keys.function_keys("http_start")["default"]
            assert (await fetch("GET", url, params={"code": function_key}))[0] == 401
            assert (await fetch("GET", url, params={"code": host.keys.master_key}))[0] == 404
            system_key = host.keys.system_key(DURABLE_SYSTEM_KEY)
            assert (await fetch("GET", url, headers={"x-functions-key": system_key}))[0] == 404
        finally:
            await host.stop()

    run(body())


def test_one_log_line_per_invocation_with_outcome_and_duration(
    make_host: HostFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def body() -> None:
        clock = VirtualClock(START)
        host = await make_host(clock)
        try:
            with caplog.at_level(logging.INFO, logger="devhost"):
                await fetch("GET", f"{host.base_url}/api/items/1")
                await fetch("GET", f"{host.base_url}/api/broken")
                key = host.keys.function_keys("http_start")["default"]
                starter = f"{host.base_url}/api/orchestrators/greet"
                _, _, raw = await fetch("POST", starter, params={"code": key}, json=["Ann"])
                instance_id = json.loads(raw)["id"]
                await eventually(
                    lambda: any("say_hello" in r.getMessage() for r in caplog.records),
                    what="the activity's log line",
                )
        finally:
            await host.stop()
        lines = [r.getMessage() for r in caplog.records if r.name == "devhost"]
        assert any(line.startswith("Executed 'Functions.item_by_id' (Succeeded, Id=") for line in lines)
        failed = next(line for line in lines if line.startswith("Executed 'Functions.broken' (Failed"))
        assert "RuntimeError: this function always fails" in failed and "Traceback" in failed
        assert any(
            line.startswith(f"Executed 'Functions.say_hello' (activity Succeeded, InstanceId={instance_id}")
            for line in lines
        )
        assert all("Duration=" in line for line in lines if line.startswith("Executed"))

    run(body())


def test_the_port_defaults_to_local_settings_local_http_port(make_host: HostFactory, app_dir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    settings = json.loads((app_dir / "local.settings.json").read_text())
    settings["Host"] = {"LocalHttpPort": free_port}
    (app_dir / "local.settings.json").write_text(json.dumps(settings))

    async def body() -> None:
        host = await make_host(port=None)
        try:
            assert host.base_url == f"http://127.0.0.1:{free_port}"
            assert (await fetch("GET", f"{host.base_url}/api/items/1"))[0] == 200
        finally:
            await host.stop()

    run(body())


def test_a_trigger_observer_that_raises_does_not_change_the_answer(
    app_dir: Path, environ: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    def observer(record: object) -> None:
        raise RuntimeError("observer broke")

    async def body() -> tuple[int, bytes]:
        config = DevHostConfig(
            app_module=SAMPLE_APP,
            app_dir=str(app_dir),
            port=0,
            store_path=None,
            timers=False,
            service_bus=False,
        )
        host = DevHost(config, clock=VirtualClock(START), environ=environ, on_trigger=observer)
        await host.start()
        try:
            status, _, raw = await fetch("GET", f"{host.base_url}/api/items/1")
            return status, raw
        finally:
            await host.stop()

    with caplog.at_level(logging.ERROR, logger="devhost"):
        status, raw = run(body())
    assert status == 200 and raw != b""
    assert "observer broke" in caplog.text
