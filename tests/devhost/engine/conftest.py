"""Fixtures for the engine tests: the sample app's index and a way to run async scenarios."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import pytest

from devhost.discovery import FunctionIndex, index_app
from tests.devhost.engine import sample_app

START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def index() -> FunctionIndex:
    """The sample app's functions (indexed once per process, as the worker does)."""
    return index_app(sample_app.app)


@pytest.fixture
def run() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Run a scenario on a fresh event loop (each harness resets the SDK's loop-bound session)."""
    return asyncio.run


@pytest.fixture(autouse=True)
def _reset_sample_knobs() -> None:
    sample_app.ATTEMPTS.clear()
    sample_app.SWITCHES["fail"] = False
