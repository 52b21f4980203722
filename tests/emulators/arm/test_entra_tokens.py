"""Entra token verification by the ARM and kube emulators, and Entra-integrated clusters, through the official
clients (azure-identity, azure-mgmt-containerservice, kubernetes) against the HTTPS Entra stand-in.

ARM's 401 codes are the ones its callers meet (InvalidAuthenticationToken, ExpiredAuthenticationToken,
InvalidAuthenticationTokenAudience), with its WWW-Authenticate challenge; the API server answers 401
Unauthorized, and 403 Forbidden in AKS's wording for an Azure RBAC denial.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from activities.clients import AKS_SERVER_SCOPE, kube_client_from_kubeconfig
from emulators.arm import kube_key
from emulators.entra import TokenIssuer
from tests.fixtures.arm import ArmHarness
from tests.fixtures.entra import PRODUCT_OBJECT_ID, ProductApplication, entra_product, verified_by  # noqa: F401

RG = "rg-demo"
SUB = "00000000-0000-0000-0000-000000000001"
ENTRA_CLUSTER = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
    "Microsoft.ContainerService/managedClusters/aks-demo-3"
)
ARM_SCOPE = "https://management.azure.com/.default"
AKS_RBAC_READER = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
ROLE_DEFINITIONS = "Microsoft.Authorization/roleDefinitions"


class FixedToken:
    """A TokenCredential handing out one given token, whatever scope is asked (a token for elsewhere)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """The fixed token."""
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture
def verified(arm: ArmHarness, entra_product: ProductApplication) -> Iterator[ArmHarness]:  # noqa: F811
    """The demo seed, with the ARM and kube emulators verifying the stand-in's tokens."""
    arm.seed_demo()
    with verified_by(entra_product.trust(), arm.emulator, arm.kube.emulator):
        yield arm


def _token(app: ProductApplication, scope: str) -> str:
    return str(app.credential().get_token(scope).token)


def _expired_token(app: ProductApplication, scope: str) -> str:
    issuer = app.emulator.issuer
    real_clock = issuer.clock
    issuer.clock = lambda: real_clock() - 7200  # issued two hours ago, so expired an hour ago
    try:
        return _token(app, scope)
    finally:
        issuer.clock = real_clock


def _arm_error(arm: ArmHarness, token: str) -> HttpResponseError:
    aks = arm.mgmt_client(ContainerServiceClient, credential=FixedToken(token))
    with pytest.raises(HttpResponseError) as raised:
        aks.managed_clusters.get(RG, "aks-demo-1")
    return raised.value


def test_arm_accepts_an_entra_token_from_azure_identity(
    verified: ArmHarness,
    entra_product: ProductApplication,  # noqa: F811
) -> None:
    aks = verified.mgmt_client(ContainerServiceClient, credential=entra_product.credential())
    assert aks.managed_clusters.get(RG, "aks-demo-1").name == "aks-demo-1"


def test_arm_refuses_expired_wrong_audience_and_badly_signed_tokens(
    verified: ArmHarness,
    entra_product: ProductApplication,  # noqa: F811
) -> None:
    expired = _arm_error(verified, _expired_token(entra_product, ARM_SCOPE))
    assert (expired.status_code, expired.error and expired.error.code) == (401, "ExpiredAuthenticationToken")
    assert "is earlier than current UTC time" in str(expired.message)

    storage = _arm_error(verified, _token(entra_product, "https://storage.azure.com/.default"))
    assert storage.error is not None and storage.error.code == "InvalidAuthenticationTokenAudience"
    assert "wrong audience or resource 'https://storage.azure.com'" in str(storage.message)

    header, claims, signature = _token(entra_product, ARM_SCOPE).split(".")
    tampered = _arm_error(verified, f"{header}.{claims}.{signature[::-1]}")
    assert tampered.error is not None and tampered.error.code == "InvalidAuthenticationToken"
    stranger, _ = TokenIssuer(entra_product.emulator.tenant_id).issue(
        "https://management.azure.com", "x", "y"
    )
    foreign = _arm_error(verified, stranger)
    assert (foreign.status_code, foreign.error and foreign.error.code) == (401, "InvalidAuthenticationToken")
    challenge = foreign.response.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer authorization_uri="{entra_product.emulator.url}/')
    assert 'error="invalid_token"' in challenge


def test_without_a_trust_any_bearer_token_is_accepted(arm: ArmHarness) -> None:
    arm.seed_demo()
    aks = arm.mgmt_client(ContainerServiceClient, credential=FixedToken("not-a-jwt"))
    assert aks.managed_clusters.get(RG, "aks-demo-1").name == "aks-demo-1"


