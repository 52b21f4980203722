"""App settings and host.json, read the way the Functions host and Core Tools read them.

Precedence (as `func start` does, in Core Tools' StartHostAction.UpdateEnvironmentVariables): a value from
`local.settings.json` `Values` is copied into the process environment only when that variable is unset or
empty; a non-empty environment variable wins and the local setting is skipped (and reported as skipped).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BINDING_EXPRESSION = re.compile(r"%([^%]+)%")


class SettingsError(Exception):
    """A setting, binding expression or host.json value that cannot be used."""


def load_local_settings(
    app_dir: str | Path,
    environ: MutableMapping[str, str] | None = None,
    filename: str = "local.settings.json",
) -> list[str]:
    """Copy `Values` from local.settings.json into `environ`; return the names skipped because already set."""
    environ = os.environ if environ is None else environ
    path = Path(app_dir) / filename
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path} is not valid JSON: {exc}") from exc
    if document.get("IsEncrypted"):
        raise SettingsError(f"{path} is encrypted (IsEncrypted=true); devhost reads plain values only")
    values = document.get("Values") or {}
    skipped: list[str] = []
    for name, value in values.items():
        if not name:
            continue
        if environ.get(name):
            skipped.append(name)
            continue
        environ[name] = "" if value is None else str(value)
    return skipped


def local_http_port(app_dir: str | Path, filename: str = "local.settings.json") -> int | None:
    """`Host.LocalHttpPort` from local.settings.json (the port `func start` uses when none is given)."""
    path = Path(app_dir) / filename
    if not path.exists():
        return None
    try:
        port = (json.loads(path.read_text(encoding="utf-8-sig")).get("Host") or {}).get("LocalHttpPort")
    except json.JSONDecodeError:
        return None
    return int(port) if port is not None else None


def resolve(expression: str, environ: Mapping[str, str] | None = None) -> str:
    """Replace each `%NAME%` in a binding expression with the app setting NAME (unknown: an error)."""
    environ = os.environ if environ is None else environ

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise SettingsError(f"binding expression %{name}% names an app setting that is not defined")
        return environ[name]

    return _BINDING_EXPRESSION.sub(substitute, expression)


@dataclass(frozen=True)
class HostSettings:
    """The parts of host.json the devhost honours."""

    route_prefix: str = "api"
    hub_name: str = "TestHubName"
    max_concurrent_activities: int = 10
    service_bus_max_concurrent_calls: int = 16


def load_host_settings(app_dir: str | Path, environ: Mapping[str, str] | None = None) -> HostSettings:
    """Read host.json from `app_dir` (defaults when absent), resolving `%NAME%` in the hub name."""
    path = Path(app_dir) / "host.json"
    if not path.exists():
        return HostSettings()
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path} is not valid JSON: {exc}") from exc
    extensions = document.get("extensions") or {}
    http = extensions.get("http") or {}
    durable = extensions.get("durableTask") or {}
    service_bus = extensions.get("serviceBus") or {}
    defaults = HostSettings()
    prefix = http.get("routePrefix", defaults.route_prefix)
    return HostSettings(
        route_prefix=(prefix or "").strip("/"),
        hub_name=resolve(str(durable.get("hubName") or defaults.hub_name), environ),
        max_concurrent_activities=int(
            durable.get("maxConcurrentActivityFunctions", defaults.max_concurrent_activities)
        ),
        service_bus_max_concurrent_calls=int(
            # Extension 5.x reads it at the top level; 4.x under messageHandlerOptions.
            service_bus.get("maxConcurrentCalls")
            or (service_bus.get("messageHandlerOptions") or {}).get("maxConcurrentCalls")
            or defaults.service_bus_max_concurrent_calls
        ),
    )
