"""Pure bookkeeping for reconciliation: bounded fan-out, and the summary of a pass.

Which records a pass touches (settled ones) and which linkers an action serves are decided where the plan is
made: activities/passes.py and `connector.plan.linkers_served`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive slices of at most `size` items (bounded fan-out)."""
    step = max(1, size)
    return [list(items[i : i + step]) for i in range(0, len(items), step)]


def summarize(slot: str, results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The reconcile output: totals over the per-cluster results, and the results themselves."""
    clusters = list(results)
    return {
        "slot": slot,
        "clusters": len(clusters),
        "connections": sum(int(r.get("connections", 0)) for r in clusters),
        "drifted": sum(int(r.get("drifted", 0)) for r in clusters),
        "repaired": sum(int(r.get("repaired", 0)) for r in clusters),
        "failed": sum(int(r.get("failed", 0)) for r in clusters),
        "details": clusters,
    }
