"""How results and errors look: the table columns of each command, and errors with their mitigation."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from aks_connector.errors import mitigation_of, scope_of, without_mitigation_suffix
from aks_connector.progress import parse_time, phase_of
from aks_connector.shapes import as_dict


def _properties(item: Any) -> dict[str, Any]:
    props = item.get("properties") if isinstance(item, dict) else None
    return props if isinstance(props, dict) else {}


def linker_rows(data: Any) -> list[dict[str, Any]]:
    """A linker or a list of linkers: name, state, target, auth, client type, namespace (null-tolerant)."""
    rows = []
    for item in data if isinstance(data, list) else [data]:
        props = _properties(item)
        target = as_dict(props.get("targetService"))
        auth = as_dict(props.get("authInfo"))
        rows.append(
            {
                "Name": (item or {}).get("name"),
                "ProvisioningState": props.get("provisioningState"),
                "Target": str(target.get("id") or "").rsplit("/providers/", 1)[-1],
                "AuthType": auth.get("authType"),
                "ClientType": props.get("clientType"),
                "Namespace": props.get("scope"),
            }
        )
    return rows


def configuration_rows(data: Any) -> list[dict[str, Any]]:
    """listConfigurations: one row per setting (secret values are null: shown empty)."""
    items = (data or {}).get("configurations") or [] if isinstance(data, dict) else []
    return [{"Name": c.get("name"), "Value": c.get("value")} for c in items if isinstance(c, dict)]


def check_rows(data: Any) -> list[dict[str, Any]]:
    """validateLinker: one row per check."""
    details = (data or {}).get("validationDetail") or [] if isinstance(data, dict) else []
    return [
        {
            "Check": d.get("name"),
            "Result": d.get("result"),
            "Description": d.get("description"),
            "Error": d.get("errorMessage"),
        }
        for d in details
        if isinstance(d, dict)
    ]


def support_rows(data: Any) -> list[dict[str, Any]]:
    """list-support-types: one row per target kind."""
    return [
        {
            "TargetType": d.get("targetType"),
            "AuthTypes": ", ".join(d.get("authTypes") or []),
            "ClientTypes": ", ".join(d.get("clientTypes") or []),
        }
        for d in (data or [])
    ]


def diagnose_rows(data: Any) -> list[dict[str, Any]]:
    """diagnostics: one row per connection, with its last error and mitigation."""
    rows = []
    for c in (data or {}).get("connections") or [] if isinstance(data, dict) else []:
        error = as_dict(c.get("lastError"))
        operation = as_dict(c.get("lastOperation"))
        rows.append(
            {
                "Connection": str(c.get("linkerId") or "").rsplit("/", 1)[-1],
                "State": c.get("provisioningState"),
                "LastOperation": operation.get("kind") or operation.get("name"),
                "Error": error.get("code"),
                "Mitigation": mitigation_of(error) if error else None,
            }
        )
    return rows


def operation_rows(data: Any) -> list[dict[str, Any]]:
    """An operation status: the steps done (times, attempts), then the current one and its next check."""
    if not isinstance(data, dict):
        return []
    progress = _properties(data).get("progress")
    if not isinstance(progress, dict):
        row = {
            "Step": "",
            "State": data.get("status"),
            "Started": data.get("startTime"),
            "Ended": data.get("endTime"),
        }
        error = as_dict(data.get("error"))
        return [{**row, "Detail": error.get("code") or ""}]
    rows = [
        {
            "Phase": phase_of(str(s.get("step"))),
            "Step": s.get("step"),
            "State": "done",
            "Attempts": s.get("attempts"),
            "Started": s.get("startedAt"),
            "Ended": s.get("endedAt"),
            "Detail": "",
        }
        for s in progress.get("steps") or []
        if isinstance(s, dict)
    ]
    waiting = parse_time(progress.get("nextCheckAt")) is not None
    detail = str(progress.get("detail") or "")
    if waiting:
        detail += f"; next check at {progress.get('nextCheckAt')}"
    rows.append(
        {
            "Phase": phase_of(str(progress.get("step"))),
            "Step": progress.get("step"),
            "State": "waiting" if waiting else "running",
            "Attempts": int(progress.get("attempt") or 0) + 1,
            "Started": progress.get("startedAt"),
            "Ended": "",
            "Detail": detail,
        }
    )
    return rows


def print_diagnostics(console: Console, body: dict[str, Any]) -> None:
    """After the table: what the cluster shows now, then each failed connection's error, mitigation and the
    diagnostics collected when it failed."""
    collected = as_dict(body.get("collected"))
    if collected:
        console.print("\ncluster now:", style="bold", highlight=False)
        print_collected(console, collected)
    for c in body.get("connections") or []:
        error = c.get("lastError") if isinstance(c, dict) and isinstance(c.get("lastError"), dict) else None
        if not error:
            continue
        console.print(f"\n{str(c.get('linkerId') or '').rsplit('/', 1)[-1]}:", style="bold", highlight=False)
        print_error(console, error, prefix="  ")
        diagnostics = as_dict(error.get("diagnostics"))
        print_collected(console, diagnostics)


def print_collected(console: Console, diagnostics: dict[str, Any]) -> None:
    """What the connector collected from the cluster when an operation failed (activities/diagnostics.py)."""
    extension = as_dict(diagnostics.get("extension"))
    if extension:
        console.print(f"  sc-extension: {extension.get('provisioningState')}", highlight=False, markup=False)
    for status in extension.get("statuses") or []:
        if isinstance(status, dict):
            text = f"  extension status: {status.get('code')}: {status.get('message')}"
            console.print(text, highlight=False, markup=False)
    job = as_dict(diagnostics.get("job"))
    if job:
        counts = ", ".join(f"{k} {job.get(k)}" for k in ("active", "succeeded", "failed"))
        console.print(f"  sc-job: {counts}", highlight=False, markup=False)
    logs = as_dict(diagnostics.get("jobLogs"))
    for line in logs.get("lines") or []:
        console.print(f"  sc-job log: {line}", highlight=False, markup=False)
    for what, why in (diagnostics.get("unavailable") or {}).items():
        console.print(f"  not collected: {what}: {why}", highlight=False, markup=False)


def print_error(console: Console, error: dict[str, Any], prefix: str = "") -> None:
    """An ARM error as `ERROR: (Code) message`, then the target or scope it names and its mitigation."""
    mitigation = mitigation_of(error)
    message = without_mitigation_suffix(str(error.get("message") or ""), mitigation)
    label = "" if prefix else "ERROR: "
    console.print(f"{prefix}{label}({error.get('code')}) {message}", highlight=False, markup=False)
    target = scope_of(error)
    if target:
        console.print(f"{prefix}Target: {target}", highlight=False, markup=False)
    if mitigation:
        console.print(f"{prefix}Mitigation: {mitigation}", highlight=False, markup=False)
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("code") not in ("scope",):
            console.print(
                f"{prefix}  {detail.get('code')}: {detail.get('message')}", highlight=False, markup=False
            )
