"""Reads shared by every page and every cluster of one reconcile pass, in this worker process.

A pass over 10,000 connections reads each cluster, extension, namespace list, identity and target once, not
once per page of connections or once per cluster that uses the target: the observe activity of each page
looks here first. Entries live while their pass is recent (at most `MAX_PASSES` passes, each for at most
`MAX_AGE_SECONDS`): a later pass reads afresh, so drift that happens between passes is always seen. Target
keys listed for rendering Secrets stay in this process's memory no longer than that, and never leave it.

Not shared between worker processes: a scaled-out app reads a shared target once per worker, not per pass.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from activities.target_values import TargetCache

T = TypeVar("T")
MAX_PASSES = 2
MAX_AGE_SECONDS = 900.0
# A connect is a pass over one connection (pass id "op:<operation id>"): its plan and its write share the
# target's keys instead of reading them twice. Small and short-lived, and kept apart from reconcile passes,
# which many concurrent connects must not push out.
OPERATION_PREFIX = "op:"
MAX_OPERATIONS = 64
MAX_OPERATION_AGE_SECONDS = 300.0


class PassCache:
    """The reads of one pass: `memo(key, read)` reads once per key; `targets` serves the Secret renderer."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.targets = TargetCache()
        self._values: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def memo(self, key: Hashable, read: Callable[[], T]) -> T:
        """The value read for `key` earlier in this pass, else `read()` (a failed read is not kept)."""
        with self._lock:
            if key in self._values:
                return self._values[key]  # type: ignore[no-any-return]
        value = read()
        with self._lock:
            return self._values.setdefault(key, value)  # type: ignore[no-any-return]


_passes: OrderedDict[str, PassCache] = OrderedDict()
_operations: OrderedDict[str, PassCache] = OrderedDict()
_passes_lock = threading.Lock()


def for_pass(pass_id: str | None) -> PassCache | None:
    """The cache of a pass (created on first use); None without a pass id (every read is fresh)."""
    if not pass_id:
        return None
    if pass_id.startswith(OPERATION_PREFIX):
        return _cached(_operations, pass_id, MAX_OPERATIONS, MAX_OPERATION_AGE_SECONDS)
    return _cached(_passes, pass_id, MAX_PASSES, MAX_AGE_SECONDS)


def _cached(caches: OrderedDict[str, PassCache], key: str, most: int, max_age: float) -> PassCache:
    now = time.monotonic()
    with _passes_lock:
        for stale in [k for k, c in caches.items() if now - c.started > max_age]:
            del caches[stale]
        cache = caches.get(key)
        if cache is None:
            cache = caches[key] = PassCache()
            while len(caches) > most:
                caches.popitem(last=False)
        return cache


def forget_all() -> None:
    """Drop every pass's reads (tests)."""
    with _passes_lock:
        _passes.clear()
        _operations.clear()
