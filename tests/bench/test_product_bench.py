"""The product benchmark at a tiny size: its four tables print with their columns, and the no-drift pass
writes nothing while the drift pass repairs exactly what drifted."""

from __future__ import annotations

import pytest

from bench.__main__ import main


def _rows(output: str, header_start: str) -> tuple[list[str], list[list[str]]]:
    """The header cells and data rows of the Markdown table whose header begins with `header_start`."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return header, rows


def test_the_product_tables_print_and_a_pass_without_drift_writes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(
            [
                "--product-only",
                "--create",
                "10",
                "--product-sizes",
                "20",
                "--clusters",
                "2",
                "--namespaces",
                "2",
                "--drift",
                "0.1",
                "--reconcile-timeout",
                "120",
            ]
        )
        == 0
    )
    output = capsys.readouterr().out

    header, rows = _rows(output, "| connections | client threads |")
    assert header[2:5] == ["product", "floor", "ratio (bar <= 1.25)"]
    assert rows[0][0] == "10" and rows[0][-1] == "10"  # all ten Succeeded

    header, rows = _rows(output, "| connections | clusters | time |")
    assert "ARM reads per cluster" in header and "kube lists per namespace" in header
    assert "largest history" in header
    no_drift = dict(zip(header, rows[0], strict=True))
    assert no_drift["connections"] == "20"
    assert no_drift["writes"] == "0"

    header, rows = _rows(output, "| connections | drifted")
    drift = dict(zip(header, rows[0], strict=True))
    assert drift["drifted (Secrets deleted or changed)"] == "2"
    assert drift["repaired"] == "2 (ok)" and drift["writes"] == "2"

    header, rows = _rows(output, "| scenario | cluster |")
    assert [(r[0], r[1]) for r in rows] == [
        (scenario, cluster)
        for scenario in ("secret", "workload identity", "Key Vault CSI")
        for cluster in ("fresh", "ready")
    ]
    assert all(r[-1] == "Completed" for r in rows)
