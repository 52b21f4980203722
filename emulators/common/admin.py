"""A small client for the `/_emulator/` admin API, so tests and other emulators need no hand-written HTTP."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any


class AdminCallError(Exception):
    """The admin API answered with an error status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"admin call failed with {status}: {body}")
        self.status = status
        self.body = body


class EmulatorAdmin:
    """Admin client for one emulator. `base_url` is the emulator URL (`https://127.0.0.1:P`), with or without
    the `/_emulator` suffix; `ca_file` is the CA PEM that emulator serves with."""

    def __init__(self, base_url: str, ca_file: str, timeout: float = 10.0) -> None:
        base = base_url.rstrip("/")
        self.admin_url = base if base.endswith("/_emulator") else base + "/_emulator"
        self._ssl = ssl.create_default_context(cafile=ca_file)
        self._timeout = timeout

    def call(self, method: str, path: str, body: Any = None, *, text: str | None = None) -> Any:
        """Call `METHOD /_emulator{path}` with a JSON (or text) body; returns decoded JSON (None if empty)."""
        data, headers = None, {}
        if text is not None:
            data, headers = text.encode(), {"Content-Type": "text/plain"}
        elif body is not None:
            data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
        req = urllib.request.Request(self.admin_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, context=self._ssl, timeout=self._timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise AdminCallError(exc.code, exc.read().decode(errors="replace")) from None
        return json.loads(raw) if raw else None

    def reset(self) -> None:
        """Forget state, fault rules and the journal."""
        self.call("POST", "/reset")

    def seed(self, data: Any) -> Any:
        """Load emulator-specific state."""
        return self.call("POST", "/seed", data)

    def add_fault(
        self,
        path: str = ".*",
        *,
        method: str | None = None,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int | None = None,
        probability: float = 1.0,
        latency: float = 0.0,
        drop: bool = False,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Add a fault rule (see emulators.common); returns it with its `id`."""
        spec: dict[str, Any] = {"path": path, "probability": probability, "latency": latency, "drop": drop}
        for key, value in (
            ("method", method),
            ("status", status),
            ("body", body),
            ("headers", headers),
            ("times", times),
            ("seed", seed),
        ):
            if value is not None:
                spec[key] = value
        result: dict[str, Any] = self.call("POST", "/faults", spec)
        return result

    def faults(self) -> list[dict[str, Any]]:
        """The active rules, each with how often it fired."""
        rules: list[dict[str, Any]] = self.call("GET", "/faults")["rules"]
        return rules

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.call("DELETE", "/faults")

    def journal(self) -> dict[str, Any]:
        """`{"entries": [...], "counters": {...}}`."""
        snapshot: dict[str, Any] = self.call("GET", "/journal")
        return snapshot

    def clear_journal(self) -> None:
        """Forget the journal."""
        self.call("DELETE", "/journal")

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's clock forward; returns its new time."""
        now: float = self.call("POST", "/clock/advance", {"seconds": seconds})["now"]
        return now
