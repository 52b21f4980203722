# mypy: disable-error-code="union-attr, index, operator, no-untyped-call"
# (SDK models type every field Optional and the kubernetes client is untyped; these tests assert on both.)
"""Microsoft.Resources through ResourceManagementClient: auth, providers, groups, 404s, journal."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.rest import HttpRequest
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness

KC = "Microsoft.KubernetesConfiguration"


def test_request_without_bearer_token_is_refused_with_arm_401(arm: ArmHarness) -> None:
    arm.seed_demo()
    client = arm.mgmt_client(ResourceManagementClient, authentication_policy=SansIOHTTPPolicy())
    with pytest.raises(ClientAuthenticationError) as err:
        client.providers.get(KC)
    assert err.value.status_code == 401
    assert err.value.error is not None and err.value.error.code == "AuthenticationFailed"


def test_bearer_token_and_api_version_are_recorded_in_the_journal(arm: ArmHarness) -> None:
    arm.seed_demo()
    arm.admin.clear_journal()
    arm.mgmt_client(ResourceManagementClient).providers.get(KC)
    (entry,) = arm.admin.journal()["entries"]
    assert entry["method"] == "GET" and entry["status"] == 200
    assert entry["apiVersion"] == "2025-04-01"
    assert entry["extra"]["token"].startswith("sha256:")
    assert arm.credential.token not in str(entry)


def test_provider_registration_takes_the_configured_time_on_the_clock(arm: ArmHarness) -> None:
    arm.seed_demo()  # Microsoft.KubernetesConfiguration NotRegistered, registrationDelaySeconds 20
    client = arm.mgmt_client(ResourceManagementClient)
    assert client.providers.get(KC).registration_state == "NotRegistered"
    assert client.providers.register(KC).registration_state == "Registering"
    arm.advance(19)
    assert client.providers.get(KC).registration_state == "Registering"
    arm.advance(1)
    provider = client.providers.get(KC)
    assert provider.registration_state == "Registered"
    assert provider.namespace == KC
    assert provider.id == f"/subscriptions/{DEMO_SUBSCRIPTION}/providers/{KC}"


def test_provider_list_reports_every_state_and_unregister_works(arm: ArmHarness) -> None:
    arm.seed_demo()
    client = arm.mgmt_client(ResourceManagementClient)
    states = {p.namespace: p.registration_state for p in client.providers.list()}
    assert states[KC] == "NotRegistered"
    assert states["Microsoft.ContainerService"] == "Registered"
    assert client.providers.unregister("Microsoft.Storage").registration_state == "NotRegistered"


def test_provider_lookup_is_case_insensitive(arm: ArmHarness) -> None:
    arm.seed_demo()
    provider = arm.mgmt_client(ResourceManagementClient).providers.get(KC.lower())
    assert provider.namespace == KC


def test_resource_groups_get_list_and_create(arm: ArmHarness) -> None:
    arm.seed_demo()
    client = arm.mgmt_client(ResourceManagementClient)
    assert client.resource_groups.get("rg-demo").location == "eastus"
    created = client.resource_groups.create_or_update("rg-new", {"location": "westeurope"})
    assert created.properties.provisioning_state == "Succeeded"
    assert {g.name for g in client.resource_groups.list()} == {"rg-demo", "rg-new"}


def test_unknown_resource_group_is_arm_resource_group_not_found(arm: ArmHarness) -> None:
    arm.seed_demo()
    client = arm.mgmt_client(ResourceManagementClient)
    with pytest.raises(ResourceNotFoundError) as err:
        client.resource_groups.get("rg-missing")
    assert err.value.error.code == "ResourceGroupNotFound"
    assert err.value.error.message == "Resource group 'rg-missing' could not be found."


def test_unknown_resource_is_arm_resource_not_found_with_the_real_message(arm: ArmHarness) -> None:
    arm.seed_demo()
    client = arm.mgmt_client(ResourceManagementClient)
    rid = (
        f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/rg-demo/providers/Microsoft.Storage/"
        "storageAccounts/nosuchaccount"
    )
    with pytest.raises(ResourceNotFoundError) as err:
        client.resources.get_by_id(rid, api_version="2023-05-01")
    assert err.value.error.code == "ResourceNotFound"
    assert err.value.error.message.startswith(
        "The Resource 'Microsoft.Storage/storageAccounts/nosuchaccount' under resource group 'rg-demo' "
        "was not found."
    )


def test_unknown_route_is_an_arm_error_not_a_crash(arm: ArmHarness) -> None:
    arm.seed_demo()
    client = arm.mgmt_client(ResourceManagementClient)
    with pytest.raises(HttpResponseError) as err:
        client.resources.get_by_id(
            f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/rg-demo/nonsense", api_version="1"
        )
    assert err.value.status_code == 400
    assert err.value.error.code == "InvalidResourceType"


def test_subscriptions_are_served_through_the_sdk_pipeline(arm: ArmHarness) -> None:
    arm.seed_demo()
    client = arm.mgmt_client(ResourceManagementClient)
    one = client.send_request(
        HttpRequest("GET", f"/subscriptions/{DEMO_SUBSCRIPTION}?api-version=2022-12-01")
    )
    assert one.status_code == 200
    assert one.json()["subscriptionId"] == DEMO_SUBSCRIPTION
    assert one.json()["tenantId"] == "7e57c0de-0000-4000-8000-000000000001"
    listed = client.send_request(HttpRequest("GET", "/subscriptions?api-version=2022-12-01")).json()["value"]
    assert [s["displayName"] for s in listed] == ["Service Connector demo"]


def test_existence_checks_use_head(arm: ArmHarness) -> None:
    arm.seed_demo()
    client = arm.mgmt_client(ResourceManagementClient)
    assert client.resource_groups.check_existence("rg-demo") is True
    assert client.resource_groups.check_existence("rg-missing") is False
    base = f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/rg-demo/providers/Microsoft.KeyVault/vaults/"
    assert client.resources.check_existence_by_id(base + "kv-demo-0001", api_version="2023-07-01") is True
    assert client.resources.check_existence_by_id(base + "kv-missing", api_version="2023-07-01") is False
