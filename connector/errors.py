"""Error classification: ARM and Kubernetes failures into categories with stable codes and mitigations.

Errors are classified once, here. Activities turn an SDK failure into a ConnectorError with `classify_arm` /
`classify_kube` and raise it as ConnectorFailure; the Durable host then hands the orchestrator only text
("Activity function 'x' failed: <message> \\n {details}"), from which `parse_failure_text` recovers the error:
`to_failure_text` wraps the JSON between markers that cannot occur inside the payload.

Mitigation texts follow the troubleshooting section of the Service Connector for AKS documentation
(https://learn.microsoft.com/azure/service-connector/how-to-use-service-connector-in-aks#troubleshoot-and-check-logs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Category(StrEnum):
    """What kind of failure happened, which decides what the orchestrator does next."""

    TRANSIENT = "transient"  # 408, 5xx, Kubernetes resourceVersion conflicts: retry with backoff
    THROTTLED = "throttled"  # 429: retry after Retry-After
    CLUSTER_BUSY = "clusterBusy"  # the cluster or extension is updating: wait for Succeeded, then retry
    PROVIDER_NOT_REGISTERED = "providerNotRegistered"  # register the resource provider, then retry
    UNAUTHORIZED = "unauthorized"  # 401/403: fail at once, naming the action and scope
    NOT_FOUND = "notFound"  # 404: fail at once
    INVALID = "invalid"  # 400/422: fail at once
    TIMED_OUT = "timedOut"  # a wait exceeded its limit: fail with diagnostics
    CONFLICT = "conflict"  # other 409s: fail at once
    EXTENSION_FAILED = "extensionFailed"  # sc-extension install/update failed: fail with diagnostics


_RETRYABLE = frozenset(
    {Category.TRANSIENT, Category.THROTTLED, Category.CLUSTER_BUSY, Category.PROVIDER_NOT_REGISTERED}
)

_EXTENSION_CHECKS = (
    "Check the extension with `az k8s-extension show --cluster-type managedClusters --cluster-name <cluster> "
    "--resource-group <group> --name sc-extension` (look at `statuses`), the Helm release with "
    "`helm list -n sc-system`, and the job with `kubectl describe job/sc-job -n sc-system` and "
    "`kubectl logs job/sc-job -n sc-system`. Extension pods cannot be scheduled when every node pool is "
    "tainted CriticalAddonsOnly; firewalled clusters must allow egress to scaksextension.azurecr.io."
)

MITIGATIONS: Mapping[Category, str] = MappingProxyType(
    {
        Category.TRANSIENT: (
            "A temporary failure in Azure or the cluster. The operation is retried automatically; if it "
            "keeps failing, check the service health of the region and the cluster's API server."
        ),
        Category.THROTTLED: (
            "Azure Resource Manager throttled the requests. The operation is retried after the interval the "
            "server asked for; reduce concurrent operations on the subscription if it persists."
        ),
        Category.CLUSTER_BUSY: (
            "The cluster is being updated (provisioningState Updating) or another operation on it is in "
            "progress. Wait until the cluster's provisioningState is Succeeded "
            "(`az aks show -g <group> -n <cluster> --query provisioningState`), then retry."
        ),
        Category.PROVIDER_NOT_REGISTERED: (
            "The subscription is not registered for the resource provider. Register it with "
            "`az provider register -n Microsoft.KubernetesConfiguration` (or the namespace named in the "
            "message) and wait until its registrationState is Registered, then retry."
        ),
        Category.UNAUTHORIZED: (
            "The identity the connector runs as lacks a permission. Grant it a role that includes the named "
            "action on the named scope; if access was recently granted, refresh the credentials and retry."
        ),
        Category.NOT_FOUND: (
            "A resource the connection refers to does not exist. Check the cluster, target and identity ids "
            "in the request, and that they are in the expected subscription."
        ),
        Category.INVALID: "The request was refused as invalid. Correct the named field and send it again.",
        Category.TIMED_OUT: "The operation did not finish in time. " + _EXTENSION_CHECKS,
        Category.CONFLICT: (
            "The resource is in a state that conflicts with the request (for example it already exists with "
            "other settings). Inspect it, resolve the conflict, then retry."
        ),
        Category.EXTENSION_FAILED: "The Service Connector cluster extension failed. " + _EXTENSION_CHECKS,
    }
)


def is_retryable(category: Category) -> bool:
    """True when trying again can succeed (after waiting, or after registering the provider)."""
    return category in _RETRYABLE


_MAX_MESSAGE = 2000
# Credential-looking fragments are masked in any message we keep (defence in depth: ARM and Kubernetes do not
# usually echo secrets, but connection strings can appear in validation messages).
_CREDENTIAL = re.compile(
    r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|Password|pwd|client_secret|clientSecret|secret)"
    r"(\s*[=:]\s*)('[^']*'|\"[^\"]*\"|[^;\s,'\"]+)"
)


def redact(text: str) -> str:
    """Mask credential values (key=value forms) in a message, and bound its length."""
    masked = _CREDENTIAL.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return masked if len(masked) <= _MAX_MESSAGE else masked[: _MAX_MESSAGE - 1] + "…"


def _redact_tree(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _redact_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_tree(v) for v in value]
    return value


@dataclass(frozen=True)
class ConnectorError:
    """A classified failure: JSON-safe data carried through orchestrations and recorded in the registry."""

    category: Category
    code: str
    message: str
    mitigation: str
    resource: str | None = None
    retry_after: float | None = None
    diagnostics: Mapping[str, Any] | None = None
    # For UNAUTHORIZED: the ARM action and scope that were refused.
    action: str | None = None
    scope: str | None = None
    # For PROVIDER_NOT_REGISTERED: the resource provider namespace ARM named (the one to register).
    provider: str | None = None

    @property
    def retryable(self) -> bool:
        """True when trying again can succeed."""
        return is_retryable(self.category)

    def with_diagnostics(self, diagnostics: Mapping[str, Any]) -> ConnectorError:
        """A copy carrying collected diagnostics (extension statuses, Helm release, sc-job logs)."""
        # Logs and statuses come from the cluster: mask anything credential-shaped before keeping them.
        return replace(self, diagnostics={**(self.diagnostics or {}), **_redact_tree(diagnostics)})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (camelCase keys, None fields omitted)."""
        out: dict[str, Any] = {
            "category": self.category.value,
            "code": self.code,
            "message": self.message,
            "mitigation": self.mitigation,
        }
        optional = {
            "resource": self.resource,
            "retryAfter": self.retry_after,
            "diagnostics": dict(self.diagnostics) if self.diagnostics is not None else None,
            "action": self.action,
            "scope": self.scope,
            "provider": self.provider,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConnectorError:
        """Rebuild from `to_dict` output; ValueError when the shape is wrong."""
        try:
            category = Category(data["category"])
            code, message, mitigation = str(data["code"]), str(data["message"]), str(data["mitigation"])
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"Not a connector error: {exc}") from None
        retry_after = data.get("retryAfter")
        diagnostics = data.get("diagnostics")
        return cls(
            category=category,
            code=code,
            message=message,
            mitigation=mitigation,
            resource=_opt_str(data.get("resource")),
            retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
            diagnostics=dict(diagnostics) if isinstance(diagnostics, Mapping) else None,
            action=_opt_str(data.get("action")),
            scope=_opt_str(data.get("scope")),
            provider=_opt_str(data.get("provider")),
        )

    def to_failure_text(self) -> str:
        """A readable line, then the JSON payload between markers (survives Durable's failure wrapping)."""
        payload = json.dumps(self.to_dict(), ensure_ascii=True, separators=(",", ":"), sort_keys=True)
        # No '<' may appear inside the payload, so the end marker cannot occur in it.
        payload = payload.replace("<", "\\u003c")
        return f"{self.code}: {self.message} {_BEGIN}{payload}{_END}"

    def to_arm_error(self) -> dict[str, Any]:
        """The ARM error body for this failure: {"error": {"code", "message", "target", "details"}}."""
        body: dict[str, Any] = {"code": self.code, "message": f"{self.message} Mitigation: {self.mitigation}"}
        if self.resource:
            body["target"] = self.resource
        return {"error": body}


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_BEGIN = "<<connector-error>>"
_END = "<</connector-error>>"


