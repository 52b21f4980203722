# mypy: disable-error-code="union-attr, index, operator, no-untyped-call"
# (SDK models type every field Optional and the kubernetes client is untyped; these tests assert on both.)
"""managedClusters through ContainerServiceClient: fields, LROs on the virtual clock, 409, kubeconfig.

Fields checked against specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/
2025-08-01/managedClusters.json.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice.models import (
    ManagedCluster,
    ManagedClusterOIDCIssuerProfile,
    ManagedClusterProperties,
)
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client import ApiException

from emulators.arm import cluster_id, kube_key
from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness

RG = "rg-demo"
CLUSTER = cluster_id(DEMO_SUBSCRIPTION, RG, "aks-demo-1")


@pytest.fixture
def aks(arm: ArmHarness) -> ContainerServiceClient:
    arm.seed_demo()
    return arm.mgmt_client(ContainerServiceClient)


def test_get_returns_the_fields_the_product_reads(aks: ContainerServiceClient) -> None:
    cluster = aks.managed_clusters.get(RG, "aks-demo-1")
    assert cluster.id == CLUSTER
    assert cluster.provisioning_state == "Succeeded"
    assert cluster.power_state.code == "Running"
    assert cluster.oidc_issuer_profile.enabled is True
    assert cluster.oidc_issuer_profile.issuer_url.startswith("https://eastus.oic.prod-aks.azure.com/")
    assert cluster.security_profile.workload_identity.enabled is True
    other = aks.managed_clusters.get(RG, "aks-demo-2")
    assert other.oidc_issuer_profile.enabled is False and other.oidc_issuer_profile.issuer_url is None


def test_list_by_group_and_subscription(aks: ContainerServiceClient) -> None:
    names = {"aks-demo-1", "aks-demo-2", "aks-demo-3"}
    assert {c.name for c in aks.managed_clusters.list_by_resource_group(RG)} == names
    assert len(list(aks.managed_clusters.list())) == 3


def test_unknown_cluster_is_resource_not_found(aks: ContainerServiceClient) -> None:
    with pytest.raises(ResourceNotFoundError) as err:
        aks.managed_clusters.get(RG, "nope")
    assert err.value.error.code == "ResourceNotFound"
    assert (
        "'Microsoft.ContainerService/managedClusters/nope' under resource group 'rg-demo'"
        in err.value.error.message
    )


def test_put_enabling_features_is_an_lro_that_updates_for_the_configured_time(
    arm: ArmHarness, aks: ContainerServiceClient
) -> None:
    cluster = aks.managed_clusters.get(RG, "aks-demo-2")
    cluster.oidc_issuer_profile.enabled = True
    cluster.security_profile = {"workloadIdentity": {"enabled": True}}
    cluster.addon_profiles = {"azureKeyvaultSecretsProvider": {"enabled": True}}
    arm.admin.clear_journal()
    poller = aks.managed_clusters.begin_create_or_update(RG, "aks-demo-2", cluster, polling_interval=0.01)
    assert aks.managed_clusters.get(RG, "aks-demo-2").provisioning_state == "Updating"
    arm.advance(30)  # clusterUpdateSeconds in demo.yaml
    result = poller.result(timeout=10)
    assert result.provisioning_state == "Succeeded"
    assert result.oidc_issuer_profile.issuer_url.startswith("https://")
    assert result.security_profile.workload_identity.enabled is True
    addon = result.addon_profiles["azureKeyvaultSecretsProvider"]
    assert addon.enabled is True
    assert addon.identity.client_id and addon.identity.object_id
    assert addon.identity.resource_id.endswith("/azurekeyvaultsecretsprovider-aks-demo-2")
    entries = arm.admin.journal()["entries"]
    polls = [e for e in entries if e["route"] == "operation"]
    assert polls and all(e["status"] == 200 for e in polls)


def test_lro_response_carries_azure_async_operation_and_no_retry_after(
    arm: ArmHarness, aks: ContainerServiceClient
) -> None:
    cluster = aks.managed_clusters.get(RG, "aks-demo-1")
    headers: dict[str, str] = {}

    def capture(pipeline_response, deserialized, response_headers):  # type: ignore[no-untyped-def]
        headers.update(pipeline_response.http_response.headers)
        return deserialized

    aks.managed_clusters.begin_create_or_update(
        RG, "aks-demo-1", cluster, polling=False, cls=capture
    ).result()
    assert (
        "/providers/Microsoft.ContainerService/locations/eastus/operations/"
        in headers["Azure-AsyncOperation"]
    )
    assert "Retry-After" not in headers


def test_write_while_updating_gets_aks_operation_not_allowed(
    arm: ArmHarness, aks: ContainerServiceClient
) -> None:
    cluster = aks.managed_clusters.get(RG, "aks-demo-1")
    aks.managed_clusters.begin_create_or_update(RG, "aks-demo-1", cluster, polling=False)
    with pytest.raises(ResourceExistsError) as err:
        aks.managed_clusters.begin_create_or_update(RG, "aks-demo-1", cluster, polling=False)
    assert err.value.status_code == 409
    assert err.value.error.code == "OperationNotAllowed"
    assert err.value.error.message.startswith(
        "Operation is not allowed because there's an in progress update managed cluster operation on the "
        "managed cluster started at"
    )
    with pytest.raises(ResourceExistsError):
        aks.managed_clusters.begin_update_tags(RG, "aks-demo-1", {"tags": {"a": "b"}}, polling=False)
    arm.advance(30)
    assert aks.managed_clusters.get(RG, "aks-demo-1").provisioning_state == "Succeeded"


def test_update_tags_is_an_lro(arm: ArmHarness, aks: ContainerServiceClient) -> None:
    poller = aks.managed_clusters.begin_update_tags(
        RG, "aks-demo-1", {"tags": {"team": "platform"}}, polling_interval=0.01
    )
    arm.advance(30)
    assert poller.result(timeout=10).tags == {"team": "platform"}


def test_make_busy_admin_puts_the_cluster_in_updating(arm: ArmHarness, aks: ContainerServiceClient) -> None:
    arm.admin.call("POST", "/arm/busy", {"resourceId": CLUSTER, "seconds": 120})
    assert aks.managed_clusters.get(RG, "aks-demo-1").provisioning_state == "Updating"
    with pytest.raises(ResourceExistsError):
        aks.managed_clusters.begin_update_tags(RG, "aks-demo-1", {"tags": {}}, polling=False)
    arm.advance(120)
    assert aks.managed_clusters.get(RG, "aks-demo-1").provisioning_state == "Succeeded"


def test_create_and_delete_a_cluster(arm: ArmHarness, aks: ContainerServiceClient) -> None:
    poller = aks.managed_clusters.begin_create_or_update(
        RG,
        "aks-new",
        ManagedCluster(
            location="westus2",
            properties=ManagedClusterProperties(
                dns_prefix="new", oidc_issuer_profile=ManagedClusterOIDCIssuerProfile(enabled=True)
            ),
        ),
        polling_interval=0.01,
    )
    assert aks.managed_clusters.get(RG, "aks-new").provisioning_state == "Creating"
    arm.advance(30)
    created = poller.result(timeout=10)
    assert created.location == "westus2" and created.oidc_issuer_profile.issuer_url.startswith(
        "https://westus2."
    )
    aks.managed_clusters.begin_delete(RG, "aks-new", polling_interval=0.01).result(timeout=10)
    with pytest.raises(ResourceNotFoundError):
        aks.managed_clusters.get(RG, "aks-new")


def _kubeconfig(credentials: Any) -> dict[str, Any]:
    """The kubeconfig dict; the SDK already decoded the base64 `value` (format: byte) into YAML bytes."""
    (entry,) = credentials.kubeconfigs
    assert isinstance(entry.value, bytes)
    loaded: dict[str, Any] = yaml.safe_load(entry.value)
    return loaded


def test_user_kubeconfig_works_unchanged_against_the_kube_emulator(
    arm: ArmHarness, aks: ContainerServiceClient
) -> None:
    credentials = aks.managed_clusters.list_cluster_user_credentials(RG, "aks-demo-1")
    assert credentials.kubeconfigs[0].name == "clusterUser"
    api = k8s_config.new_client_from_config_dict(_kubeconfig(credentials))
    try:
        k8s.CoreV1Api(api).create_namespace(
            k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="from-kubeconfig"))
        )
        names = {n.metadata.name for n in k8s.CoreV1Api(api).list_namespace().items}
        assert "from-kubeconfig" in names
    finally:
        api.close()
    # The namespace landed in the cluster registered for this managed cluster's id.
    direct = arm.kube.client_for(kube_key(CLUSTER))
    assert k8s.CoreV1Api(direct).read_namespace("from-kubeconfig").metadata.name == "from-kubeconfig"


def test_admin_kubeconfig_and_wrong_token_gets_401(aks: ContainerServiceClient) -> None:
    credentials = aks.managed_clusters.list_cluster_admin_credentials(RG, "aks-demo-2")
    assert credentials.kubeconfigs[0].name == "clusterAdmin"
    config = _kubeconfig(credentials)
    config["users"][0]["user"]["token"] = "not-the-cluster-token"
    api = k8s_config.new_client_from_config_dict(config)
    try:
        with pytest.raises(ApiException) as err:
            k8s.CoreV1Api(api).list_namespace()
        assert err.value.status == 401
    finally:
        api.close()
