# mypy: disable-error-code="union-attr, index"
# (SDK models type every field Optional; these tests assert on them.)
"""managedClusters PUT as AKS: workload identity needs the OIDC issuer, and the kubelet identity a PUT names
(identityProfile.kubeletidentity, the spec's only accepted key) is kept, as is the current one when a PUT
leaves identityProfile out. The refusal's code and wording are an assumption (docs/error-codes.md)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice.models import (
    ManagedCluster,
    ManagedClusterProperties,
    ManagedClusterSecurityProfile,
    ManagedClusterSecurityProfileWorkloadIdentity,
    UserAssignedIdentity,
)

from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness

RG = "rg-demo"
KUBELET = (
    f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/"
    "userAssignedIdentities/id-kubelet"
)
REFUSAL = "Enabling workload identity requires enabling OIDC issuer."


@pytest.fixture
def aks(arm: ArmHarness) -> ContainerServiceClient:
    arm.seed_demo()
    arm.instant()
    return arm.mgmt_client(ContainerServiceClient)


def test_enabling_workload_identity_without_the_oidc_issuer_is_refused_and_changes_nothing(
    arm: ArmHarness, aks: ContainerServiceClient
) -> None:
    cluster = aks.managed_clusters.get(RG, "aks-demo-2")  # OIDC issuer and workload identity off
    cluster.security_profile = {"workloadIdentity": {"enabled": True}}
    arm.admin.clear_journal()
    with pytest.raises(HttpResponseError) as err:
        aks.managed_clusters.begin_create_or_update(RG, "aks-demo-2", cluster).result()
    assert err.value.status_code == 400
    assert err.value.error.code == "InvalidParameter" and err.value.error.message == REFUSAL
    after = aks.managed_clusters.get(RG, "aks-demo-2")
    assert after.provisioning_state == "Succeeded" and not after.security_profile.workload_identity
    assert not [e for e in arm.admin.journal()["entries"] if e["route"] == "operation"]  # no LRO started
    # Both in one PUT, as the product sends them: accepted.
    cluster.oidc_issuer_profile.enabled = True
    done = aks.managed_clusters.begin_create_or_update(RG, "aks-demo-2", cluster).result()
    assert done.security_profile.workload_identity.enabled and done.oidc_issuer_profile.issuer_url


def test_a_new_cluster_with_workload_identity_and_no_issuer_is_not_created(
    aks: ContainerServiceClient,
) -> None:
    workload = ManagedClusterSecurityProfileWorkloadIdentity(enabled=True)
    body = ManagedCluster(
        location="eastus",
        properties=ManagedClusterProperties(
            dns_prefix="wi", security_profile=ManagedClusterSecurityProfile(workload_identity=workload)
        ),
    )
    with pytest.raises(HttpResponseError) as err:
        aks.managed_clusters.begin_create_or_update(RG, "aks-wi", body).result()
    assert err.value.status_code == 400 and err.value.error.message == REFUSAL
    with pytest.raises(ResourceNotFoundError):
        aks.managed_clusters.get(RG, "aks-wi")


def test_the_kubelet_identity_a_put_names_is_kept_and_survives_a_put_without_it(
    aks: ContainerServiceClient,
) -> None:
    body = ManagedCluster(
        location="eastus",
        properties=ManagedClusterProperties(
            dns_prefix="kl", identity_profile={"kubeletidentity": UserAssignedIdentity(resource_id=KUBELET)}
        ),
    )
    created = aks.managed_clusters.begin_create_or_update(RG, "aks-kl", body).result()
    kubelet = created.identity_profile["kubeletidentity"]
    assert kubelet.resource_id == KUBELET and kubelet.client_id and kubelet.object_id
    no_identity_profile = ManagedClusterProperties(dns_prefix="kl")
    update = ManagedCluster(location="eastus", tags={"team": "a"}, properties=no_identity_profile)
    updated = aks.managed_clusters.begin_create_or_update(RG, "aks-kl", update).result()
    assert updated.identity_profile["kubeletidentity"].as_dict() == kubelet.as_dict()
    # A read-modify-write PUT (what the product sends) keeps it too.
    again = aks.managed_clusters.begin_create_or_update(RG, "aks-kl", updated).result()
    assert again.identity_profile["kubeletidentity"].as_dict() == kubelet.as_dict()