def parse_failure_text(text: str) -> ConnectorError | None:
    """Find a ConnectorError embedded anywhere in a failure text (also when JSON-escaped inside Details)."""
    if not isinstance(text, str):
        return None
    start = 0
    while (begin := text.find(_BEGIN, start)) >= 0:
        end = text.find(_END, begin + len(_BEGIN))
        if end < 0:
            return None
        found = _decode(text[begin + len(_BEGIN) : end])
        if found is not None:
            return found
        start = begin + len(_BEGIN)
    return None


def _decode(segment: str) -> ConnectorError | None:
    candidate: Any = segment
    # Up to two rounds of unescaping: the payload may sit inside one or two JSON string encodings.
    for _ in range(3):
        try:
            data = json.loads(candidate)
        except ValueError:
            data = None
        if isinstance(data, dict):
            try:
                return ConnectorError.from_dict(data)
            except ValueError:
                return None
        try:
            candidate = json.loads(f'"{candidate}"')
        except ValueError:
            return None
        if not isinstance(candidate, str):
            return None
    return None


class ConnectorFailure(Exception):
    """The exception an activity raises: carries `.error`; its text embeds the error for the orchestrator."""

    def __init__(self, error: ConnectorError) -> None:
        super().__init__(error.to_failure_text())
        self.error = error

    def __str__(self) -> str:
        return self.error.to_failure_text()


