"""Field ownership (`metadata.managedFields`) and server-side apply, in a simplified form.

Ownership is tracked per leaf: map keys are walked, lists and scalars are atomic leaves. Status and identity
metadata (name, uid, resourceVersion, ...) are owned by nobody."""

from __future__ import annotations

import copy
from typing import Any

from .errors import apply_conflict
from .kinds import Kind
from .patching import deep_merge

Path = tuple[str, ...]
_OWNED_METADATA = ("labels", "annotations", "finalizers", "ownerReferences")


def field_paths(obj: dict[str, Any]) -> set[Path]:
    """The leaf paths an object (or an apply configuration) sets."""
    paths: set[Path] = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata":
            for mkey in _OWNED_METADATA:
                if mkey in (value or {}):
                    _walk(value[mkey], ("metadata", mkey), paths)
            continue
        _walk(value, (key,), paths)
    return paths


def _walk(value: Any, prefix: Path, paths: set[Path]) -> None:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _walk(child, (*prefix, key), paths)
    else:
        paths.add(prefix)


def value_at(obj: Any, path: Path) -> tuple[bool, Any]:
    """(found, value) at a path."""
    current = obj
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return False, None
        current = current[part]
    return True, current


def remove_path(obj: dict[str, Any], path: Path) -> None:
    """Delete a leaf, then any map it leaves empty."""
    chain: list[dict[str, Any]] = [obj]
    for part in path[:-1]:
        nxt = chain[-1].get(part)
        if not isinstance(nxt, dict):
            return
        chain.append(nxt)
    chain[-1].pop(path[-1], None)
    for depth in range(len(chain) - 1, 0, -1):
        if chain[depth]:
            break
        chain[depth - 1].pop(path[depth - 1], None)


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    """The `fieldsV1` tree: `{"f:data": {"f:key": {}}}`."""
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return tree


def from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    """Leaf paths from a `fieldsV1` tree."""
    paths: set[Path] = set()
    for key, child in tree.items():
        if not key.startswith("f:"):
            continue
        path = (*prefix, key[2:])
        if child:
            paths |= from_fields_v1(child, path)
        else:
            paths.add(path)
    return paths


def _entries(obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    if obj is None:
        return []
    return copy.deepcopy((obj.get("metadata") or {}).get("managedFields") or [])


def _entry(manager: str, operation: str, api_version: str, time: str, paths: set[Path]) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(paths),
    }


def _set_entries(obj: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    kept = [e for e in entries if e.get("fieldsV1")]
    obj.setdefault("metadata", {})["managedFields"] = kept


def record_update(
    old: dict[str, Any] | None, new: dict[str, Any], manager: str, api_version: str, time: str
) -> None:
    """Give `manager` (operation Update) the fields this write changed; other managers lose them."""
    old_paths = field_paths(old) if old is not None else set()
    new_paths = field_paths(new)
    changed = {p for p in old_paths | new_paths if value_at(old or {}, p) != value_at(new, p)}
    entries = _entries(old)
    found = False
    for entry in entries:
        paths = from_fields_v1(entry.get("fieldsV1") or {})
        if entry["manager"] == manager and entry["operation"] == "Update":
            found = True
            owned = (paths | changed) & new_paths
            if owned != paths:  # keep the entry (and its time) untouched when nothing moved
                entry.update(_entry(manager, "Update", api_version, time, owned))
        else:
            entry["fieldsV1"] = to_fields_v1({p for p in paths if p not in changed and p in new_paths})
    if not found and changed & new_paths:
        entries.append(_entry(manager, "Update", api_version, time, changed & new_paths))
    _set_entries(new, entries)


def apply(
    kind: Kind,
    name: str,
    live: dict[str, Any] | None,
    config: dict[str, Any],
    manager: str,
    force: bool,
    time: str,
) -> dict[str, Any]:
    """Merge an apply configuration into the live object (or create it), with ownership and conflicts."""
    config_paths = field_paths(config)
    if live is None:
        created = copy.deepcopy(config)
        _set_entries(created, [_entry(manager, "Apply", kind.api_version, time, config_paths)])
        return created
    entries = _entries(live)
    previous: set[Path] = set()
    conflicts: list[tuple[str, str]] = []
    for entry in entries:
        paths = from_fields_v1(entry.get("fieldsV1") or {})
        if entry["manager"] == manager:
            if entry["operation"] == "Apply":
                previous = paths
            continue
        clashing = {p for p in paths & config_paths if value_at(live, p) != value_at(config, p)}
        if clashing and not force:
            conflicts += [(entry["manager"], "." + ".".join(p)) for p in sorted(clashing)]
        entry["fieldsV1"] = to_fields_v1(paths - clashing)
    if conflicts:
        raise apply_conflict(kind, name, conflicts)
    merged = copy.deepcopy(live)
    others = set().union(
        *(
            from_fields_v1(e.get("fieldsV1") or {})
            for e in entries
            if not (e["manager"] == manager and e["operation"] == "Apply")
        )
    )
    for path in previous - config_paths:
        if path not in others:
            remove_path(merged, path)
    merged = require_dict(deep_merge(merged, config))
    mine = next((e for e in entries if e["manager"] == manager and e["operation"] == "Apply"), None)
    if mine is None:
        entries.append(_entry(manager, "Apply", kind.api_version, time, config_paths))
    elif previous != config_paths:  # an unchanged field set keeps its entry (and time): a no-op stays a no-op
        mine.update(_entry(manager, "Apply", kind.api_version, time, config_paths))
    _set_entries(merged, entries)
    return merged


def require_dict(value: Any) -> dict[str, Any]:
    """Narrow a merge result to the object it must be."""
    assert isinstance(value, dict)
    return value


def strip_times(managed_fields: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """managedFields without their timestamps, to tell a real change from a no-op."""
    return [{k: v for k, v in e.items() if k != "time"} for e in managed_fields or []]
