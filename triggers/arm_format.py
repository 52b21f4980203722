"""ARM's response shapes: JSON responses, error bodies, async-operation URLs and operation status bodies."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

import azure.functions as func

from connector.errors import parse_failure_text
from connector.wire import SUPPORTED_API_VERSIONS

# Operation status URLs carry a location segment, as ServiceLinker's do; this product has one location.
OPERATION_LOCATION = "local"
OPERATION_STATUS_API_VERSION = "2022-05-01"
INVALID_API_VERSION = "InvalidApiVersionParameter"
AUTHORIZATION_FAILED = "AuthorizationFailed"
RESOURCE_NOT_FOUND = "ResourceNotFound"
ANOTHER_OPERATION_IN_PROGRESS = "AnotherOperationInProgress"
INTERNAL_ERROR = "InternalServerError"
UNSUPPORTED_MEDIA_TYPE = "UnsupportedMediaType"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> func.HttpResponse:
    """A JSON response (no body at all when `body` is None)."""
    text = None if body is None else json.dumps(body)
    return func.HttpResponse(
        text, status_code=status, headers=headers or {}, mimetype="application/json", charset="utf-8"
    )


def error_response(
    status: int, code: str, message: str, target: str | None = None, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    """An ARM error response: {"error": {"code", "message", "target"?}}."""
    error: dict[str, Any] = {"code": code, "message": message}
    if target is not None:
        error["target"] = target
    return json_response(status, {"error": error}, headers)


def api_version_error(api_version: str | None) -> func.HttpResponse | None:
    """ARM's 400 for a missing or unsupported api-version; None when it is supported."""
    if api_version in SUPPORTED_API_VERSIONS:
        return None
    supported = ", ".join(SUPPORTED_API_VERSIONS)
    if not api_version:
        message = (
            f"The api-version query parameter is required. The supported api-versions are '{supported}'."
        )
    else:
        shown = api_version[:40]
        message = (
            f"The api-version '{shown}' is invalid for resource type 'Microsoft.ServiceLinker/linkers'. "
            f"The supported api-versions are '{supported}'."
        )
    return error_response(400, INVALID_API_VERSION, message, "api-version")


def forbidden(action: str, scope: str) -> func.HttpResponse:
    """ARM's 403 AuthorizationFailed for a scope outside ALLOWED_SCOPES."""
    message = (
        f"The client does not have authorization to perform action '{action}' over scope '{scope}' or the "
        "scope is invalid. This connector instance may act only inside its ALLOWED_SCOPES setting."
    )
    return error_response(403, AUTHORIZATION_FAILED, message)


def not_found(resource_id: str) -> func.HttpResponse:
    """ARM's 404 for a resource that does not exist."""
    return error_response(404, RESOURCE_NOT_FOUND, f"The resource '{resource_id}' was not found.")


def operation_url(
    base_url: str, subscription_id: str, operation_id: str, api_version: str | None = None
) -> str:
    """The Azure-AsyncOperation URL of an operation, on the public base URL (TriggerSettings), with the
    api-version of the request that started it (as ARM answers), or OPERATION_STATUS_API_VERSION."""
    version = api_version if api_version in SUPPORTED_API_VERSIONS else OPERATION_STATUS_API_VERSION
    return (
        f"{base_url}/subscriptions/{quote(subscription_id)}/providers/Microsoft.ServiceLinker"
        f"/locations/{OPERATION_LOCATION}/operationStatuses/{quote(operation_id)}"
        f"?api-version={version}"
    )