def make_error(
    category: Category,
    code: str,
    message: str,
    *,
    resource: str | None = None,
    retry_after: float | None = None,
    diagnostics: Mapping[str, Any] | None = None,
) -> ConnectorError:
    """Build a ConnectorError with the category's mitigation (message redacted and bounded)."""
    return ConnectorError(
        category=category,
        code=code,
        message=redact(message),
        mitigation=MITIGATIONS[category],
        resource=resource,
        retry_after=retry_after,
        diagnostics=diagnostics,
    )


def connection_not_found(linker_id: str) -> ConnectorError:
    """The error for a linker that has no registry entry (never created, deleted, or lost by the store)."""
    return make_error(
        Category.NOT_FOUND, "ConnectionNotFound", f"No registry entry for {linker_id}.", resource=linker_id
    )


def timed_out(
    what: str,
    waited_seconds: float,
    *,
    resource: str | None = None,
    diagnostics: Mapping[str, Any] | None = None,
) -> ConnectorError:
    """The error for a wait that exceeded its limit (e.g. the extension never reached Succeeded)."""
    return make_error(
        Category.TIMED_OUT,
        "OperationTimedOut",
        f"Timed out after {waited_seconds:g} s waiting for {what}.",
        resource=resource,
        diagnostics=diagnostics,
    )


def extension_failed(
    message: str, *, resource: str | None = None, diagnostics: Mapping[str, Any] | None = None
) -> ConnectorError:
    """The error for an sc-extension whose provisioningState is Failed (message from its `statuses`)."""
    return make_error(
        Category.EXTENSION_FAILED,
        "ExtensionOperationFailed",
        message,
        resource=resource,
        diagnostics=diagnostics,
    )


# "The client 'x' with object id 'y' does not have authorization to perform action 'A' over scope 'S' ..."
_AUTHZ = re.compile(r"perform action '(?P<action>[^']+)' over scope '(?P<scope>[^']+)'", re.IGNORECASE)
# LinkedAuthorizationFailed: "... does not have permission to perform action(s) 'A'
# on the linked scope(s) 'S' ..."
_LINKED_AUTHZ = re.compile(
    r"perform action\(s\) '(?P<action>[^']+)' on the linked scope\(s\) '(?P<scope>[^']+)'", re.IGNORECASE
)
_NOT_REGISTERED = re.compile(r"not registered to use namespace '?(?P<ns>[\w.]+)'?", re.IGNORECASE)
# 409 codes that mean "a resource is busy with another operation: the same request succeeds later". Decided by
# code alone, never by message wording; where each code comes from, and the one assumption among them, is in
# docs/error-codes.md.
_BUSY_CODES = frozenset(
    {
        "operationnotallowed",  # AKS: another operation on the managed cluster is in progress
        "anotheroperationinprogress",
        "operationpreempted",
        "etagmismatch",  # AKS: a concurrent write changed the cluster ("Another operation is in progress")
        "extensionpatchfailed",  # extension RP: the extension is Creating/Updating/Deleting
        "extensionputfailed",  # assumption: PUT worded like PATCH
        "extensiondeletefailed",  # assumption: DELETE worded like PATCH
    }
)


# Role-assignment codes for a principal that exists but has not replicated yet ("PrincipalNotFound: ... If you
# are creating this principal and then immediately assigning a role, this error might be related to a
# replication delay"), per ARM's role-assignment troubleshooting page.
_REPLICATION_DELAY_CODES = frozenset({"principalnotfound"})


