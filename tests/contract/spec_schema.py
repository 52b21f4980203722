"""Reads the vendored ServiceLinker specs (spec/): which properties a definition declares, per api-version.

Used to check that a response carries every property of its version's schema (oav judges what is there; it
does not ask for properties the schema leaves optional, and Azure answers them all, null when unset).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from tests.contract.traffic import SPEC_ROOT

SERVICELINKER = SPEC_ROOT / "servicelinker" / "resource-manager" / "Microsoft.ServiceLinker" / "ServiceLinker"
SPEC_FILES = {
    "2022-05-01": SERVICELINKER / "stable" / "2022-05-01" / "servicelinker.json",
    "2022-11-01-preview": SERVICELINKER / "preview" / "2022-11-01-preview" / "servicelinker.json",
    "2023-04-01-preview": SERVICELINKER / "preview" / "2023-04-01-preview" / "servicelinker.json",
    "2024-04-01": SERVICELINKER / "stable" / "2024-04-01" / "servicelinker.json",
    "2024-07-01-preview": SERVICELINKER / "preview" / "2024-07-01-preview" / "servicelinker.json",
}


@cache
def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _resolve(path: Path, ref: str) -> tuple[Path, dict[str, Any]]:
    file_part, _, pointer = ref.partition("#")
    target = (path.parent / file_part).resolve() if file_part else path
    node: Any = _load(target)
    for part in pointer.strip("/").split("/"):
        node = node[part]
    return target, node


def _schema_properties(path: Path, schema: dict[str, Any]) -> dict[str, tuple[Path, dict[str, Any]]]:
    if "$ref" in schema:
        path, schema = _resolve(path, schema["$ref"])
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for parent in schema.get("allOf", []):
        found.update(_schema_properties(path, parent))
    for name, prop in schema.get("properties", {}).items():
        found[name] = (path, prop)
    return found


def properties(api_version: str, definition: str) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Every property `definition` declares at `api_version`, its own and its allOf parents'."""
    path = SPEC_FILES[api_version]
    return _schema_properties(path, {"$ref": f"#/definitions/{definition}"})


def readable_names(api_version: str, definition: str) -> set[str]:
    """The property names a response of `definition` carries: all but write-only secrets (x-ms-secret)."""
    return {
        name for name, (_, prop) in properties(api_version, definition).items() if not prop.get("x-ms-secret")
    }


def discriminated(api_version: str, base: str, value: str) -> str:
    """The definition whose x-ms-discriminator-value is `value` among those deriving from `base`."""
    definitions = _load(SPEC_FILES[api_version])["definitions"]
    for name, schema in definitions.items():
        parents = [p.get("$ref", "") for p in schema.get("allOf", [])]
        if f"#/definitions/{base}" in parents and schema.get("x-ms-discriminator-value") == value:
            return str(name)
    raise KeyError(f"{base}={value} at {api_version}")
