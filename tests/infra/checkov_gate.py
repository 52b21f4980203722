"""Run checkov over infra/ and fail unless it parsed every file, failed no check, and every skip says why.

checkov exits 0 when a file does not parse (the file is then simply not scanned), so its exit code alone
would let a template it cannot read pass unchecked. Usage: checkov_gate.py CHECKOV_BINARY DIRECTORY.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any


def scan(checkov: str, directory: str) -> dict[str, Any]:
    """checkov's JSON report of the Bicep files under `directory` (no download of Prisma Cloud guidelines)."""
    completed = subprocess.run(
        [checkov, "--directory", directory, "--framework", "bicep", "--skip-download", "--output", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(completed.stdout)
    first: dict[str, Any] = report[0] if isinstance(report, list) else report
    return first


def problems(report: dict[str, Any]) -> list[str]:
    """What keeps the scan from passing: failed checks, files not parsed, skips without a reason."""
    results = report.get("results", {})
    found = [
        f"FAILED {c['check_id']} {c['check_name']} on {c['resource']} ({c['file_path']})"
        for c in results.get("failed_checks", [])
    ]
    found += [f"NOT PARSED {path}" for path in results.get("parsing_errors", [])]
    for skipped in results.get("skipped_checks", []):
        reason = (skipped.get("check_result", {}).get("suppress_comment") or "").strip()
        if len(reason) < 20:
            found.append(f"SKIP WITHOUT A REASON {skipped['check_id']} on {skipped['resource']}")
    return found


def main(argv: list[str]) -> int:
    """Scan, print the summary and every problem; exit 1 when there is one."""
    checkov, directory = argv[1], argv[2]
    started = time.monotonic()
    report = scan(checkov, directory)
    elapsed = time.monotonic() - started
    found = problems(report)
    summary = report.get("summary", {})
    print(
        f"checkov {summary.get('checkov_version')}: {summary.get('passed')} passed, "
        f"{summary.get('failed')} failed, {summary.get('skipped')} skipped (each with its reason inline), "
        f"{summary.get('parsing_errors')} not parsed, {summary.get('resource_count')} resources, "
        f"{elapsed:.1f} s"
    )
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
