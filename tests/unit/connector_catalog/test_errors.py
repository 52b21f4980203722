"""Classifying ARM and Kubernetes failures, and carrying them through Durable's failure text."""

from __future__ import annotations

import json

import pytest

from connector.errors import (
    MITIGATIONS,
    Category,
    ConnectorError,
    ConnectorFailure,
    classify_arm,
    classify_kube,
    extension_failed,
    is_retryable,
    parse_failure_text,
    timed_out,
)

CLUSTER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1"

# Real texts: AKS (Azure/azure-cli-extensions#9855, Azure/azure-workload-identity#417), ARM authorization
# (ARM's AuthorizationFailed wording), resource provider registration (aka.ms/rps-not-found).
AKS_BUSY = (
    "Operation is not allowed because there's an in progress update managed cluster operation (operation ID: "
    "e375d315-218c-4dff-b806-7ab63b0bb63a) on the managed cluster started on UTC"
    " 2026-05-22T07:19:23Z. Please "
    "wait for it to finish before starting a new operation. You can also use 'az aks operation-abort ...' to "
    "abort the ongoing operation."
)
AKS_BUSY_OLD = (
    "Operation is not allowed: Another operation (Updating) is in progress, please wait for it to"
    " finish before "
    "starting a new operation. See https://aka.ms/aks-pending-operation for more details"
)
AUTHZ = (
    "The client 'a1b2c3d4-0000-0000-0000-000000000000' with object id"
    " 'a1b2c3d4-0000-0000-0000-000000000000' does "
    "not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write' over scope "
    "'/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/providers/"
    "Microsoft.Authorization/roleAssignments/6f0c6e3a-1111-2222-3333-444455556666' or the scope is"
    " invalid. If "
    "access was recently granted, please refresh your credentials."
)
LINKED_AUTHZ = (
    "The client 'x' with object id 'y' has permission to perform action "
    "'Microsoft.ContainerService/managedClusters/write' on scope"
    " '/subscriptions/s/resourceGroups/rg/providers/"
    "Microsoft.ContainerService/managedClusters/aks1'; however, it does not have permission to"
    " perform action(s) "
    "'Microsoft.Network/virtualNetworks/subnets/join/action' on the linked scope(s) '/subscriptions/s/"
    "resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/a' (respectively) or"
    " the linked "
    "scope(s) are invalid."
)
NOT_REGISTERED = (
    "The subscription is not registered to use namespace 'Microsoft.KubernetesConfiguration'. See "
    "https://aka.ms/rps-not-found for how to register subscriptions."
)


@pytest.mark.parametrize("message", [AKS_BUSY, AKS_BUSY_OLD])
def test_aks_operation_not_allowed_is_cluster_busy(message: str) -> None:
    error = classify_arm(409, "OperationNotAllowed", message, resource=CLUSTER)
    assert error.category is Category.CLUSTER_BUSY
    assert error.code == "OperationNotAllowed"
    assert error.resource == CLUSTER
    assert "provisioningState is Succeeded" in error.mitigation
    assert error.retryable


# Real texts: Azure/azure-cli-extensions#7502 (extension PATCH while Updating),
# Azure/terraform-azurerm-aks#604 (AKS EtagMismatch).
EXTENSION_BUSY = (
    "The PATCH method cannot be completed due to a conflict. (ProvisioningState of extension: Updating). "
    "Please wait for a few minutes for the ProvisioningState to change to Succeeded, Failed or Canceled and "
    "retry again. If the problem persists, please contact Microsoft support."
)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ExtensionPatchFailed", EXTENSION_BUSY),
        ("EtagMismatch", "Operation is not allowed: Another operation is in progress"),
    ],
)
def test_busy_extension_and_cluster_codes_are_retried(code: str, message: str) -> None:
    assert classify_arm(409, code, message).category is Category.CLUSTER_BUSY


def test_busy_is_decided_by_the_code_not_the_wording() -> None:
    """A conflict whose text merely sounds busy is not retried: only codes decide (docs/error-codes.md)."""
    text = "Operation returned an invalid status code 'Conflict': the cluster is in Updating state"
    assert classify_arm(409, "Conflict", text).category is Category.CONFLICT
    assert classify_arm(400, None, NOT_REGISTERED).category is Category.INVALID


