"""ARM request throttling: token buckets per subscription (optionally per principal) and kind.

Two ways to configure it (POST /_emulator/arm/throttle):

- `{"preset": "arm"}`: ARM's documented token bucket algorithm (learn.microsoft.com/azure/
  azure-resource-manager/management/request-limits-and-throttling): per principal and subscription,
  reads 250 burst / 25 per s, writes 200 burst / 10 per s, deletes 200 burst / 10 per s; `Retry-After` is the
  time until a token is back. Any figure can be overridden in the same body.
- the older form `{"reads": N, "writes": N, "refillPerSecond": r, "retryAfter": s}`: one bucket per
  subscription and kind (deletes count as writes), one refill rate, a fixed `Retry-After`.

Other keys: `readsPerSecond`, `writesPerSecond`, `deletes`, `deletesPerSecond`, `perPrincipal` (bool), and
`clock`: "real" (default) refills on monotonic time, for an SDK that sleeps through Retry-After for real;
"emulator" refills on the emulator's clock, so a test on a virtual clock moves the buckets with its timers
instead of sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# ARM's documented default budget per subscription and hour, reported while throttling is off.
DEFAULT_REMAINING = {"reads": 11999, "writes": 1199, "deletes": 1199}

# ARM's documented token bucket figures (per principal, per subscription and region).
ARM_PRESET: dict[str, Any] = {
    "reads": 250,
    "readsPerSecond": 25,
    "writes": 200,
    "writesPerSecond": 10,
    "deletes": 200,
    "deletesPerSecond": 10,
    "perPrincipal": True,
}

_KNOWN = {
    "preset",
    "reads",
    "writes",
    "deletes",
    "refillPerSecond",
    "readsPerSecond",
    "writesPerSecond",
    "deletesPerSecond",
    "retryAfter",
    "perPrincipal",
    "clock",
}


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Throttle:
    """Token buckets; disabled until `configure` is called. `emulator_now` reads the emulator's clock."""

    emulator_now: Callable[[], float] = time.monotonic
    enabled: bool = False
    capacity: dict[str, float] = field(default_factory=lambda: {"reads": 0.0, "writes": 0.0})
    refill: dict[str, float] = field(default_factory=lambda: {"reads": 1.0, "writes": 1.0})
    retry_after: int | None = 1  # None: computed from the bucket (the time until one token is back)
    per_principal: bool = False
    on_emulator_clock: bool = False
    _buckets: dict[tuple[str, str, str], _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def refill_per_second(self) -> float:
        """The reads' refill rate (the older single-rate form's figure)."""
        return self.refill["reads"]

    def configure(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Turn throttling on from the admin body (see the module docstring); ValueError when malformed."""
        unknown = set(spec) - _KNOWN
        if unknown:
            raise ValueError(f"unknown throttle fields: {sorted(unknown)}")
        preset = spec.get("preset")
        if preset not in (None, "arm"):
            raise ValueError(f"unknown throttle preset {preset!r} (known: 'arm')")
        if spec.get("clock", "real") not in ("real", "emulator"):
            raise ValueError("clock must be 'real' or 'emulator'")
        merged = {**(ARM_PRESET if preset else {}), **spec}
        rate = float(merged.get("refillPerSecond", 1.0))
        capacity = {"reads": float(merged.get("reads", 1000)), "writes": float(merged.get("writes", 1000))}
        refill = {
            "reads": float(merged.get("readsPerSecond", rate)),
            "writes": float(merged.get("writesPerSecond", rate)),
        }
        if "deletes" in merged:
            capacity["deletes"] = float(merged["deletes"])
            refill["deletes"] = float(merged.get("deletesPerSecond", rate))
        if any(v < 0 for v in (*capacity.values(), *refill.values())):
            raise ValueError("bucket sizes and refill rates cannot be negative")
        with self._lock:
            self.enabled = True
            self.capacity, self.refill = capacity, refill
            self.retry_after = int(merged["retryAfter"]) if "retryAfter" in merged else None
            if preset is None and "retryAfter" not in merged:
                self.retry_after = 1  # the older form's default
            self.per_principal = bool(merged.get("perPrincipal", False))
            self.on_emulator_clock = merged.get("clock", "real") == "emulator"
            self._buckets.clear()
        return self.describe()

    def disable(self) -> None:
        """Turn throttling off and forget the buckets."""
        with self._lock:
            self.enabled = False
            self._buckets.clear()

    def describe(self) -> dict[str, Any]:
        """The configuration as JSON."""
        described: dict[str, Any] = {
            "enabled": self.enabled,
            "reads": self.capacity["reads"],
            "writes": self.capacity["writes"],
            "refillPerSecond": self.refill["reads"],
            "readsPerSecond": self.refill["reads"],
            "writesPerSecond": self.refill["writes"],
            "retryAfter": self.retry_after,
            "perPrincipal": self.per_principal,
            "clock": "emulator" if self.on_emulator_clock else "real",
        }
        if "deletes" in self.capacity:
            described["deletes"] = self.capacity["deletes"]
            described["deletesPerSecond"] = self.refill["deletes"]
        return described

    def kind_of(self, method: str) -> str:
        """The bucket a request spends from: reads, writes, or deletes when they have their own bucket."""
        if method in ("GET", "HEAD"):
            return "reads"
        if method == "DELETE" and "deletes" in self.capacity:
            return "deletes"
        return "writes"

    def take(self, subscription: str, kind: str, principal: str = "") -> tuple[bool, int]:
        """Spend one token; returns (allowed, remaining). Always allowed while disabled."""
        allowed, remaining, _ = self.spend(subscription, kind, principal)
        return allowed, remaining

    def spend(self, subscription: str, kind: str, principal: str = "") -> tuple[bool, int, int]:
        """Spend one token; returns (allowed, remaining, retry-after seconds when refused)."""
        if not self.enabled:
            return True, DEFAULT_REMAINING.get(kind, DEFAULT_REMAINING["writes"]), 0
        now = self.emulator_now() if self.on_emulator_clock else time.monotonic()
        with self._lock:
            key = (subscription.lower(), kind, principal if self.per_principal else "")
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.capacity[kind], now)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self.capacity[kind], bucket.tokens + elapsed * self.refill[kind])
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return True, math.floor(bucket.tokens), 0
            return False, 0, self._retry_after(bucket, kind)

    def _retry_after(self, bucket: _Bucket, kind: str) -> int:
        if self.retry_after is not None:
            return self.retry_after
        rate = self.refill[kind]
        if rate <= 0:
            return 3600  # a bucket that never refills: ARM's hourly window is the honest answer
        return max(1, math.ceil((1.0 - bucket.tokens) / rate))
