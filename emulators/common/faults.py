"""Fault rules: make matching requests fail, slow down, or lose their connection, N times or by chance."""

from __future__ import annotations

import itertools
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FaultRule:
    """One rule. `status` answers instead of the handler; `drop` closes the socket; `latency` only delays."""

    id: int
    path: re.Pattern[str]
    method: str | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = None
    probability: float = 1.0
    latency: float = 0.0
    drop: bool = False
    rng: random.Random = field(default_factory=random.Random)
    fired: int = 0

    @classmethod
    def from_spec(cls, rule_id: int, spec: dict[str, Any]) -> FaultRule:
        """Build a rule from its admin-API JSON form (see emulators.common docstring)."""
        unknown = set(spec) - {
            "method",
            "path",
            "status",
            "body",
            "headers",
            "times",
            "probability",
            "latency",
            "drop",
            "seed",
        }
        if unknown:
            raise ValueError(f"unknown fault rule fields: {sorted(unknown)}")
        status, drop = spec.get("status"), bool(spec.get("drop", False))
        latency = float(spec.get("latency", 0))
        if status is None and not drop and latency <= 0:
            raise ValueError("a fault rule needs status, drop or latency")
        probability = float(spec.get("probability", 1.0))
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        times = spec.get("times")
        method = spec.get("method")
        return cls(
            id=rule_id,
            path=re.compile(spec.get("path", ".*")),
            method=None if method in (None, "*") else str(method).upper(),
            status=None if status is None else int(status),
            body=spec.get("body"),
            headers={str(k): str(v) for k, v in (spec.get("headers") or {}).items()},
            times=None if times is None else int(times),
            probability=probability,
            latency=latency,
            drop=drop,
            rng=random.Random(spec.get("seed")),
        )

    def describe(self) -> dict[str, Any]:
        """The rule as JSON, with how often it fired."""
        return {
            "id": self.id,
            "method": self.method or "*",
            "path": self.path.pattern,
            "status": self.status,
            "times": self.times,
            "probability": self.probability,
            "latency": self.latency,
            "drop": self.drop,
            "fired": self.fired,
        }


class FaultRules:
    """The active rules, checked in the order they were added; the first one that fires wins."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, spec: dict[str, Any]) -> FaultRule:
        """Add a rule from its JSON form; raises ValueError when the spec is malformed."""
        with self._lock:
            rule = FaultRule.from_spec(next(self._ids), spec)
            self._rules.append(rule)
            return rule

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def list(self) -> list[dict[str, Any]]:
        """Every rule as JSON."""
        with self._lock:
            return [r.describe() for r in self._rules]

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any; counts it against the rule's `times`."""
        with self._lock:
            for rule in self._rules:
                if rule.method is not None and rule.method != method:
                    continue
                if not rule.path.search(path):
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                # A probability miss does not use up one of the rule's `times`.
                if rule.probability < 1.0 and rule.rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
            return None