def test_other_conflicts_are_not_retried() -> None:
    error = classify_arm(409, "RoleAssignmentExists", "The role assignment already exists.")
    assert error.category is Category.CONFLICT and not error.retryable


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (409, "MissingSubscriptionRegistration", NOT_REGISTERED),
        (409, "MissingSubscriptionRegistration", None),
    ],
)
def test_provider_not_registered(status: int, code: str | None, message: str | None) -> None:
    error = classify_arm(status, code, message)
    assert error.category is Category.PROVIDER_NOT_REGISTERED
    assert "az provider register -n Microsoft.KubernetesConfiguration" in error.mitigation
    assert error.retryable


def test_the_provider_to_register_is_the_one_arm_names_and_survives_the_failure_text() -> None:
    message = (
        "The subscription is not registered to use namespace 'Microsoft.ManagedIdentity'. "
        "See https://aka.ms/rps-not-found for how to register subscriptions."
    )
    error = classify_arm(409, "MissingSubscriptionRegistration", message)
    assert error.provider == "Microsoft.ManagedIdentity"
    assert parse_failure_text(f"Activity function 'x' failed: {error.to_failure_text()}") == error
    assert classify_arm(409, "MissingSubscriptionRegistration", None).provider is None


def test_authorization_failed_names_the_action_and_scope() -> None:
    error = classify_arm(403, "AuthorizationFailed", AUTHZ)
    assert error.category is Category.UNAUTHORIZED and not error.retryable
    assert error.action == "Microsoft.Authorization/roleAssignments/write"
    assert error.scope is not None and error.scope.endswith(
        "roleAssignments/6f0c6e3a-1111-2222-3333-444455556666"
    )
    assert "'Microsoft.Authorization/roleAssignments/write'" in error.mitigation
    assert error.scope in error.mitigation
    assert error.message == AUTHZ  # ARM's own text is kept whole


def test_linked_authorization_failed_names_the_linked_action_and_scope() -> None:
    error = classify_arm(403, "LinkedAuthorizationFailed", LINKED_AUTHZ)
    assert error.category is Category.UNAUTHORIZED
    assert error.action == "Microsoft.Network/virtualNetworks/subnets/join/action"
    assert (
        error.scope
        == "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/a"
    )


def test_401_without_details_is_unauthorized() -> None:
    error = classify_arm(401, "AuthenticationFailed", "Authentication failed.")
    assert error.category is Category.UNAUTHORIZED and error.action is None


def test_throttling_keeps_retry_after() -> None:
    error = classify_arm(429, "TooManyRequests", "Too many requests", retry_after=17.0)
    assert error.category is Category.THROTTLED and error.retry_after == 17.0 and error.retryable


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_server_side_failures_are_transient(status: int) -> None:
    error = classify_arm(status, None, None)
    assert error.category is Category.TRANSIENT and error.retryable
    assert error.code  # a stable code even without one from ARM


def test_not_found_and_invalid() -> None:
    missing = "The Resource 'Microsoft.KeyVault/vaults/kv1' under resource group 'rg' was not found."
    assert classify_arm(404, "ResourceNotFound", missing).category is Category.NOT_FOUND
    invalid = classify_arm(400, "InvalidRequestContent", "The request content was invalid")
    assert invalid.category is Category.INVALID and not invalid.retryable


