"""The event-publishing benchmark times every event, and every event it timed arrived."""

from __future__ import annotations

from bench.event_publishing import run, table


def test_the_benchmark_times_each_event_over_one_connection() -> None:
    result = run(5)

    assert result.events == 5 and all(latency > 0 for latency in result.latencies)
    assert result.connections_opened == 1
    assert "| 5 |" in table(result)
