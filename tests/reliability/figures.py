"""The proof suite's figures: each reliability test records what it measured; the run prints them at the end.

`make test` runs the short form; `make proof` sets PROOF_SCALE=full for the long one. The README's
"Reliability" section copies these lines together with the command that produced them.
"""

from __future__ import annotations

import os
import threading

_LOCK = threading.Lock()
_FIGURES: dict[str, str] = {}


def full_scale() -> bool:
    """True under `make proof` (PROOF_SCALE=full): the long form of every proof."""
    return os.environ.get("PROOF_SCALE", "").strip().lower() == "full"


def scaled(short: int, full: int) -> int:
    """`full` under `make proof`, `short` under `make test`."""
    return full if full_scale() else short


def record(name: str, figure: str) -> None:
    """Keep one figure (e.g. record("hostile input", "2,000 cases, 0 responses >= 500")) for the summary."""
    with _LOCK:
        _FIGURES[name] = figure


def recorded() -> dict[str, str]:
    """The figures recorded so far, by name."""
    with _LOCK:
        return dict(_FIGURES)
