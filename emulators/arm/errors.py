"""Typed ARM errors with the wording Azure uses: clients meet the codes and messages they will meet for real.

Every error renders as ARM's envelope `{"error": {"code", "message", "target"?, "details"?}}`, which
azure-core parses into `HttpResponseError.error` (reference: local-stand-ins.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ArmError(Exception):
    """An ARM error response: HTTP status, ARM code and message, optional target, details and headers."""

    status: int
    code: str
    message: str
    target: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}: {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON body ARM sends for this error."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        return {"error": error}


def authentication_missing() -> ArmError:
    """401 when no bearer token is sent (ARM's wording for a missing Authorization header)."""
    return ArmError(
        401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
    )


def authentication_malformed() -> ArmError:
    """401 when the Authorization header is not a bearer token."""
    return ArmError(
        401,
        "InvalidAuthenticationToken",
        "The access token is invalid. The 'Authorization' header must use the Bearer scheme.",
    )


def resource_not_found(resource_type: str, name: str, resource_group: str) -> ArmError:
    """404 for a resource that does not exist in an existing resource group."""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def resource_group_not_found(resource_group: str) -> ArmError:
    """404 for a resource group that does not exist."""
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{resource_group}' could not be found.")


def subscription_not_found(subscription_id: str) -> ArmError:
    """404 for a subscription the emulator does not know."""
    return ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.")


def provider_not_found(namespace: str, subscription_id: str) -> ArmError:
    """404 for an unknown resource provider namespace."""
    return ArmError(
        404,
        "InvalidResourceNamespace",
        f"The resource namespace '{namespace}' is invalid.",
        target=subscription_id,
    )


def no_route(method: str, path: str) -> ArmError:
    """400 for a request path the emulated ARM does not serve (ARM's wording for unknown routes)."""
    return ArmError(
        400,
        "InvalidResourceType",
        f"The resource type could not be found for the request '{method} {path}'.",
    )


def missing_subscription_registration(namespace: str) -> ArmError:
    """409 while the subscription has not registered the provider (text from the ARM troubleshooting page)."""
    return ArmError(
        409,
        "MissingSubscriptionRegistration",
        f"The subscription is not registered to use namespace '{namespace}'. "
        "See https://aka.ms/rps-not-found for how to register subscriptions.",
        details=[
            {
                "code": "MissingSubscriptionRegistration",
                "target": namespace,
                "message": f"The subscription is not registered to use namespace '{namespace}'. "
                "See https://aka.ms/rps-not-found for how to register subscriptions.",
            }
        ],
    )


def cluster_operation_in_progress(operation: str, started_at: str) -> ArmError:
    """409 OperationNotAllowed for a write while the cluster is busy, worded as AKS words it.

    Seen in Azure/azure-workload-identity#417 and hashicorp/terraform-provider-azurerm#28878:
    "Operation is not allowed because there's an in progress <op> managed cluster operation on the managed
    cluster started at <time>. Please wait for it to finish before starting a new operation.
    See https://aka.ms/aks-pending-operation for more details".
    """
    return ArmError(
        409,
        "OperationNotAllowed",
        f"Operation is not allowed because there's an in progress {operation} managed cluster operation on "
        f"the managed cluster started at {started_at}. Please wait for it to finish before starting a new "
        "operation. See https://aka.ms/aks-pending-operation for more details",
    )


def extension_cluster_not_ready(cluster_name: str, state: str) -> ArmError:
    """409 for an extension write while its managed cluster is not in a terminal Succeeded state.

    Assumption (docs/error-codes.md): the extension RP answers with AKS's pending-operation error.
    """
    return ArmError(
        409,
        "OperationNotAllowed",
        f"Operation is not allowed: Another operation ({state}) is in progress, please wait for it to finish "
        "before starting a new operation. See https://aka.ms/aks-pending-operation for more details",
    )


def extension_operation_in_progress(state: str, method: str) -> ArmError:
    """409 for an extension write while another operation on the same extension runs.

    The PATCH wording is the extension RP's (Azure/azure-cli-extensions#7502); PUT and DELETE follow it by
    assumption (docs/error-codes.md).
    """
    return ArmError(
        409,
        f"Extension{method.capitalize()}Failed",
        f"The {method.upper()} method cannot be completed due to a conflict. "
        f"(ProvisioningState of extension: {state}). Please wait for a few minutes for the ProvisioningState "
        "to change to Succeeded, Failed or Canceled and retry again. If the problem persists, please contact "
        "Microsoft support.",
    )


def invalid_request(code: str, message: str, target: str | None = None) -> ArmError:
    """400 with a given ARM code and message."""
    return ArmError(400, code, message, target=target)


def invalid_role_assignment_id(name: str) -> ArmError:
    """400 when a role assignment name is not a GUID."""
    return ArmError(
        400,
        "InvalidRoleAssignmentId",
        f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
    )


def role_definition_does_not_exist(guid: str) -> ArmError:
    """400 when the role definition id does not name a known role."""
    return ArmError(
        400,
        "RoleDefinitionDoesNotExist",
        f"The specified role definition with ID '{guid}' does not exist.",
    )


def role_assignment_exists(existing_id: str) -> ArmError:
    """409 when the same principal, role and scope is already assigned under another name."""
    existing_name = existing_id.rsplit("/", 1)[-1].replace("-", "")
    return ArmError(
        409,
        "RoleAssignmentExists",
        f"The role assignment already exists. The ID of the existing role assignment is {existing_name}.",
    )


def authorization_failed(client_id: str, object_id: str, action: str, scope: str) -> ArmError:
    """403 AuthorizationFailed in ARM's real message shape."""
    return ArmError(
        403,
        "AuthorizationFailed",
        f"The client '{client_id}' with object id '{object_id}' does not have authorization to perform "
        f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
        "please refresh your credentials.",
    )


def concurrent_fic_writes(identity_id: str) -> ArmError:
    """409 when two federated credential writes overlap on one identity (text seen in public issues)."""
    return ArmError(
        409,
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
        f"Too many Federated Identity Credentials are written concurrently for the managed identity "
        f"'{identity_id.lower()}'. Concurrent Federated Identity Credentials writes under the same managed "
        "identity are not supported.",
    )


def fic_limit_exceeded(identity_id: str, limit: int) -> ArmError:
    """400 when an identity would get more federated credentials than Entra allows (20).

    The limit is documented (learn.microsoft.com workload-identity-federation-considerations); the exact
    error code and text could not be confirmed from a public capture, so this wording is a close stand-in.
    """
    return ArmError(
        400,
        "FederatedIdentityCredentialsLimitExceeded",
        f"The managed identity '{identity_id.lower()}' already has the maximum of {limit} Federated Identity "
        "Credentials. Delete an existing Federated Identity Credential before adding a new one.",
    )


def fic_issuer_subject_exists() -> ArmError:
    """409 when another credential on the identity already uses the same issuer and subject."""
    return ArmError(
        409,
        "Conflict",
        "Issuer and subject combination already exists for this Managed Identity.",
    )


def too_many_requests(kind: str, retry_after: int) -> ArmError:
    """429 from ARM's subscription throttling, with Retry-After."""
    return ArmError(
        429,
        "SubscriptionRequestsThrottled",
        f"Number of '{kind}' requests for subscription actor has exceeded the limit. "
        f"Please try again after '{retry_after}' seconds.",
        headers={"Retry-After": str(retry_after)},
    )
