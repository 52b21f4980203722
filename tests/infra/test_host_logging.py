"""host.json's logging on Azure: every request is logged, and sampling never drops requests or exceptions.

Host.Results is the category of the `requests` table in Application Insights; at Error only failed
executions reach it (Functions documentation, "Configure monitoring": log categories). Sampling as that
page recommends: adaptive sampling on, with requests and exceptions excluded from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LEVELS = ["Trace", "Debug", "Information", "Warning", "Error", "Critical", "None"]


def logging_settings() -> dict[str, Any]:
    settings: dict[str, Any] = json.loads((ROOT / "host.json").read_text())["logging"]
    return settings


def level_of(category: str) -> str:
    """The level in force for a category: its own entry, else the longest prefix entry, else default."""
    levels = logging_settings()["logLevel"]
    parts = category.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in levels:
            return str(levels[prefix])
    return str(levels.get("default", "Information"))


def test_successful_requests_are_logged() -> None:
    assert LEVELS.index(level_of("Host.Results")) <= LEVELS.index("Information")
    assert LEVELS.index(level_of("Function")) <= LEVELS.index("Information")


def test_sampling_keeps_every_request_and_exception() -> None:
    sampling = logging_settings()["applicationInsights"]["samplingSettings"]
    assert sampling["isEnabled"] is True
    excluded = {kind.strip() for kind in sampling["excludedTypes"].split(";")}
    assert {"Request", "Exception"} <= excluded
