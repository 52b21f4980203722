"""Reading nested ARM JSON without a chain of `.get` calls."""

from __future__ import annotations

from typing import Any


def dig(data: Any, *path: str | int, default: Any = None) -> Any:
    """The value at a path of keys and list indexes, or `default` when any step is missing."""
    current = data
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, list) or not -len(current) <= step < len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, dict):
                return default
            # ARM property names are case-insensitive in practice (issuerURL vs issuerUrl): try both.
            if step in current:
                current = current[step]
            else:
                match = next((k for k in current if isinstance(k, str) and k.lower() == step.lower()), None)
                if match is None:
                    return default
                current = current[match]
    return current


def value_at(data: Any, dotted: str) -> Any:
    """The value at a dotted path with list indexes, e.g. "keys[0].value"; None when missing."""
    steps: list[str | int] = []
    for part in dotted.split("."):
        name, _, rest = part.partition("[")
        if name:
            steps.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            steps.append(int(index))
            rest = rest.lstrip("[")
    return dig(data, *steps)


def wire(sdk_model: Any) -> dict[str, Any]:
    """An SDK model as its ARM wire JSON (camelCase, nested), for both SDK generations.

    msrest-based models (msi, authorization, resources) serialize with `serialize(keep_readonly=True)`;
    TypeSpec-based models (containerservice, extensions) are mappings over the wire JSON (`as_dict()`).
    """
    if sdk_model is None:
        return {}
    serialize = getattr(sdk_model, "serialize", None)
    if callable(serialize):
        return dict(serialize(keep_readonly=True))
    return dict(sdk_model.as_dict())
