"""Printing results as az does: `-o json|yaml|table|tsv`, after an optional `--query` (JMESPath)."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import jmespath
import yaml
from jmespath.exceptions import JMESPathError
from rich.console import Console
from rich.table import Table

from aks_connector.errors import usage_error

TableRows = Callable[[Any], list[dict[str, Any]]]


class OutputFormat(StrEnum):
    """The output formats az offers (jsonc and none aside)."""

    JSON = "json"
    YAML = "yaml"
    TABLE = "table"
    TSV = "tsv"


def apply_query(data: Any, query: str | None) -> Any:
    """The data after the JMESPath query (unchanged without one); a bad query is a usage error."""
    if not query:
        return data
    try:
        return jmespath.search(query, data)
    except JMESPathError as error:
        raise usage_error(f"Invalid --query: {error}", "--query") from None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _rows(data: Any) -> list[dict[str, Any]]:
    items = data if isinstance(data, list) else [data]
    rows: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict):
            rows.append({k: v for k, v in item.items() if _scalar(v)})
        else:
            rows.append({"Result": item})
    return rows


def render(
    console: Console, data: Any, output: OutputFormat, query: str | None, table_rows: TableRows | None = None
) -> None:
    """Print `data` in the chosen format; tables use `table_rows` (the command's columns) unless queried."""
    data = apply_query(data, query)
    # Through the console's stream, never print(): that stream is the one that redacts secrets.
    write = console.file.write
    if output is OutputFormat.JSON:
        write(json.dumps(data, indent=2) + "\n")
        return
    if output is OutputFormat.YAML:
        write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        return
    rows = table_rows(data) if table_rows is not None and not query else _rows(data)
    if output is OutputFormat.TSV:
        for row in rows:
            write("\t".join(_text(v) for v in row.values()) + "\n")
        return
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    table = Table(*columns, show_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*(_text(row.get(c)) for c in columns))
    console.print(table)
