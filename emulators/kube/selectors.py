"""Label and field selectors, parsed as the API server parses them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .kinds import Kind

_KEY = r"(?:[a-z0-9A-Z.\-_]+/)?[a-zA-Z0-9](?:[-a-zA-Z0-9_.]*[a-zA-Z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_NOT_EXISTS = re.compile(rf"^\s*!\s*({_KEY})\s*$")
_EXISTS = re.compile(rf"^\s*({_KEY})\s*$")
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^()]*)\)\s*$")
_EQUALITY = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_COMPARE = re.compile(rf"^\s*({_KEY})\s*(<|>)\s*(-?\d+)\s*$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")

Labels = Mapping[str, str]


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector."""

    key: str
    op: str  # in, notin, exists, !, gt, lt
    values: tuple[str, ...] = ()

    def matches(self, labels: Labels) -> bool:
        """Whether `labels` satisfy this clause."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if not present:
            return False
        try:
            number = int(value or "")
        except ValueError:
            return False
        bound = int(self.values[0])
        return number > bound if self.op == "gt" else number < bound


def _split_top_level(selector: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _parse_values(raw: str, clause: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in raw.split(","))
    for value in values:
        if not _VALUE_RE.match(value):
            raise bad_request(f'unable to parse requirement: invalid label value: "{value}" in "{clause}"')
    return values


def parse_label_selector(selector: str | None) -> list[Requirement]:
    """Parse `a=b,c!=d,e in (f,g),h notin (i),j,!k,n>3`; raises 400 BadRequest when malformed."""
    if selector is None or not selector.strip():
        return []
    requirements = []
    for clause in _split_top_level(selector):
        if m := _NOT_EXISTS.match(clause):
            requirements.append(Requirement(m.group(1), "!"))
        elif m := _SET.match(clause):
            requirements.append(Requirement(m.group(1), m.group(2), _parse_values(m.group(3), clause)))
        elif m := _EQUALITY.match(clause):
            op = "notin" if m.group(2) == "!=" else "in"
            requirements.append(Requirement(m.group(1), op, (m.group(3),)))
        elif m := _COMPARE.match(clause):
            requirements.append(Requirement(m.group(1), "gt" if m.group(2) == ">" else "lt", (m.group(3),)))
        elif m := _EXISTS.match(clause):
            requirements.append(Requirement(m.group(1), "exists"))
        else:
            raise bad_request(
                f'unable to parse requirement: invalid label selector clause "{clause.strip()}"'
            )
    return requirements


def label_matcher(selector: str | None) -> Callable[[dict[str, Any]], bool]:
    """A predicate on objects for a label selector."""
    requirements = parse_label_selector(selector)
    return lambda obj: all(r.matches((obj.get("metadata") or {}).get("labels") or {}) for r in requirements)


def _field_value(obj: dict[str, Any], path: str) -> str:
    current: Any = obj
    for part in path.split("."):
        current = current.get(part) if isinstance(current, dict) else None
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def field_matcher(kind: Kind, selector: str | None) -> Callable[[dict[str, Any]], bool]:
    """A predicate on objects for a field selector (`metadata.name=x,type!=y`); 400 for unsupported fields."""
    if selector is None or not selector.strip():
        return lambda obj: True
    supported = {"metadata.name", "metadata.namespace"} | kind.field_selectors
    clauses = []
    for clause in selector.split(","):
        m = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", clause)
        if not m:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{clause}'")
        if m.group(1) not in supported:
            raise bad_request(f"field label not supported: {m.group(1)}")
        clauses.append((m.group(1), m.group(2) != "!=", m.group(3)))
    return lambda obj: all((_field_value(obj, path) == value) == equal for path, equal, value in clauses)
