"""Reading the Bicep templates through pycep-parser's JSON: app settings, role assignments and their scopes.

pycep renders a string literal and an identifier alike (both as a Python str), so a value is taken for a
literal only when it names no parameter, variable, resource or module of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

INFRA = Path(__file__).resolve().parents[2] / "infra"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"


@cache
def parse(relative: str) -> dict[str, Any]:
    """The parsed form of one template under infra/ (parsed once per run; callers must not change it)."""
    parsed: dict[str, Any] = dict(BicepParser().parse(file_path=INFRA / relative))
    return parsed


def unquote(key: str) -> str:
    """An object key as written: pycep keeps the quotes of a quoted key ('azd-env-name')."""
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == "'" else key


def symbols(document: dict[str, Any]) -> set[str]:
    """Every name the file declares (parameters, variables, resources, modules)."""
    names: set[str] = set()
    for section in ("parameters", "variables", "resources", "modules"):
        names.update(document.get(section) or {})
    return names


def string_leaves(value: Any) -> Iterator[str]:
    """Every string anywhere inside an expression (literals and identifiers alike)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from string_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_leaves(item)


def resolved_strings(value: Any, variables: dict[str, Any], seen: frozenset[str] = frozenset()) -> set[str]:
    """The strings of an expression, with each variable it names replaced by that variable's strings."""
    found: set[str] = set()
    for leaf in string_leaves(value):
        if leaf in variables and leaf not in seen:
            found |= resolved_strings(variables[leaf]["value"], variables, seen | {leaf})
        else:
            found.add(leaf)
    return found


def target_scope(document: dict[str, Any]) -> str:
    """The file's targetScope (resourceGroup when it sets none)."""
    scope = ((document.get("globals") or {}).get("scope") or {}).get("value")
    return str(scope) if scope else "resourceGroup"


@dataclass(frozen=True)
class Grant:
    """One role assignment resource: the role names it loops over and where it applies."""

    file: str
    resource: str
    roles: frozenset[str]
    # The symbol of the `scope:` property, or None: the deployment scope of the file.
    scope_symbol: str | None
    scope_type: str


def grants(relative: str) -> list[Grant]:
    """The role assignments of one template, each with the role names of the variable it loops over."""
    document = parse(relative)
    variables = document.get("variables") or {}
    resources = document.get("resources") or {}
    found = []
    for name, resource in resources.items():
        if resource.get("type") != ROLE_ASSIGNMENT:
            continue
        outer = resource["config"]
        loop = (outer.get("loop_type") or {}).get("detail") or {}
        array = loop.get("array_name")
        roles = resolved_strings(variables[array]["value"], variables) if isinstance(array, str) else set()
        body = outer.get("config", outer)
        scope = body.get("scope")
        if isinstance(scope, str):
            scope_type = resources[scope]["type"]
        else:
            scope, scope_type = None, target_scope(document)
        found.append(Grant(relative, name, frozenset(roles), scope, scope_type))
    return found


def object_keys(value: Any) -> set[str]:
    """The keys of an object literal."""
    return {unquote(key) for key in value} if isinstance(value, dict) else set()