def test_the_entra_cluster_looks_as_aks_shows_it(
    verified: ArmHarness,
    entra_product: ProductApplication,  # noqa: F811
) -> None:
    aks = verified.mgmt_client(ContainerServiceClient, credential=entra_product.credential())
    cluster = aks.managed_clusters.get(RG, "aks-demo-3")
    assert cluster.aad_profile.managed and cluster.aad_profile.enable_azure_rbac
    assert cluster.aad_profile.tenant_id == entra_product.emulator.tenant_id
    assert cluster.disable_local_accounts is True
    raw = aks.managed_clusters.list_cluster_user_credentials(RG, "aks-demo-3").kubeconfigs[0].value
    [user] = yaml.safe_load(raw)["users"]
    assert "token" not in user["user"]
    assert user["user"]["exec"]["command"] == "kubelogin"
    assert AKS_SERVER_SCOPE.removesuffix("/.default") in user["user"]["exec"]["args"]
    with pytest.raises(HttpResponseError) as refused:
        aks.managed_clusters.list_cluster_admin_credentials(RG, "aks-demo-3")
    assert (refused.value.status_code, refused.value.error and refused.value.error.code) == (
        400,
        "BadRequest",
    )
    assert "Getting static credential is not allowed" in str(refused.value.message)


def _kube(verified: ArmHarness, app: ProductApplication, credential: Any) -> k8s.CoreV1Api:
    aks = verified.mgmt_client(ContainerServiceClient, credential=app.credential())
    raw = aks.managed_clusters.list_cluster_user_credentials(RG, "aks-demo-3").kubeconfigs[0].value
    return k8s.CoreV1Api(kube_client_from_kubeconfig(yaml.safe_load(raw), credential))


def test_the_entra_cluster_takes_only_valid_tokens_for_the_aks_server_app(
    verified: ArmHarness,
    entra_product: ProductApplication,  # noqa: F811
) -> None:
    assert (
        _kube(verified, entra_product, entra_product.credential()).list_namespaced_secret("default").items
        == []
    )
    static = verified.kube.cluster(kube_key(ENTRA_CLUSTER))["token"]  # local accounts are off
    for token in (
        _token(entra_product, ARM_SCOPE),
        _expired_token(entra_product, AKS_SERVER_SCOPE),
        _token(entra_product, AKS_SERVER_SCOPE)[:-4] + "AAAA",
        static,
    ):
        with pytest.raises(ApiException) as refused:
            _kube(verified, entra_product, FixedToken(token)).list_namespaced_secret("default")
        assert (refused.value.status, refused.value.reason) == (401, "Unauthorized")


def test_azure_rbac_roles_decide_what_the_principal_may_do(
    verified: ArmHarness,
    entra_product: ProductApplication,  # noqa: F811
) -> None:
    auth = verified.mgmt_client(AuthorizationManagementClient, credential=entra_product.credential())
    [writer] = [
        a for a in auth.role_assignments.list_for_scope(ENTRA_CLUSTER) if a.principal_id == PRODUCT_OBJECT_ID
    ]
    auth.role_assignments.delete_by_id(writer.id)
    reader = {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{SUB}/providers/{ROLE_DEFINITIONS}/{AKS_RBAC_READER}",
            "principalId": PRODUCT_OBJECT_ID,
            "principalType": "ServicePrincipal",
        }
    }
    auth.role_assignments.create(f"{ENTRA_CLUSTER}/namespaces/default", str(uuid.uuid4()), reader)
    core = _kube(verified, entra_product, entra_product.credential())

    assert core.list_namespaced_service_account("default").items is not None  # Reader reads in its namespace
    with pytest.raises(ApiException) as secrets:
        core.list_namespaced_secret("default")  # ... but never Secrets
    assert (secrets.value.status, secrets.value.reason) == (403, "Forbidden")
    assert json.loads(secrets.value.body)["message"] == (
        f'secrets is forbidden: User "{PRODUCT_OBJECT_ID}" cannot list resource "secrets" in API group "" in '
        'the namespace "default": User does not have access to the resource in Azure. Update role assignment '
        "to allow access."
    )
    with pytest.raises(ApiException) as elsewhere:
        core.list_namespaced_service_account("kube-system")  # a namespace role reaches only its namespace
    assert elsewhere.value.status == 403


def test_kubeconfig_token_fallback_without_a_trust(arm: ArmHarness) -> None:
    arm.seed_demo()
    info = arm.kube.cluster(kube_key(ENTRA_CLUSTER))
    config = k8s.Configuration(host=info["server"], api_key={"authorization": f"Bearer {info['token']}"})
    ca = arm.kube.emulator.ca_file
    config.ssl_ca_cert = ca
    assert k8s.CoreV1Api(k8s.ApiClient(config)).list_namespaced_secret("default").items == []
    assert base64.b64decode(info["caData"])