def classify_arm(
    status: int,
    code: str | None,
    message: str | None,
    *,
    retry_after: float | None = None,
    resource: str | None = None,
) -> ConnectorError:
    """Classify an ARM failure from its HTTP status, `error.code` and `error.message`."""
    text = message or ""
    lowered = (code or "").lower()
    stable = code or _status_code_name(status)

    def build(category: Category, *, retry_after: float | None = None) -> ConnectorError:
        return make_error(
            category, stable, text or f"HTTP {status}", resource=resource, retry_after=retry_after
        )

    if lowered == "missingsubscriptionregistration":
        unregistered = _NOT_REGISTERED.search(text)  # the namespace, for the mitigation; not the decision
        provider = unregistered.group("ns") if unregistered else None
        return replace(build(Category.PROVIDER_NOT_REGISTERED), provider=provider)
    if status == 429:
        return build(Category.THROTTLED, retry_after=retry_after)
    if status in (401, 403) or lowered in ("authorizationfailed", "linkedauthorizationfailed"):
        found = _LINKED_AUTHZ.search(text) or _AUTHZ.search(text)
        if found:
            action, scope = found.group("action"), found.group("scope")
            return replace(
                build(Category.UNAUTHORIZED),
                mitigation=_unauthorized_mitigation(action, scope),
                action=action,
                scope=scope,
            )
        return build(Category.UNAUTHORIZED)
    if status == 408 or status >= 500:
        return build(Category.TRANSIENT, retry_after=retry_after)
    if status == 409:
        if lowered in _BUSY_CODES:
            return build(Category.CLUSTER_BUSY, retry_after=retry_after)
        return build(Category.CONFLICT)
    if status == 404:
        return build(Category.NOT_FOUND)
    if lowered in _REPLICATION_DELAY_CODES:
        # A principal created moments ago is not yet visible to ARM's authorization store (documented as a
        # replication delay): the same request succeeds once it is, so wait and retry within the deadline.
        return build(Category.TRANSIENT, retry_after=retry_after)
    if 400 <= status < 500:
        return build(Category.INVALID)
    return build(Category.TRANSIENT)


def _unauthorized_mitigation(action: str, scope: str) -> str:
    return (
        f"Grant the identity the connector runs as a role that includes the action '{action}' on the scope "
        f"'{scope}' (or a parent scope). If access was recently granted, refresh the credentials and retry."
    )


def classify_kube(
    status: int,
    reason: str | None,
    message: str | None,
    *,
    resource: str | None = None,
    retry_after: float | None = None,
) -> ConnectorError:
    """Classify a Kubernetes API failure from its HTTP status and `Status.reason`.

    A 429 (API Priority and Fairness, or a webhook's rate limit) is THROTTLED with the server's Retry-After:
    retrying sooner only adds load to an API server that asked for less.
    """
    text = message or ""
    reason_l = (reason or "").lower()
    code = f"Kubernetes{reason or _status_code_name(status)}"

    def build(category: Category, *, retry_after: float | None = None) -> ConnectorError:
        return make_error(
            category,
            code,
            text or f"Kubernetes API returned HTTP {status}",
            resource=resource,
            retry_after=retry_after,
        )

    if status == 403 or reason_l == "forbidden":
        # Decided by status and reason alone: on AKS a 403 is Azure RBAC for Kubernetes (Entra-integrated
        # clusters) or a Kubernetes RBAC binding; the mitigation names the AKS RBAC role and the scope.
        return replace(
            make_error(
                Category.UNAUTHORIZED,
                "AuthorizationFailed",
                text or f"Kubernetes API returned HTTP {status}",
                resource=resource,
            ),
            mitigation=_aks_rbac_mitigation(resource),
            scope=resource,
        )
    if status == 401 or reason_l == "unauthorized":
        return build(Category.UNAUTHORIZED)
    if status == 404 or reason_l == "notfound":
        return build(Category.NOT_FOUND)
    if status == 409:
        # A resourceVersion conflict means someone wrote in between: read again and retry.
        return build(Category.CONFLICT if reason_l == "alreadyexists" else Category.TRANSIENT)
    if status == 422 or reason_l == "invalid":
        return build(Category.INVALID)
    if status == 429 or reason_l == "toomanyrequests":
        return build(Category.THROTTLED, retry_after=retry_after)
    if status in (408, 504) or status >= 500 or reason_l in ("timeout", "servertimeout", "internalerror"):
        return build(Category.TRANSIENT)
    if status == 400:
        return build(Category.INVALID)
    return build(Category.TRANSIENT)


# The AKS built-in role that lets the connector read and write Secrets and ServiceAccounts in a namespace
# (learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers).
AKS_RBAC_WRITER_ROLE = "Azure Kubernetes Service RBAC Writer"


def _aks_rbac_mitigation(scope: str | None) -> str:
    where = f"'{scope}'" if scope else "the cluster"
    return (
        f"Grant the identity the connector runs as the '{AKS_RBAC_WRITER_ROLE}' role on the scope {where} "
        "(or '<cluster id>/namespaces/<namespace>' for one namespace) when the cluster uses Azure RBAC for "
        "Kubernetes; otherwise bind it a Kubernetes Role that allows the same. If access was recently "
        "granted, retry."
    )


def _status_code_name(status: int) -> str:
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        408: "RequestTimeout",
        409: "Conflict",
        422: "UnprocessableEntity",
        429: "TooManyRequests",
        500: "InternalServerError",
        502: "BadGateway",
        503: "ServiceUnavailable",
        504: "GatewayTimeout",
    }
    return names.get(status, f"HttpStatus{status}")
