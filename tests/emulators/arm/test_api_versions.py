"""api-versions: the ARM emulator refuses what the specs do not list, as ARM does, and knows every version the
product's pinned clients send (a client bump the emulator does not know fails here, loudly)."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.kubernetesconfiguration.extensions import KubernetesConfigurationExtensionsMgmtClient
from azure.mgmt.kubernetesconfiguration.extensions.models import Extension, ExtensionProperties
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient

from activities.target_values import api_version_for
from connector import targets
from emulators.arm import api_versions
from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness, StaticTokenCredential

RG, CLUSTER = "rg-demo", "aks-demo-1"
UNLISTED = "2099-01-01"


def _spec_versions(namespace: str) -> set[str]:
    """Versions the spec table lists for a namespace (client defaults without a spec folder do not count)."""
    return {v for e in api_versions.TABLE if e.namespace.lower() == namespace.lower() for v in e.versions}


def test_an_unlisted_version_gets_no_registered_provider_found_through_the_official_client(
    arm: ArmHarness,
) -> None:
    arm.seed_demo()
    aks = arm.mgmt_client(ContainerServiceClient, api_version=UNLISTED)
    with pytest.raises(HttpResponseError) as err:
        aks.managed_clusters.get(RG, CLUSTER)
    assert err.value.status_code == 400
    assert err.value.error is not None and err.value.error.code == "NoRegisteredProviderFound"
    message = str(err.value.error.message)
    assert message.startswith(
        f"No registered resource provider found for location 'eastus' and API version '{UNLISTED}' for type "
        "'managedClusters'. The supported api-versions are '"
    )
    assert "2026-08-01" in message and message.endswith("The supported locations are 'eastus'.")
    # The same call at the client's own version works.
    assert arm.mgmt_client(ContainerServiceClient).managed_clusters.get(RG, CLUSTER).name == CLUSTER


def test_a_refused_write_changes_nothing(arm: ArmHarness) -> None:
    arm.seed_demo()
    arm.mgmt_client(ResourceManagementClient).providers.register("Microsoft.KubernetesConfiguration")
    arm.instant()
    cls = KubernetesConfigurationExtensionsMgmtClient
    body = Extension(properties=ExtensionProperties(extension_type="microsoft.servicelinker"))
    with pytest.raises(HttpResponseError) as err:
        arm.mgmt_client(cls, api_version="2025-03-02").extensions.begin_create(
            RG, "Microsoft.ContainerService", "managedClusters", CLUSTER, "sc-extension", body
        )
    assert err.value.status_code == 400
    assert err.value.error is not None and err.value.error.code == "NoRegisteredProviderFound"
    assert "for type 'extensions'" in str(err.value.error.message)
    with pytest.raises(ResourceNotFoundError):
        arm.mgmt_client(cls).extensions.get(
            RG, "Microsoft.ContainerService", "managedClusters", CLUSTER, "sc-extension"
        )


def test_a_missing_api_version_gets_missing_api_version_parameter(arm: ArmHarness) -> None:
    arm.seed_demo()
    client = arm.mgmt_client(ResourceManagementClient)
    response = client.send_request(
        HttpRequest(
            "GET",
            f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{RG}/providers/"
            f"Microsoft.ContainerService/managedClusters/{CLUSTER}",
        )
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "MissingApiVersionParameter",
            "message": "The api-version query parameter (?api-version=) is required for all requests.",
        }
    }


def test_arm_native_types_answer_invalid_api_version_parameter(arm: ArmHarness) -> None:
    arm.seed_demo()
    client = arm.mgmt_client(ResourceManagementClient, api_version="2017-05-11")
    with pytest.raises(HttpResponseError) as err:
        client.resource_groups.get(RG)
    assert err.value.status_code == 400
    assert err.value.error is not None and err.value.error.code == "InvalidApiVersionParameter"
    assert str(err.value.error.message).startswith(
        "The api-version '2017-05-11' is invalid. The supported versions are '2025-04-01, 2016-02-01"
    )


def test_admin_paths_need_no_api_version(arm: ArmHarness) -> None:
    assert "registrationDelaySeconds" in arm.admin.call("GET", "/arm/settings")


# ----- the product's versions against the table


def _client_versions() -> dict[str, set[str]]:
    """namespace → api-versions the product's pinned clients (activities/clients.py) send."""
    credential: Any = StaticTokenCredential()
    sub = DEMO_SUBSCRIPTION
    authz = AuthorizationManagementClient(credential, sub)
    msi = ManagedServiceIdentityClient(credential, sub)
    return {
        "Microsoft.ContainerService": {ContainerServiceClient(credential, sub)._config.api_version},
        "Microsoft.KubernetesConfiguration": {
            KubernetesConfigurationExtensionsMgmtClient(credential, sub)._config.api_version
        },
        "Microsoft.Resources": {ResourceManagementClient(credential, sub)._config.api_version},
        "Microsoft.Authorization": {
            authz.role_assignments._config.api_version,
            authz.role_definitions._config.api_version,
        },
        "Microsoft.ManagedIdentity": {
            msi.user_assigned_identities._config.api_version,
            msi.federated_identity_credentials._config.api_version,
        },
    }


def _target_versions() -> list[tuple[str, str, str]]:
    """(kind, namespace, version) for every read and list-keys call the product makes on a target."""
    found = []
    for spec in targets.all_specs():
        if spec.id_pattern is None:
            continue
        segments = spec.id_pattern.segments[: spec.id_pattern.resource_depth]
        resource_id = "/" + "/".join(segments)
        namespace = segments[segments.index("providers") + 1]
        found.append((spec.kind, namespace, api_version_for(resource_id)))
        source = spec.secret_source
        if source is not None and source.action is not None and source.api_version is not None:
            found.append((spec.kind, namespace, source.api_version))
    return found


@pytest.mark.parametrize("namespace", sorted(_client_versions()))
def test_every_version_the_product_clients_send_is_listed_in_the_specs(namespace: str) -> None:
    sent = _client_versions()[namespace]
    assert sent <= _spec_versions(namespace), (
        f"the product's client sends {sorted(sent)} for {namespace}; the spec table lists "
        f"{sorted(_spec_versions(namespace))}: add it with its spec path to emulators/arm/api_versions.py"
    )


@pytest.mark.parametrize(("kind", "namespace", "version"), _target_versions())
def test_every_target_version_the_product_sends_is_listed_in_the_specs(
    kind: str, namespace: str, version: str
) -> None:
    assert version in _spec_versions(namespace), f"{kind}: {namespace} {version} is not in the spec table"
