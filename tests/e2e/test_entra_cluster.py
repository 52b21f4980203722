"""The product on an Entra-integrated cluster (aks-demo-3: managed aadProfile, Azure RBAC, no local accounts),
with azure-identity credentials against the Entra stand-in and the emulators verifying every token."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
import yaml
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from kubernetes import client as k8s

from activities.clients import AKS_SERVER_APP_ID, AKS_SERVER_SCOPE, kube_client_from_kubeconfig
from tests.e2e.conftest import API, E2E, RG, blob_secret_body, e2e_credential
from tests.fixtures.entra import PRODUCT_OBJECT_ID, ProductApplication

pytestmark = pytest.mark.skipif(e2e_credential() != "entra", reason="needs the Entra stand-in (the default)")

ENTRA_CLUSTER = f"{RG}/providers/Microsoft.ContainerService/managedClusters/aks-demo-3"
LINKERS = f"{ENTRA_CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
AKS_RBAC_WRITER = "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"


def _finish(e2e: E2E, name: str) -> dict[str, Any]:
    put = e2e.http("PUT", f"{LINKERS}/{name}?api-version={API}", blob_secret_body())
    assert put[0] in (200, 201), put
    deadline = time.monotonic() + 60
    while (body := e2e.http("GET", put[1]["Azure-AsyncOperation"])[2])["status"] in ("Accepted", "Deleting"):
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    return dict(body)


def _secret_as_product(e2e: E2E, app: ProductApplication, name: str) -> dict[str, str]:
    """Read a Secret on aks-demo-3 as the product does: user kubeconfig, an Entra token for the AKS app."""
    aks = e2e.arm.mgmt_client(ContainerServiceClient)
    raw = aks.managed_clusters.list_cluster_user_credentials("rg-demo", "aks-demo-3").kubeconfigs[0].value
    api = kube_client_from_kubeconfig(yaml.safe_load(raw), app.credential())
    secret = k8s.CoreV1Api(api).read_namespaced_secret(name, "default")
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


def test_a_connection_on_the_entra_cluster_succeeds_with_azure_identity_tokens(
    e2e: E2E, entra_product: ProductApplication
) -> None:
    before = len(entra_product.emulator.grants(AKS_SERVER_APP_ID))
    assert _finish(e2e, "entrablob")["status"] == "Succeeded"
    # The product signed in to the cluster with a token for the AKS server app from its own credential.
    grants = entra_product.emulator.grants(AKS_SERVER_APP_ID)[before:]
    assert grants and {g.client_id for g in grants} == {entra_product.client_id}
    assert {g.grant for g in entra_product.emulator.grants("https://management.azure.com")} == {
        "client_credentials"
    }
    secret = _secret_as_product(e2e, entra_product, "sc-entrablob-secret")
    assert secret["AZURE_STORAGEBLOB_CONNECTIONSTRING"].startswith("DefaultEndpointsProtocol=")


def test_without_the_aks_rbac_role_the_connection_fails_authorization_failed_naming_the_role(
    e2e: E2E, entra_product: ProductApplication
) -> None:
    auth = e2e.arm.mgmt_client(AuthorizationManagementClient)
    [grant] = [
        a
        for a in auth.role_assignments.list_for_scope(ENTRA_CLUSTER, filter="atScope()")
        if a.principal_id == PRODUCT_OBJECT_ID
    ]
    assert grant.role_definition_id.endswith(AKS_RBAC_WRITER)
    auth.role_assignments.delete_by_id(grant.id)

    operation = _finish(e2e, "entradenied")

    assert operation["status"] == "Failed", operation
    error = operation["error"]
    assert error["code"] == "AuthorizationFailed", error
    assert "Azure Kubernetes Service RBAC Writer" in error["message"]
    assert f"role on the scope '{ENTRA_CLUSTER}'" in error["message"]
    linker = e2e.http("GET", f"{LINKERS}/entradenied?api-version={API}")[2]
    assert linker["properties"]["provisioningState"] == "Failed"


def test_the_aks_server_scope_is_what_kubelogin_asks_for() -> None:
    assert AKS_SERVER_SCOPE == "6dae42f8-4368-4678-94ff-3960e28e3630/.default"