@pytest.mark.parametrize(
    ("status", "reason", "category"),
    [
        (401, "Unauthorized", Category.UNAUTHORIZED),
        (403, "Forbidden", Category.UNAUTHORIZED),
        (404, "NotFound", Category.NOT_FOUND),
        (409, "Conflict", Category.TRANSIENT),  # resourceVersion conflict: read again and retry
        (409, "AlreadyExists", Category.CONFLICT),
        (422, "Invalid", Category.INVALID),
        (429, "TooManyRequests", Category.THROTTLED),
        (500, "InternalError", Category.TRANSIENT),
        (504, "Timeout", Category.TRANSIENT),
        (400, "BadRequest", Category.INVALID),
    ],
)
def test_kubernetes_status_reasons(status: int, reason: str, category: Category) -> None:
    message = (
        'Operation cannot be fulfilled on secrets "sc-conn-secret": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    error = classify_kube(status, reason, message, resource="default/secrets/sc-conn-secret")
    assert error.category is category
    assert error.code == ("AuthorizationFailed" if status == 403 else f"Kubernetes{reason}")
    assert error.resource == "default/secrets/sc-conn-secret"


def test_a_kubernetes_429_keeps_the_servers_retry_after() -> None:
    error = classify_kube(
        429, "TooManyRequests", "too many requests, please try again later", retry_after=60.0
    )
    assert error.category is Category.THROTTLED
    assert error.retry_after == 60.0


def test_a_principal_not_yet_replicated_is_retried_not_refused() -> None:
    # ARM's wording for a role assignment to an identity created moments ago.
    message = (
        "Principal 0b1f0000000000000000000000000001 does not exist in the directory "
        "7e57c0de-0000-4000-8000-000000000001. Check that you have the correct principal ID. If you are "
        "creating this principal and then immediately assigning a role, this error might be related to a "
        "replication delay. In this case, set the role assignment principalType property to a value, such as "
        "ServicePrincipal, User, or Group. See https://aka.ms/docs-principaltype"
    )
    error = classify_arm(400, "PrincipalNotFound", message)
    assert error.category is Category.TRANSIENT
    assert error.code == "PrincipalNotFound"


def test_every_category_has_a_mitigation() -> None:
    assert set(MITIGATIONS) == set(Category)
    assert "kubectl logs job/sc-job -n sc-system" in MITIGATIONS[Category.EXTENSION_FAILED]
    assert "scaksextension.azurecr.io" in MITIGATIONS[Category.EXTENSION_FAILED]
    assert "az k8s-extension show" in MITIGATIONS[Category.TIMED_OUT]
    assert not is_retryable(Category.TIMED_OUT) and not is_retryable(Category.EXTENSION_FAILED)


def test_credentials_in_messages_are_masked() -> None:
    text = (
        "Bad value:"
        " DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0;EndpointSuffix=x password=hunter2"
    )
    error = classify_arm(400, "InvalidValue", text)
    assert "c2VjcmV0" not in error.message and "hunter2" not in error.message
    assert "AccountName=a" in error.message


def _sample() -> ConnectorError:
    return classify_arm(403, "AuthorizationFailed", AUTHZ, resource=CLUSTER).with_diagnostics(
        {
            "extension": {
                "statuses": [{"code": "InstallationFailed", "message": 'quote " and <tag> and \\ slash'}]
            }
        }
    )


def test_dict_round_trip_is_json_safe() -> None:
    error = _sample()
    data = json.loads(json.dumps(error.to_dict()))
    assert ConnectorError.from_dict(data) == error
    with pytest.raises(ValueError, match="Not a connector error"):
        ConnectorError.from_dict({"category": "nope", "code": "x", "message": "m", "mitigation": "m"})


def test_failure_text_round_trips_through_durables_wrappers() -> None:
    error = _sample()
    failure = ConnectorFailure(error)
    assert failure.error is error
    # What the Durable host hands the orchestrator: Reason, then Details as JSON holding the message again.
    reason = f"Activity function 'assign_role' failed: ConnectorFailure: {failure}"
    details = json.dumps({"Message": str(failure), "ClassName": "Exception"})
    for text in (str(failure), reason, f"{reason} \n {details}", details, json.dumps(details)):
        assert parse_failure_text(text) == error


def test_text_without_a_connector_error_gives_none() -> None:
    assert (
        parse_failure_text('Activity function \'x\' failed: ValueError: boom \n {"Message": "boom"}') is None
    )
    assert parse_failure_text("<<connector-error>>{not json}<</connector-error>>") is None
    assert parse_failure_text('<<connector-error>>{"a": 1') is None


def test_timeouts_and_extension_failures_carry_diagnostics() -> None:
    diagnostics = {"scJobLogs": "pull access denied for scaksextension.azurecr.io"}
    waited = timed_out("sc-extension to reach Succeeded", 1800, resource=CLUSTER, diagnostics=diagnostics)
    assert waited.category is Category.TIMED_OUT and "1800 s" in waited.message
    assert waited.diagnostics == diagnostics
    failed = extension_failed("Helm installation failed : Timed out waiting for resource readiness")
    assert failed.category is Category.EXTENSION_FAILED and failed.code == "ExtensionOperationFailed"
    assert parse_failure_text(str(ConnectorFailure(waited))) == waited


def test_arm_error_body_includes_the_mitigation() -> None:
    body = classify_arm(409, "OperationNotAllowed", AKS_BUSY, resource=CLUSTER).to_arm_error()
    assert body["error"]["code"] == "OperationNotAllowed"
    assert body["error"]["target"] == CLUSTER
    assert "Mitigation: " in body["error"]["message"]


def test_collected_diagnostics_are_masked_too() -> None:
    error = classify_arm(500, None, "boom").with_diagnostics(
        {"scJobLogs": ["connecting with AccountKey=c2VjcmV0;", {"env": "PASSWORD=hunter2"}], "exitCode": 1}
    )
    text = json.dumps(error.to_dict())
    assert "c2VjcmV0" not in text and "hunter2" not in text
    assert error.diagnostics is not None and error.diagnostics["exitCode"] == 1
