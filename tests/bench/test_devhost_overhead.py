"""The benchmark reports a failed orchestration at once instead of waiting out its timeout."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bench.devhost_overhead import engine_seconds


def test_a_failed_orchestration_fails_the_benchmark_at_once() -> None:
    not_a_count: Any = "many"  # the orchestrator's int() of its input fails
    with pytest.raises(RuntimeError, match="benchmark orchestration failed"):
        asyncio.run(asyncio.wait_for(engine_seconds(1, not_a_count, None), timeout=10))


def test_engine_seconds_measures_completed_orchestrations() -> None:
    wall = asyncio.run(asyncio.wait_for(engine_seconds(2, 3, None), timeout=30))
    assert wall > 0
