"""ARM subscription throttling: a token bucket per subscription and kind (reads, writes).

The buckets refill on real monotonic time, not on the emulator clock: a 429's `Retry-After` is honoured by the
SDK's retry policy with a real sleep, and the bucket must have refilled when that retry arrives. Keep
`retryAfter` at 0-1 s in tests.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# ARM's documented default budget per subscription and hour, reported while throttling is off.
DEFAULT_REMAINING = {"reads": 11999, "writes": 1199}


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Throttle:
    """Token buckets; disabled until `configure` is called."""

    enabled: bool = False
    capacity: dict[str, float] = field(default_factory=lambda: {"reads": 0.0, "writes": 0.0})
    refill_per_second: float = 1.0
    retry_after: int = 1
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Turn throttling on: `{"reads": N, "writes": N, "refillPerSecond": r, "retryAfter": s}`."""
        with self._lock:
            self.enabled = True
            self.capacity = {
                "reads": float(spec.get("reads", 1000)),
                "writes": float(spec.get("writes", 1000)),
            }
            self.refill_per_second = float(spec.get("refillPerSecond", 1.0))
            self.retry_after = int(spec.get("retryAfter", 1))
            self._buckets.clear()
        return self.describe()

    def disable(self) -> None:
        """Turn throttling off and forget the buckets."""
        with self._lock:
            self.enabled = False
            self._buckets.clear()

    def describe(self) -> dict[str, Any]:
        """The configuration as JSON."""
        return {
            "enabled": self.enabled,
            "reads": self.capacity["reads"],
            "writes": self.capacity["writes"],
            "refillPerSecond": self.refill_per_second,
            "retryAfter": self.retry_after,
        }

    def take(self, subscription: str, kind: str) -> tuple[bool, int]:
        """Spend one token; returns (allowed, remaining). Always allowed while disabled."""
        if not self.enabled:
            return True, DEFAULT_REMAINING[kind]
        with self._lock:
            now = time.monotonic()
            key = (subscription.lower(), kind)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.capacity[kind], now)
            bucket.tokens = min(
                self.capacity[kind], bucket.tokens + (now - bucket.updated) * self.refill_per_second
            )
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return True, math.floor(bucket.tokens)
            return False, 0
