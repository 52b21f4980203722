"""The ServiceLinker wire format: CLI bodies in, linker bodies out that the official SDK models read back."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from azure.mgmt.servicelinker.models import (
    KeyVaultSecretReferenceSecretInfo,
    LinkerResource,
    SecretAuthInfo,
    ServicePrincipalSecretAuthInfo,
    UserAssignedIdentityAuthInfo,
    ValueSecretInfo,
)

from connector.model import (
    ClusterRef,
    Connection,
    DeleteOrUpdateBehavior,
    SecretAuth,
    SecretKind,
    ServicePrincipalAuth,
    WorkloadIdentityAuth,
)
from connector.validation import RequestValidationError
from connector.vocabulary import AuthType, ClientType
from connector.wire import parse_linker, parse_patch, split_linker_id, to_linker_body

from .conftest import (
    BLOB_TARGET_ID,
    CLUSTER_ID,
    GROUP,
    IDENTITY_CLIENT_ID,
    KEYVAULT_ID,
    LINKER_ID,
    RAW_PASSWORD,
    SECRET_BODY,
    SUBSCRIPTION,
    WORKLOAD_IDENTITY_BODY,
    body,
)

API_VERSIONS = ("2022-05-01", "2024-04-01")
CLUSTER = ClusterRef(subscription_id=SUBSCRIPTION, resource_group=GROUP, name="servicelinker-storage-cluster")


def _sdk_read(emitted: dict[str, Any]) -> Any:
    """What the official azure-mgmt-servicelinker model reads from an emitted body."""
    # msrest pops discriminators from the dict it reads, so give it a copy.
    return LinkerResource.deserialize(copy.deepcopy(emitted))  # type: ignore[no-untyped-call]


def _for_version(template: dict[str, Any], api_version: str) -> dict[str, Any]:
    """The CLI body as a client of that api-version sends it (2022-05-01 has no configurationInfo)."""
    result = body(template)
    if api_version == "2022-05-01":
        result["properties"].pop("configurationInfo", None)
    return result


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_workload_identity_body_from_the_cli_parses_to_the_expected_connection(api_version: str) -> None:
    connection = parse_linker(LINKER_ID, _for_version(WORKLOAD_IDENTITY_BODY, api_version), api_version)

    assert connection == Connection(
        linker_name="testconn",
        cluster=CLUSTER,
        target_id=BLOB_TARGET_ID,
        target_kind="storage-blob",
        auth=WorkloadIdentityAuth(client_id=IDENTITY_CLIENT_ID, subscription_id=SUBSCRIPTION),
        client_type=ClientType.PYTHON,
        namespace="default",
    )
    assert connection.linker_id == LINKER_ID
    assert connection.cluster.id == CLUSTER_ID
    assert connection.is_workload_identity


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_secret_body_from_the_cli_parses_to_an_auto_secret_connection(api_version: str) -> None:
    connection = parse_linker(LINKER_ID, _for_version(SECRET_BODY, api_version), api_version)

    assert connection.auth == SecretAuth(kind=SecretKind.AUTO)
    assert connection.target_kind == "storage-blob"
    assert connection.client_type is ClientType.PYTHON
    assert connection.raw_secret() is None


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_emitted_workload_identity_linker_reads_back_through_the_official_sdk_model(api_version: str) -> None:
    connection = parse_linker(LINKER_ID, _for_version(WORKLOAD_IDENTITY_BODY, api_version), api_version)

    emitted = to_linker_body(connection.with_provisioning_state("Succeeded"), api_version)
    resource = _sdk_read(emitted)

    assert resource.id == LINKER_ID
    assert resource.name == "testconn"
    assert resource.type == "Microsoft.ServiceLinker/linkers"
    assert resource.target_service.type == "AzureResource"
    assert resource.target_service.id == BLOB_TARGET_ID
    assert isinstance(resource.auth_info, UserAssignedIdentityAuthInfo)
    assert resource.auth_info.client_id == IDENTITY_CLIENT_ID
    assert resource.auth_info.subscription_id == SUBSCRIPTION
    assert resource.client_type == "python"
    assert resource.scope == "default"
    assert resource.provisioning_state == "Succeeded"
    # And what we emit parses back to the same connection (what a GET-modify-PUT client sends).
    assert parse_linker(LINKER_ID, emitted, api_version) == connection


def test_emitted_secret_linkers_read_back_with_their_secret_type_and_no_value() -> None:
    raw = body(SECRET_BODY)
    raw["properties"]["authInfo"] = {
        "authType": "secret",
        "name": "dbuser",
        "secretInfo": {"secretType": "rawValue", "value": RAW_PASSWORD},
    }
    connection = parse_linker(LINKER_ID, raw, "2024-04-01")
    assert connection.raw_secret() is not None
    assert connection.raw_secret().get_secret_value() == RAW_PASSWORD  # type: ignore[union-attr]

    resource = _sdk_read(to_linker_body(connection, "2024-04-01"))

    assert isinstance(resource.auth_info, SecretAuthInfo)
    assert resource.auth_info.name == "dbuser"
    assert isinstance(resource.auth_info.secret_info, ValueSecretInfo)
    assert resource.auth_info.secret_info.value is None


def test_key_vault_secret_reference_round_trips_with_its_secret_store() -> None:
    raw = body(SECRET_BODY)
    raw["properties"]["authInfo"] = {
        "authType": "secret",
        "name": "dbuser",
        "secretInfo": {"secretType": "keyVaultSecretReference", "name": "db-password", "version": "abc123"},
    }
    raw["properties"]["secretStore"] = {"keyVaultId": KEYVAULT_ID}

    connection = parse_linker(LINKER_ID, raw, "2024-04-01")
    assert connection.auth == SecretAuth(
        kind=SecretKind.KEY_VAULT_SECRET_REFERENCE,
        user_name="dbuser",
        key_vault_secret_name="db-password",
        key_vault_secret_version="abc123",
        key_vault_id=KEYVAULT_ID,
    )
    resource = _sdk_read(to_linker_body(connection, "2022-05-01"))
    assert isinstance(resource.auth_info.secret_info, KeyVaultSecretReferenceSecretInfo)
    assert resource.auth_info.secret_info.name == "db-password"
    assert resource.auth_info.secret_info.version == "abc123"
    assert resource.secret_store.key_vault_id == KEYVAULT_ID


def test_service_principal_secret_is_accepted_but_never_emitted() -> None:
    raw = body(SECRET_BODY)
    raw["properties"]["authInfo"] = {
        "authType": "servicePrincipalSecret",
        "clientId": IDENTITY_CLIENT_ID,
        "principalId": "0b3c5d1e-2f4a-4b6c-8d9e-1f2a3b4c5d6e",
        "secret": RAW_PASSWORD,
    }
    connection = parse_linker(LINKER_ID, raw, "2024-04-01")
    assert isinstance(connection.auth, ServicePrincipalAuth)

    emitted = to_linker_body(connection, "2024-04-01")
    resource = _sdk_read(emitted)

    assert isinstance(resource.auth_info, ServicePrincipalSecretAuthInfo)
    assert resource.auth_info.client_id == IDENTITY_CLIENT_ID
    assert resource.auth_info.secret is None
    assert RAW_PASSWORD not in repr(emitted)


def test_key_vault_csi_body_parses_without_a_client_id_and_emits_the_csi_flag() -> None:
    raw = body(WORKLOAD_IDENTITY_BODY)
    raw["properties"]["targetService"] = {
        "type": "AzureResource",
        "id": KEYVAULT_ID,
        "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": True},
    }
    raw["properties"]["authInfo"] = {"authType": "userAssignedIdentity", "clientId": ""}

    connection = parse_linker(LINKER_ID, raw, "2024-04-01")

    assert connection.key_vault_csi
    assert connection.target_kind == "keyvault"
    assert not connection.is_workload_identity  # the add-on's identity, no ServiceAccount
    resource = _sdk_read(to_linker_body(connection, "2022-05-01"))
    assert resource.target_service.resource_properties.connect_as_kubernetes_csi_driver is True


APPCONFIG_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.AppConfiguration/"
    "configurationStores/appcs-demo"
)


def test_the_app_configuration_kubernetes_extension_flag_is_refused_not_dropped() -> None:
    # Service Connector installs the App Configuration Kubernetes Provider extension for this flag
    # (learn.microsoft.com/azure/aks/azure-app-configuration-quickstart); this connector does not.
    raw = body(WORKLOAD_IDENTITY_BODY)
    flag = {"type": "AppConfig", "connectWithKubernetesExtension": True}
    raw["properties"]["targetService"] = {
        "type": "AzureResource",
        "id": APPCONFIG_ID,
        "resourceProperties": flag,
    }

    with pytest.raises(RequestValidationError) as raised:
        parse_linker(LINKER_ID, raw, "2024-04-01")

    assert [(p.code, p.target) for p in raised.value.problems] == [
        ("InvalidRequestBody", "properties.targetService.resourceProperties.connectWithKubernetesExtension")
    ]
    flag["connectWithKubernetesExtension"] = False
    assert parse_linker(LINKER_ID, raw, "2024-04-01").target_kind == "appconfig"


def test_a_confluent_linker_round_trips_by_endpoint_with_its_api_key_and_no_secret() -> None:
    raw = body(SECRET_BODY)
    raw["properties"]["targetService"] = {
        "type": "ConfluentSchemaRegistry",
        "endpoint": "https://psrc-gq7pv.westus2.azure.confluent.cloud",
    }
    raw["properties"]["authInfo"] = {
        "authType": "secret",
        "name": "SCHEMAKEY000WXYZ",
        "secretInfo": {"secretType": "rawValue", "value": RAW_PASSWORD},
    }

    connection = parse_linker(LINKER_ID, raw, "2024-04-01")
    resource = _sdk_read(to_linker_body(connection, "2022-05-01"))

    assert connection.target_kind == "confluent-schema-registry"
    assert resource.target_service.type == "ConfluentSchemaRegistry"
    assert resource.target_service.endpoint == "https://psrc-gq7pv.westus2.azure.confluent.cloud"
    assert resource.auth_info.name == "SCHEMAKEY000WXYZ"
    assert RAW_PASSWORD not in json.dumps(to_linker_body(connection, "2022-05-01"))


def test_configuration_info_round_trips_at_2024_04_01_and_is_refused_at_2022_05_01() -> None:
    raw = body(WORKLOAD_IDENTITY_BODY)
    raw["properties"]["configurationInfo"] = {
        "customizedKeys": {"AZURE_STORAGEBLOB_CLIENTID": "BLOB_CLIENT_ID"},
        "deleteOrUpdateBehavior": "ForcedCleanup",
    }

    connection = parse_linker(LINKER_ID, raw, "2024-04-01")
    assert connection.customized_keys == {"AZURE_STORAGEBLOB_CLIENTID": "BLOB_CLIENT_ID"}
    assert connection.delete_or_update_behavior is DeleteOrUpdateBehavior.FORCED_CLEANUP
    emitted = to_linker_body(connection, "2024-04-01")
    # What was sent comes back; the schema's other configurationInfo fields are null (tests/contract).
    sent, info = raw["properties"]["configurationInfo"], emitted["properties"]["configurationInfo"]
    assert {k: info[k] for k in sent} == sent
    assert "configurationInfo" not in to_linker_body(connection, "2022-05-01")["properties"]

    with pytest.raises(RequestValidationError) as refused:
        parse_linker(LINKER_ID, raw, "2022-05-01")
    assert refused.value.code == "InvalidRequestBody"
    assert refused.value.target == "properties.configurationInfo"


def test_absent_optional_fields_take_the_service_defaults() -> None:
    raw = {
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB_TARGET_ID},
            "authInfo": {"authType": "secret"},
        }
    }
    connection = parse_linker(LINKER_ID, raw, "2024-04-01")
    assert connection.namespace == "default"
    assert connection.client_type is ClientType.NONE
    assert connection.delete_or_update_behavior is DeleteOrUpdateBehavior.DEFAULT


def test_enum_values_compare_case_insensitively_as_arm_does() -> None:
    raw = body(WORKLOAD_IDENTITY_BODY)
    raw["properties"]["authInfo"]["authType"] = "UserAssignedIdentity"
    raw["properties"]["clientType"] = "Python"
    connection = parse_linker(LINKER_ID, raw, "2024-04-01")
    assert connection.auth_type is AuthType.USER_ASSIGNED_IDENTITY
    assert connection.client_type is ClientType.PYTHON


def test_put_that_resends_the_linker_as_get_returned_it_keeps_the_stored_secret() -> None:
    raw = body(SECRET_BODY)
    raw["properties"]["authInfo"] = {
        "authType": "secret",
        "name": "dbuser",
        "secretInfo": {"secretType": "rawValue", "value": RAW_PASSWORD},
    }
    stored = parse_linker(LINKER_ID, raw, "2024-04-01").with_sealed_secret("sealed:v1:abc", "hmac-sha256:f00")

    resent = to_linker_body(stored, "2024-04-01")
    resent["properties"]["clientType"] = "dotnet"
    updated = parse_linker(LINKER_ID, resent, "2024-04-01", existing=stored)

    assert updated.client_type is ClientType.DOTNET
    assert updated.sealed_secret == "sealed:v1:abc"
    # Without a stored password, a storage target's rawValue without a value (what `az aks connection update
    # --secret` sends) means what it means on create: the connector lists the account's keys.
    fresh = parse_linker(LINKER_ID, resent, "2024-04-01")
    assert isinstance(fresh.auth, SecretAuth) and fresh.auth.kind is SecretKind.AUTO
    assert fresh.auth.user_name == "dbuser"


def test_patch_merges_into_the_existing_connection() -> None:
    existing = parse_linker(LINKER_ID, body(WORKLOAD_IDENTITY_BODY), "2024-04-01")

    patched = parse_patch(existing, {"properties": {"clientType": "dotnet", "scope": "apps"}}, "2024-04-01")

    assert patched.client_type is ClientType.DOTNET
    assert patched.namespace == "apps"
    assert patched.auth == existing.auth
    assert patched.target_id == existing.target_id
    assert parse_patch(existing, {}, "2024-04-01") == existing


def test_patch_keeps_customized_keys_when_sent_with_the_older_api_version() -> None:
    raw = body(WORKLOAD_IDENTITY_BODY)
    raw["properties"]["configurationInfo"] = {"customizedKeys": {"AZURE_STORAGEBLOB_CLIENTID": "CID"}}
    existing = parse_linker(LINKER_ID, raw, "2024-04-01")

    patched = parse_patch(existing, {"properties": {"scope": "apps"}}, "2022-05-01")

    assert patched.customized_keys == {"AZURE_STORAGEBLOB_CLIENTID": "CID"}


def test_patch_that_breaks_the_connection_is_refused_with_the_field_path() -> None:
    existing = parse_linker(LINKER_ID, body(WORKLOAD_IDENTITY_BODY), "2024-04-01")

    # Another auth type keeps none of the stored one's fields: the service principal's must all be sent.
    with pytest.raises(RequestValidationError) as refused:
        parse_patch(
            existing, {"properties": {"authInfo": {"authType": "servicePrincipalSecret"}}}, "2024-04-01"
        )

    assert refused.value.code == "MissingRequiredField"
    assert {p.target for p in refused.value.problems} == {
        "properties.authInfo.clientId",
        "properties.authInfo.principalId",
    }


def test_patch_naming_the_auth_type_alone_keeps_the_stored_identity() -> None:
    existing = parse_linker(LINKER_ID, body(WORKLOAD_IDENTITY_BODY), "2024-04-01")

    patched = parse_patch(
        existing, {"properties": {"authInfo": {"authType": "userAssignedIdentity"}}}, "2024-04-01"
    )

    assert patched.auth == existing.auth


def test_linker_ids_compare_case_insensitively_in_the_provider_segment() -> None:
    cluster, name = split_linker_id(
        LINKER_ID.replace("Microsoft.ServiceLinker/linkers", "microsoft.servicelinker/LINKERS")
    )
    assert name == "testconn"
    assert cluster.same_as(CLUSTER)


@pytest.mark.parametrize(
    "template", [WORKLOAD_IDENTITY_BODY, SECRET_BODY], ids=["workloadIdentity", "secret"]
)
def test_stored_form_round_trips_through_json(template: dict[str, Any]) -> None:
    connection = parse_linker(LINKER_ID, body(template), "2024-04-01").with_provisioning_state("Accepted")

    stored = json.loads(json.dumps(connection.to_stored()))

    assert Connection.from_stored(stored) == connection
    assert Connection.from_stored(stored).desired_hash() == connection.desired_hash()


@pytest.mark.parametrize(
    "api_version",
    ["2022-05-01", "2022-11-01-preview", "2023-04-01-preview", "2024-04-01", "2024-07-01-preview"],
)
def test_every_published_api_version_from_2022_05_01_is_accepted(api_version: str) -> None:
    request = _for_version(SECRET_BODY, api_version)
    request["properties"]["authInfo"] = {"authType": "secret"}

    connection = parse_linker(LINKER_ID, request, api_version)
    emitted = to_linker_body(connection, api_version)

    assert ("configurationInfo" in emitted["properties"]) is (api_version != "2022-05-01")
    assert _sdk_read(emitted).target_service.id == connection.target_id


def test_the_cli_update_body_for_secret_auth_keeps_listing_the_targets_keys() -> None:
    # `az aks connection update storage-blob --secret` at 2024-07-01-preview.
    created = parse_linker(LINKER_ID, body(SECRET_BODY), "2024-07-01-preview")
    update = body(SECRET_BODY)
    update["properties"]["authInfo"] = {"authType": "secret", "secretInfo": {"secretType": "rawValue"}}

    updated = parse_linker(LINKER_ID, update, "2024-07-01-preview", existing=created)

    assert isinstance(updated.auth, SecretAuth) and updated.auth.kind is SecretKind.AUTO
    assert updated.desired_hash() == parse_linker(LINKER_ID, update, "2024-07-01-preview").desired_hash()


@pytest.mark.parametrize(
    "extra",
    [
        {"publicNetworkSolution": {}},
        {"publicNetworkSolution": {"action": "optOut"}},
        {"publicNetworkSolution": {"action": "optOut", "deleteOrUpdateBehavior": "Default"}},
        {"publicNetworkSolution": {"firewallRules": {"callerClientIP": "false", "ipRanges": []}}},
        {"vNetSolution": None},
        {"vNetSolution": {"type": None}},
    ],
)
def test_options_that_ask_for_nothing_are_accepted(extra: dict[str, Any]) -> None:
    request = body(SECRET_BODY)
    request["properties"].update(extra)
    assert parse_linker(LINKER_ID, request, "2024-07-01-preview").target_id == BLOB_TARGET_ID


@pytest.mark.parametrize(
    ("extra", "auth_mode", "target"),
    [
        ({"publicNetworkSolution": {"action": "enable"}}, None, "properties.publicNetworkSolution"),
        (
            {"publicNetworkSolution": {"firewallRules": {"ipRanges": ["10.0.0.0/24"]}}},
            None,
            "properties.publicNetworkSolution",
        ),
        ({"vNetSolution": {"type": "privateLink"}}, None, "properties.vNetSolution"),
        ({}, "optOutAllAuth", "properties.authInfo.authMode"),
    ],
)
def test_options_the_connector_cannot_honour_are_refused_not_dropped(
    extra: dict[str, Any], auth_mode: str | None, target: str
) -> None:
    request = body(SECRET_BODY)
    request["properties"].update(extra)
    if auth_mode:
        request["properties"]["authInfo"]["authMode"] = auth_mode

    with pytest.raises(RequestValidationError) as refused:
        parse_linker(LINKER_ID, request, "2024-07-01-preview")

    assert refused.value.target == target


def test_auth_mode_opt_in_is_the_default_and_accepted() -> None:
    request = body(SECRET_BODY)
    request["properties"]["authInfo"]["authMode"] = "optInAllAuth"
    assert parse_linker(LINKER_ID, request, "2024-07-01-preview").auth_type == AuthType.SECRET


def test_secret_auth_reads_back_with_a_raw_value_secret_info_and_no_value() -> None:
    connection = parse_linker(LINKER_ID, body(SECRET_BODY), "2024-07-01-preview")
    emitted = to_linker_body(connection, "2024-07-01-preview")
    # As azure-cli's recording of Azure answers at this version (test_kubernetes_storageblob_e2e.yaml).
    assert emitted["properties"]["authInfo"] == {
        "name": None,
        "secretInfo": {"secretType": "rawValue"},
        "authType": "secret",
        "authMode": None,
    }
    # Sent back as read (what a client that GETs, edits and PUTs does), it means the same connection.
    assert parse_linker(LINKER_ID, emitted, "2024-07-01-preview").desired_hash() == connection.desired_hash()


def test_a_key_vault_csi_connection_reads_back_with_null_identity_ids() -> None:
    request = body(SECRET_BODY)
    request["properties"]["targetService"] = {
        "type": "AzureResource",
        "id": KEYVAULT_ID,
        "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": True},
    }
    request["properties"]["authInfo"] = {"authType": "userAssignedIdentity"}
    connection = parse_linker(LINKER_ID, request, "2024-04-01")

    auth = to_linker_body(connection, "2024-04-01")["properties"]["authInfo"]

    # Every field of the version's UserAssignedIdentityAuthInfo, null when unset (tests/contract: the set).
    assert auth["clientId"] is None and auth["subscriptionId"] is None
    assert {k: v for k, v in auth.items() if v is not None} == {"authType": "userAssignedIdentity"}
    assert parse_linker(LINKER_ID, to_linker_body(connection, "2024-04-01"), "2024-04-01") == connection
