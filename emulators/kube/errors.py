"""Kubernetes `Status` errors with the API server's reasons, codes and message shapes."""

from __future__ import annotations

from typing import Any

from .kinds import Kind


class KubeError(Exception):
    """An error answered as a `Status` object whose `code` is also the HTTP status."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The `Status` body."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(kind: Kind, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if kind.group:
        details["group"] = kind.group
    details["kind"] = kind.plural
    return details


def not_found(kind: Kind, name: str) -> KubeError:
    """`secrets "x" not found` (404)."""
    return KubeError(404, "NotFound", f'{kind.resource} "{name}" not found', _details(kind, name))


def namespace_not_found(name: str) -> KubeError:
    """`namespaces "x" not found` (404), as when creating into a missing namespace."""
    return KubeError(404, "NotFound", f'namespaces "{name}" not found', {"name": name, "kind": "namespaces"})


def already_exists(kind: Kind, name: str) -> KubeError:
    """`secrets "x" already exists` (409)."""
    return KubeError(409, "AlreadyExists", f'{kind.resource} "{name}" already exists', _details(kind, name))


def conflict(kind: Kind, name: str) -> KubeError:
    """A stale resourceVersion (409 Conflict)."""
    return KubeError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {kind.resource} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        _details(kind, name),
    )


def apply_conflict(kind: Kind, name: str, conflicts: list[tuple[str, str]]) -> KubeError:
    """A server-side apply that would take fields another manager owns, without `force` (409 Conflict)."""
    causes = [
        {"reason": "FieldManagerConflict", "message": f'conflict with "{manager}"', "field": path}
        for manager, path in conflicts
    ]
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        message = f'Apply failed with 1 conflict: conflict with "{manager}": {path}'
    else:
        lines = "\n".join(f'- conflict with "{manager}": {path}' for manager, path in conflicts)
        message = f"Apply failed with {len(conflicts)} conflicts:\n{lines}"
    details = _details(kind, name)
    details["causes"] = causes
    return KubeError(409, "Conflict", message, details)


class Cause:
    """One field error, as `field.Error` renders it."""

    def __init__(self, field: str, type_: str, detail: str, value: Any = None) -> None:
        self.field, self.type, self.detail, self.value = field, type_, detail, value

    @classmethod
    def invalid(cls, field: str, value: Any, detail: str) -> Cause:
        """`field: Invalid value: "v": detail`."""
        return cls(field, "FieldValueInvalid", detail, value)

    @classmethod
    def required(cls, field: str, detail: str) -> Cause:
        """`field: Required value: detail`."""
        return cls(field, "FieldValueRequired", detail)

    @classmethod
    def forbidden(cls, field: str, detail: str) -> Cause:
        """`field: Forbidden: detail`."""
        return cls(field, "FieldValueForbidden", detail)

    @classmethod
    def too_long(cls, field: str, limit: int) -> Cause:
        """`field: Too long: must have at most N bytes`."""
        return cls(field, "FieldValueTooLong", f"must have at most {limit} bytes")

    def error_body(self) -> str:
        """The message without the field prefix."""
        if self.type == "FieldValueInvalid":
            shown = f'"{self.value}"' if isinstance(self.value, str) else str(self.value)
            return f"Invalid value: {shown}: {self.detail}"
        if self.type == "FieldValueRequired":
            return f"Required value: {self.detail}"
        if self.type == "FieldValueTooLong":
            return f"Too long: {self.detail}"
        return f"Forbidden: {self.detail}"

    def text(self) -> str:
        """`field: <body>`."""
        return f"{self.field}: {self.error_body()}"


def invalid(kind_name: str, name: str, causes: list[Cause], group: str = "") -> KubeError:
    """`Secret "x" is invalid: metadata.name: Invalid value: ...` (422 Invalid)."""
    texts = [c.text() for c in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    qualified = f"{kind_name}.{group}" if group else kind_name
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind_name
    details["causes"] = [{"reason": c.type, "message": c.error_body(), "field": c.field} for c in causes]
    return KubeError(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details)


def invalid_kind(kind: Kind, name: str, causes: list[Cause]) -> KubeError:
    """`invalid` for a registered kind."""
    return invalid(kind.kind, name, causes, kind.group)


def bad_request(message: str) -> KubeError:
    """400 BadRequest."""
    return KubeError(400, "BadRequest", message)


def patch_rejected(detail: str) -> KubeError:
    """A patch that cannot be applied to the object (422)."""
    return KubeError(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
        {"causes": [{"message": detail}]},
    )


def unsupported_media_type(accepted: list[str]) -> KubeError:
    """415 for a patch type the resource does not accept."""
    return KubeError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def unauthorized() -> KubeError:
    """401 for a missing or wrong bearer token."""
    return KubeError(401, "Unauthorized", "Unauthorized")


def forbidden(message: str, kind: Kind | None = None, name: str = "") -> KubeError:
    """403 Forbidden."""
    return KubeError(403, "Forbidden", message, _details(kind, name) if kind else None)


def route_not_found() -> KubeError:
    """404 for a path the API server does not serve."""
    return KubeError(404, "NotFound", "the server could not find the requested resource", {})


def method_not_allowed() -> KubeError:
    """405 for a method the path does not support."""
    return KubeError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}
    )
