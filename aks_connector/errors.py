"""What can go wrong in a command, and the exit code each maps to (0 success, 1 failed, 2 usage, 3 auth)."""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3


class CliError(Exception):
    """A command ends with an error: an ARM-shaped `error` object and the exit code it maps to."""

    def __init__(self, error: dict[str, Any], exit_code: int = EXIT_FAILED) -> None:
        super().__init__(str(error.get("message") or error.get("code") or "error"))
        self.error = error
        self.exit_code = exit_code


def usage_error(message: str, target: str | None = None) -> CliError:
    """Bad or missing command-line input (exit 2); nothing was sent."""
    error: dict[str, Any] = {"code": "InvalidArgument", "message": message}
    if target:
        error["target"] = target
    return CliError(error, EXIT_USAGE)


def exit_code_for_status(status: int, code: str = "") -> int:
    """The exit code of a refused HTTP request: 401/403 are authentication or authorization, 400 is usage."""
    if status in (401, 403) or code in ("AuthorizationFailed", "Unauthorized", "AuthenticationFailed"):
        return EXIT_AUTH
    if status in (400, 415):
        return EXIT_USAGE
    return EXIT_FAILED


def mitigation_of(error: dict[str, Any]) -> str | None:
    """The mitigation the product attached to an error (additionalInfo's ConnectorError, or lastError's)."""
    if error.get("mitigation"):
        return str(error["mitigation"])
    for info in error.get("additionalInfo") or []:
        if isinstance(info, dict) and isinstance(info.get("info"), dict) and info["info"].get("mitigation"):
            return str(info["info"]["mitigation"])
    return None


def scope_of(error: dict[str, Any]) -> str | None:
    """The target or scope an error names (the field, resource or scope it is about)."""
    if error.get("target"):
        return str(error["target"])
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("code") == "scope":
            return str(detail.get("message"))
    for info in error.get("additionalInfo") or []:
        if isinstance(info, dict) and isinstance(info.get("info"), dict) and info["info"].get("scope"):
            return str(info["info"]["scope"])
    return str(error["scope"]) if error.get("scope") else None


def without_mitigation_suffix(message: str, mitigation: str | None) -> str:
    """The message without the ' Mitigation: ...' the API appends (the CLI prints the mitigation apart)."""
    if mitigation and message.endswith(f" Mitigation: {mitigation}"):
        return message[: -len(f" Mitigation: {mitigation}")]
    return message
