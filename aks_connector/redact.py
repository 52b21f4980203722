"""A stream that never lets a secret given on the command line reach the terminal or a pipe."""

from __future__ import annotations

from collections.abc import Set
from typing import IO, Any

REDACTED = "<redacted>"


class RedactingStream:
    """Wraps stdout or stderr: every write has the known secret values replaced."""

    def __init__(self, stream: IO[str], secrets: Set[str]) -> None:
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        """Write `text` with every secret replaced."""
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, REDACTED)
        return self._stream.write(text)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self._stream.flush()

    def isatty(self) -> bool:
        """Whether the wrapped stream is a terminal (rich decides on live views with it)."""
        return bool(getattr(self._stream, "isatty", lambda: False)())

    def fileno(self) -> int:
        """The wrapped stream's descriptor (rich reads the terminal size with it)."""
        return int(self._stream.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
