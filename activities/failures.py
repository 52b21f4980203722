"""Every exception that leaves an activity becomes a ConnectorFailure (classified in connector.errors)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from connector.errors import (
    Category,
    ConnectorError,
    ConnectorFailure,
    classify_arm,
    classify_kube,
    make_error,
)
from telemetry import log as log_record

_LOG = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    if raw is None:
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _arm_error_fields(body_text: str) -> tuple[str | None, str | None]:
    try:
        body = json.loads(body_text)
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error", body)
    if not isinstance(error, dict):
        return None, None
    code, message = error.get("code"), error.get("message")
    return (code if isinstance(code, str) else None, message if isinstance(message, str) else None)


def arm_error(exc: HttpResponseError, resource: str | None) -> ConnectorError:
    """Classify an azure-core HttpResponseError."""
    status = exc.status_code or 0
    code = exc.error.code if exc.error is not None else None
    message = exc.error.message if exc.error is not None else None
    headers = getattr(exc.response, "headers", None)
    if code is None and exc.response is not None:
        try:
            code, message = _arm_error_fields(exc.response.text())
        except Exception:  # the body may be unreadable; the status still classifies
            code = None
    retry_after = _retry_after(headers)
    return classify_arm(status, code, message or exc.reason, retry_after=retry_after, resource=resource)


def raise_for_arm_response(response: Any, resource: str | None) -> None:
    """Raise a classified ConnectorFailure for an ARM HttpResponse of status >= 400."""
    if response.status_code < 400:
        return
    code, message = _arm_error_fields(response.text())
    error = classify_arm(
        response.status_code,
        code,
        message or response.reason,
        retry_after=_retry_after(response.headers),
        resource=resource,
    )
    raise ConnectorFailure(error)


def kube_error(exc: ApiException, resource: str | None) -> ConnectorError:
    """Classify a kubernetes-client ApiException from its Status body."""
    reason, message = None, None
    try:
        body = json.loads(exc.body) if exc.body else {}
        if isinstance(body, dict):
            reason, message = body.get("reason"), body.get("message")
    except (TypeError, ValueError):
        pass
    headers = exc.headers or {}
    return classify_kube(
        int(exc.status or 0),
        reason or exc.reason,
        message,
        resource=resource,
        retry_after=_retry_after(headers),
    )


def to_failure(exc: BaseException, resource: str | None = None) -> ConnectorFailure:
    """The ConnectorFailure for any exception raised while an activity talked to the world."""
    if isinstance(exc, ConnectorFailure):
        return exc
    if isinstance(exc, HttpResponseError) and exc.status_code:
        return ConnectorFailure(arm_error(exc, resource))
    if isinstance(exc, ApiException):
        return ConnectorFailure(kube_error(exc, resource))
    unreachable = ServiceRequestError | ServiceResponseError | Urllib3Error | ConnectionError | TimeoutError
    if isinstance(exc, unreachable):
        message = f"{type(exc).__name__}: {exc}"
        error = make_error(Category.TRANSIENT, "ServiceUnreachable", message, resource=resource)
        return ConnectorFailure(error)
    if isinstance(exc, AzureError):
        return ConnectorFailure(
            make_error(Category.TRANSIENT, "AzureError", f"{type(exc).__name__}: {exc}", resource=resource)
        )
    if isinstance(
        exc, ValueError
    ):  # malformed activity input (an id, a stored connection): retrying cannot help
        message = f"{type(exc).__name__}: {exc}"
        return ConnectorFailure(
            make_error(Category.INVALID, "InvalidActivityInput", message, resource=resource)
        )
    # A bug or an unexpected answer: retried a bounded number of times by the orchestrator, then reported.
    return ConnectorFailure(
        make_error(Category.TRANSIENT, "UnexpectedError", f"{type(exc).__name__}: {exc}", resource=resource)
    )


def classified(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: any exception leaving `func` leaves as a ConnectorFailure (logged without secret values)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            failure = to_failure(exc)
            if failure is not exc:
                log_record(
                    logging.INFO, "activity failed", activity=func.__name__, error_code=failure.error.code
                )
                raise failure from None
            raise

    return wrapper
