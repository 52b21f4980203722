"""Function, host and master keys kept in a local JSON file, checked as the Functions host checks them.

A request carries its key in the `code` query parameter or the `x-functions-key` header. Auth levels:
anonymous needs nothing; function accepts the function's own key, any host key or the master key; admin
accepts only the master key. The file is created with random keys on first use, readable only by its owner.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ANONYMOUS = "anonymous"
FUNCTION = "function"
ADMIN = "admin"


def _new_key() -> str:
    # Same shape as the host's generated keys: URL-safe, about 56 characters.
    return secrets.token_urlsafe(42)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class KeyStore:
    """The master key, host keys and per-function keys of one devhost, persisted at `path`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._data: dict[str, Any] = self._load_or_create()

    def _load_or_create(self) -> dict[str, Any]:
        if self.path.exists():
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            data.setdefault("hostKeys", {"default": _new_key()})
            data.setdefault("functionKeys", {})
            if "masterKey" not in data:
                data["masterKey"] = _new_key()
            return data
        data = {"masterKey": _new_key(), "hostKeys": {"default": _new_key()}, "functionKeys": {}}
        self._write(data)
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        # Created 0600 from the start: the file holds secrets.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
        os.replace(temporary, self.path)

    @property
    def master_key(self) -> str:
        """The master (admin) key."""
        return str(self._data["masterKey"])

    @property
    def host_keys(self) -> dict[str, str]:
        """Host keys by name; valid for every function-level function."""
        return dict(self._data["hostKeys"])

    def system_key(self, name: str) -> str:
        """A system key (e.g. the Durable extension's `durabletask_extension`), created on first use."""
        system: dict[str, str] = self._data.setdefault("systemKeys", {})
        if name not in system:
            system[name] = _new_key()
            self._write(self._data)
        return system[name]

    def grants_system(self, name: str, presented: str | None) -> bool:
        """Whether `presented` is the system key `name` or the master key (what extension webhooks accept)."""
        if not presented:
            return False
        return _same(presented, self.system_key(name)) or _same(presented, self.master_key)

    def function_keys(self, function_name: str) -> dict[str, str]:
        """Keys of one function by name, creating its `default` key on first use."""
        keys: dict[str, str] = self._data["functionKeys"].get(function_name.lower(), {})
        if not keys:
            keys = {"default": _new_key()}
            self._data["functionKeys"][function_name.lower()] = keys
            self._write(self._data)
        return dict(keys)

    def ensure_function_keys(self, function_names: list[str]) -> None:
        """Create missing default keys for these functions in one write."""
        missing = [n.lower() for n in function_names if not self._data["functionKeys"].get(n.lower())]
        if missing:
            for name in missing:
                self._data["functionKeys"][name] = {"default": _new_key()}
            self._write(self._data)

    def is_authorized(self, auth_level: str, function_name: str | None, presented: str | None) -> bool:
        """Whether `presented` grants `auth_level` access to `function_name` (None: a host-level endpoint)."""
        level = auth_level.lower()
        if level == ANONYMOUS:
            return True
        if not presented:
            return False
        if _same(presented, self.master_key):
            return True
        if level == ADMIN:
            return False
        accepted = list(self.host_keys.values())
        if function_name is not None:
            accepted += list(self.function_keys(function_name).values())
        return any(_same(presented, key) for key in accepted)


def presented_key(query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    """The key a request carries: the `x-functions-key` header first, then the `code` query parameter."""
    return headers.get("x-functions-key") or query.get("code") or None
