"""ASP.NET-style route templates as HTTP triggers use them: `{name}`, `{id:int}`, `{x:regex(...)}`, `{name?}`,
`{*path}` and `{name=default}`. Literals match case-insensitively, as in ASP.NET Core routing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


class RouteError(ValueError):
    """A route template that cannot be compiled."""


def _is_int(value: str, low: int, high: int) -> bool:
    try:
        number = int(value)
    except ValueError:
        return False
    return low <= number <= high and value.strip() == value


def _is_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_SIMPLE_CONSTRAINTS: dict[str, Callable[[str], bool]] = {
    "int": lambda v: _is_int(v, *_INT32),
    "long": lambda v: _is_int(v, *_INT64),
    "bool": lambda v: v.lower() in ("true", "false"),
    "alpha": lambda v: bool(re.fullmatch(r"[A-Za-z]+", v)),
    "guid": _is_guid,
    "datetime": _is_datetime,
    "decimal": _is_float,
    "double": _is_float,
    "float": _is_float,
}


def _constraint(text: str, template: str) -> Callable[[str], bool]:
    name, _, argument = text.partition("(")
    name = name.strip().lower()
    if not argument:
        if name not in _SIMPLE_CONSTRAINTS:
            raise RouteError(f"unknown route constraint '{text}' in '{template}'")
        return _SIMPLE_CONSTRAINTS[name]
    if not argument.endswith(")"):
        raise RouteError(f"unclosed constraint '{text}' in '{template}'")
    argument = argument[:-1]
    if name == "regex":
        # ASP.NET tests regex constraints with IsMatch (unanchored), ignoring case; braces are doubled in
        # templates (`{{2}}`) so they are not read as parameters.
        pattern = re.compile(argument.replace("{{", "{").replace("}}", "}"), re.IGNORECASE)
        return lambda v: pattern.search(v) is not None
    numbers = [int(a) for a in argument.split(",")]
    if name == "minlength":
        return lambda v: len(v) >= numbers[0]
    if name == "maxlength":
        return lambda v: len(v) <= numbers[0]
    if name == "length":
        return (
            (lambda v: len(v) == numbers[0])
            if len(numbers) == 1
            else (lambda v: numbers[0] <= len(v) <= numbers[1])
        )
    if name == "min":
        return lambda v: _is_int(v, numbers[0], _INT64[1])
    if name == "max":
        return lambda v: _is_int(v, _INT64[0], numbers[0])
    if name == "range":
        return lambda v: _is_int(v, numbers[0], numbers[1])
    raise RouteError(f"unknown route constraint '{text}' in '{template}'")


@dataclass
class _Parameter:
    name: str
    optional: bool = False
    catch_all: bool = False
    default: str | None = None
    constraints: list[Callable[[str], bool]] = field(default_factory=list)


def _split_constraints(body: str) -> list[str]:
    # Split on ':' except inside parentheses, so `regex(^a:b$)` stays whole.
    parts, depth, current = [], 0, ""
    for char in body:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == ":" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _parse_parameter(body: str, template: str) -> _Parameter:
    head, *constraint_texts = _split_constraints(body)
    default = None
    if "=" in head:
        head, default = head.split("=", 1)
    catch_all = head.startswith("*")
    head = head.lstrip("*")
    optional = head.endswith("?")
    if constraint_texts and constraint_texts[-1].endswith("?"):
        optional = True
        constraint_texts[-1] = constraint_texts[-1][:-1]
    head = head.rstrip("?")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", head):
        raise RouteError(f"bad route parameter name '{head}' in '{template}'")
    return _Parameter(
        head,
        optional or catch_all or default is not None,
        catch_all,
        default,
        [_constraint(c, template) for c in constraint_texts],
    )


def _tokens(segment: str, template: str) -> list[str | _Parameter]:
    tokens: list[str | _Parameter] = []
    position = 0
    for match in re.finditer(r"\{((?:[^{}]|\([^)]*\))+)\}", segment):
        if match.start() > position:
            tokens.append(segment[position : match.start()])
        tokens.append(_parse_parameter(match.group(1), template))
        position = match.end()
    if position < len(segment):
        tokens.append(segment[position:])
    return tokens


class RouteTemplate:
    """One compiled template; `match(path)` gives the route parameters or None."""

    def __init__(self, template: str) -> None:
        self.template = template.strip("/")
        self.parameters: list[_Parameter] = []
        pattern = ""
        self._score: list[int] = []
        segments = self.template.split("/") if self.template else []
        for index, segment in enumerate(segments):
            tokens = _tokens(segment, template)
            separator = "/" if index else ""
            if len(tokens) == 1 and isinstance(tokens[0], _Parameter):
                parameter = tokens[0]
                self.parameters.append(parameter)
                body = (
                    f"(?P<{parameter.name}>.*)" if parameter.catch_all else (f"(?P<{parameter.name}>[^/]+)")
                )
                if parameter.optional:
                    pattern += f"(?:{re.escape(separator)}{body})?"
                else:
                    pattern += re.escape(separator) + body
                # Precedence as in ASP.NET: literal, then constrained, then plain, then catch-all.
                self._score.append(4 if parameter.catch_all else 2 if parameter.constraints else 3)
                continue
            pattern += re.escape(separator)
            complex_segment = False
            for token in tokens:
                if isinstance(token, str):
                    pattern += re.escape(token)
                else:
                    complex_segment = True
                    self.parameters.append(token)
                    pattern += f"(?P<{token.name}>[^/]+?)"
            self._score.append(2 if complex_segment else 1)
        names = [p.name.lower() for p in self.parameters]
        if len(names) != len(set(names)):
            raise RouteError(f"route '{template}' uses a parameter name twice")
        self._regex = re.compile(f"^{pattern}$", re.IGNORECASE)

    @property
    def precedence(self) -> tuple[int, ...]:
        """Sort key: more specific templates first."""
        return (*self._score, 5)

    def match(self, path: str) -> dict[str, str] | None:
        """Route parameters for `path` (without leading slash), or None when the template does not match."""
        found = self._regex.match(path.strip("/"))
        if not found:
            return None
        values: dict[str, str] = {}
        for parameter in self.parameters:
            value = found.group(parameter.name)
            if value is None or value == "":
                if parameter.default is not None:
                    values[parameter.name] = parameter.default
                continue
            if not all(check(value) for check in parameter.constraints):
                return None
            values[parameter.name] = value
        return values


def join_route(prefix: str, route: str) -> str:
    """The full route of a function under the host's routePrefix."""
    return "/".join(part.strip("/") for part in (prefix, route) if part.strip("/"))
