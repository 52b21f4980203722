"""A Kubernetes 403 (Azure RBAC for Kubernetes on an Entra-integrated AKS cluster) is AuthorizationFailed, and
its mitigation names the AKS RBAC role and the scope to grant it on; decided by status and reason only."""

from __future__ import annotations

from connector.errors import Category, classify_kube

CLUSTER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
# The API server's wording for an Azure RBAC denial on AKS.
DENIED = (
    'secrets is forbidden: User "oid" cannot list resource "secrets" in API group "" in the namespace '
    '"default": User does not have access to the resource in Azure. Update role assignment to allow access.'
)


def test_forbidden_is_authorization_failed_naming_the_aks_rbac_role_and_scope() -> None:
    error = classify_kube(403, "Forbidden", DENIED, resource=CLUSTER)
    assert (error.category, error.code) == (Category.UNAUTHORIZED, "AuthorizationFailed")
    assert error.scope == CLUSTER
    assert "'Azure Kubernetes Service RBAC Writer' role on the scope" in error.mitigation
    assert f"'{CLUSTER}'" in error.mitigation
    assert not error.retryable


def test_the_decision_ignores_the_wording() -> None:
    assert classify_kube(403, "Forbidden", "anything at all").code == "AuthorizationFailed"
    assert classify_kube(403, None, None).code == "AuthorizationFailed"
    assert classify_kube(401, "Unauthorized", DENIED).code == "KubernetesUnauthorized"