def is_json_media_type(content_type: str) -> bool:
    """True for application/json and application/*+json, with no charset or a UTF-8 one."""
    media_type, _, parameters = content_type.partition(";")
    kind, _, subtype = media_type.strip().lower().partition("/")
    if kind != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return False
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def unsupported_media_type(content_type: str) -> func.HttpResponse:
    """ARM's 415 for a body that is not JSON."""
    shown = content_type[:80]
    return error_response(
        415,
        UNSUPPORTED_MEDIA_TYPE,
        f"The content type '{shown}' is not supported: send the body as application/json (UTF-8).",
        "Content-Type",
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _error_of(output: Any, failure_text: str | None) -> dict[str, Any]:
    """The ARM error of a failed operation: the classified error, its mitigation and diagnostics."""
    error = output.get("error") if isinstance(output, dict) else None
    if not isinstance(error, dict) and failure_text:
        parsed = parse_failure_text(failure_text)
        error = parsed.to_dict() if parsed is not None else None
    if not isinstance(error, dict):
        # An unclassified crash: its text may hold anything, so it is not echoed.
        return {"code": INTERNAL_ERROR, "message": "The operation failed unexpectedly; see the app's logs."}
    body: dict[str, Any] = {"code": str(error.get("code")), "message": str(error.get("message"))}
    if error.get("mitigation"):
        body["message"] = f"{body['message']} Mitigation: {error['mitigation']}"
    details = [{"code": k, "message": str(error[k])} for k in ("action", "scope") if error.get(k)]
    if details:
        body["details"] = details
    extra = {k: error[k] for k in ("mitigation", "action", "scope", "diagnostics") if error.get(k)}
    if extra:
        body["additionalInfo"] = [{"type": "ConnectorError", "info": extra}]
    return body


# What a watcher needs from a running operation's custom status (orchestrators/flow.py): where it is, what it
# waits for and when it checks next, and the steps done with their times.
PROGRESS_FIELDS = ("step", "attempt", "detail", "startedAt", "nextCheckAt", "steps")


def operation_status_body(status: Any, operation_id: str, subscription_id: str) -> dict[str, Any]:
    """ARM's async-operation body for a Durable instance status (a running, finished or failed operation)."""
    payload = status.input_ if isinstance(status.input_, dict) else {}
    resource_id = payload.get("linkerId") or payload.get("clusterId")
    runtime = status.runtime_status.value if status.runtime_status is not None else "Pending"
    body: dict[str, Any] = {
        "id": (
            f"/subscriptions/{subscription_id}/providers/Microsoft.ServiceLinker/locations/"
            f"{OPERATION_LOCATION}/operationStatuses/{operation_id}"
        ),
        "name": operation_id,
        "resourceId": resource_id,
        "startTime": _iso(status.created_time),
    }
    output = status.output
    if runtime in ("Pending", "Running", "ContinuedAsNew", "Suspended"):
        body["status"] = "Deleting" if status.name == "disconnect" else "Accepted"
        # Where a long operation is (waiting for the cluster, installing the extension...): the custom status
        # holds ids and names only, so it can be shown; a slow operation is no longer a silent one.
        progress = status.custom_status
        if isinstance(progress, dict) and progress.get("step"):
            body["properties"] = {"progress": {k: progress[k] for k in PROGRESS_FIELDS if k in progress}}
        return body
    body["endTime"] = _iso(status.last_updated_time)
    if runtime in ("Terminated", "Canceled"):
        body["status"] = "Canceled"
        return body
    # An output that carries an error failed, whether or not it names a provisioningState (a reconcile that
    # could not read the registry reports only its error).
    succeeded = runtime == "Completed" and (
        not isinstance(output, dict)
        or (output.get("provisioningState", "Succeeded") == "Succeeded" and not output.get("error"))
    )
    if succeeded:
        body["status"] = "Succeeded"
        properties = output.get("validation") if isinstance(output, dict) else None
        body["properties"] = properties if isinstance(properties, dict) else {}  # ARM answers {}, not null
        if status.name in ("reconcile", "reset_extension") and isinstance(output, dict):
            body["properties"] = {k: v for k, v in output.items() if k != "error"}
        return body
    body["status"] = "Failed"
    body["error"] = _error_of(output, output if isinstance(output, str) else None)
    return body
