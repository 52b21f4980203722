"""Runs the sample app in an in-process DevHost (port 0, temp keys and store) for the host tests."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from azure.durable_functions.models.utils import http_utils

from devhost.app import DevHost, DevHostConfig
from devhost.clock import Clock, VirtualClock

SAMPLE_APP = "tests.devhost.host.sample_app"
START = datetime(2024, 1, 1, 0, 0, 3, tzinfo=UTC)
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one test body on a fresh event loop, with the Durable SDK's module-global HTTP session reset."""

    async def body() -> T:
        # The SDK's ClientSession is bound to the first loop that used it (durable-protocol.md §10).
        http_utils._client_session = None
        try:
            return await coroutine
        finally:
            session = http_utils._client_session
            if session is not None:
                await session.close()
            http_utils._client_session = None

    return asyncio.run(body())


async def eventually(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll (real time, briefly) until `condition()` is truthy: for work on other tasks or threads."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """An app folder with host.json and local.settings.json for the sample app."""
    (tmp_path / "host.json").write_text(
        json.dumps(
            {
                "version": "2.0",
                "extensions": {
                    "http": {"routePrefix": "api"},
                    "durableTask": {"hubName": "%SAMPLE_HUB%", "maxConcurrentActivityFunctions": 4},
                    "serviceBus": {"maxConcurrentCalls": 2},
                },
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "local.settings.json").write_text(
        json.dumps(
            {
                "IsEncrypted": False,
                "Values": {
                    "SAMPLE_HUB": "SampleHub",
                    "TICK_SCHEDULE": "*/15 * * * * *",
                    "ORDERS_QUEUE": "orders",
                },
            }
        ),
        encoding="utf-8",
    )
    return tmp_path


HostFactory = Callable[..., Awaitable[DevHost]]


@pytest.fixture
def environ() -> dict[str, str]:
    """A private copy of the environment, so local settings do not leak between tests."""
    return dict(os.environ)


@pytest.fixture
def make_host(app_dir: Path, environ: dict[str, str]) -> HostFactory:
    """Build and start a DevHost for the sample app; the test stops it."""

    async def factory(clock: Clock | None = None, **overrides: Any) -> DevHost:
        options: dict[str, Any] = {
            "app_module": SAMPLE_APP,
            "app_dir": str(app_dir),
            "port": 0,
            "store_path": None,
            "timers": False,
            "service_bus": False,
        }
        options.update(overrides)
        host = DevHost(DevHostConfig(**options), clock=clock or VirtualClock(START), environ=environ)
        await host.start()
        return host

    return factory
