"""A linker and its configurations answer every property their api-version's spec declares, as Azure does.

Two outside references: the vendored specs (spec/, read by tests/contract/spec_schema.py) say which properties
each definition has; azure-cli's recording of Azure's answers at 2024-07-01-preview
(`src/azure-cli/azure/cli/command_modules/serviceconnector/tests/latest/recordings/
test_kubernetes_storageblob_e2e.yaml`, the GET after `az aks connection create storage-blob --secret`) shows
which of them Azure fills and how. oav (tests/contract/traffic.py) judges what a response carries; these
tests ask for what it must not leave out.
"""

from __future__ import annotations

from typing import Any

import pytest

from connector.wire import parse_linker, to_linker_body
from tests.contract import spec_schema
from triggers.configurations import list_configurations

SUB = "00000000-0000-0000-0000-000000000000"
GROUP = "servicelinker-test-linux-group"
CLUSTER_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.ContainerService/managedClusters/c1"
)
LINKER_ID = f"{CLUSTER_ID}/providers/Microsoft.ServiceLinker/linkers/testconn"
STORAGE = f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.Storage/storageAccounts/st1"
BLOB = f"{STORAGE}/blobServices/default"
VAULT = f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.KeyVault/vaults/kv1"
CLIENT_ID = "7fd7a8e3-5f5a-4f3b-9e8e-8f2a7c9b5d11"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"

# Azure's GET of a secret-auth AKS linker at 2024-07-01-preview, as azure-cli recorded it (ids shortened).
RECORDED_SECRET_LINKER: dict[str, Any] = {
    "id": LINKER_ID,
    "name": "testconn",
    "type": "microsoft.servicelinker/linkers",
    "systemData": {
        "createdBy": "user@example.com",
        "createdByType": "User",
        "createdAt": "2024-09-04T08:00:15.0835046Z",
        "lastModifiedBy": "user@example.com",
        "lastModifiedByType": "User",
        "lastModifiedAt": "2024-09-04T08:00:15.0835046Z",
    },
    "properties": {
        "publicNetworkSolution": {"firewallRules": None, "deleteOrUpdateBehavior": None, "action": None},
        "configurationInfo": {
            "customizedKeys": None,
            "configurationStore": {"appConfigurationId": None},
            "additionalConfigurations": None,
            "additionalConnectionStringProperties": None,
            "deleteOrUpdateBehavior": None,
            "action": None,
            "daprProperties": None,
        },
        "provisioningState": "Succeeded",
        "targetService": {"id": BLOB, "resourceProperties": None, "type": "AzureResource"},
        "authInfo": {
            "name": None,
            "secretInfo": {"secretType": "rawValue"},
            "authType": "secret",
            "authMode": None,
        },
        "clientType": "python",
        "scope": "default",
        "vNetSolution": None,
        "secretStore": {"keyVaultId": None, "keyVaultSecretName": None},
    },
}
# Its listConfigurations item (the value is hidden in the recording).
RECORDED_CONFIGURATION_KEYS = {"name", "value", "configType", "keyVaultReferenceIdentity", "description"}

SECRET = {"authType": "secret"}
IDENTITY = {"authType": "userAssignedIdentity", "clientId": CLIENT_ID, "subscriptionId": SUB}
SERVICE_PRINCIPAL = {
    "authType": "servicePrincipalSecret",
    "clientId": CLIENT_ID,
    "principalId": "0b3c5d1e-2f4a-4b6c-8d9e-1f2a3b4c5d6e",
    "secret": "sp-secret-never-shown",
}


def _request(auth: dict[str, Any], target: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "properties": {
            "targetService": target or {"type": "AzureResource", "id": BLOB},
            "authInfo": dict(auth),
            "clientType": "python",
            "scope": "default",
        }
    }


def _read_back(request: dict[str, Any], api_version: str) -> dict[str, Any]:
    connection = parse_linker(LINKER_ID, request, api_version).with_provisioning_state("Succeeded")
    return to_linker_body(connection, api_version)


def _shape(value: Any) -> Any:
    """The nested key structure of a JSON value (leaves collapse to None)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return None


def test_a_secret_linker_has_the_shape_azure_answers_at_2024_07_01_preview() -> None:
    emitted = _read_back(_request(SECRET), "2024-07-01-preview")
    emitted["systemData"] = RECORDED_SECRET_LINKER["systemData"]  # added by the trigger from the registry

    assert _shape(emitted) == _shape(RECORDED_SECRET_LINKER)
    assert emitted["properties"] == {
        **RECORDED_SECRET_LINKER["properties"],
        "targetService": emitted["properties"]["targetService"],
    }


CASES = {
    "secret": (_request(SECRET), "SecretAuthInfo"),
    "workload identity": (_request(IDENTITY), "UserAssignedIdentityAuthInfo"),
    "service principal": (_request(SERVICE_PRINCIPAL), "ServicePrincipalSecretAuthInfo"),
    "key vault csi": (
        _request(
            {"authType": "userAssignedIdentity"},
            {
                "type": "AzureResource",
                "id": VAULT,
                "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": True},
            },
        ),
        "UserAssignedIdentityAuthInfo",
    ),
}


@pytest.mark.parametrize("api_version", sorted(spec_schema.SPEC_FILES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_linker_answers_every_property_its_api_version_declares(api_version: str, case: str) -> None:
    request, auth_definition = CASES[case]
    emitted = _read_back(request, api_version)
    emitted["systemData"] = None  # added by the trigger from the registry

    assert set(emitted) == spec_schema.readable_names(api_version, "LinkerResource")
    props = emitted["properties"]
    assert set(props) == spec_schema.readable_names(api_version, "LinkerProperties")
    assert set(props["authInfo"]) == spec_schema.readable_names(api_version, auth_definition)
    assert set(props["targetService"]) == spec_schema.readable_names(api_version, "AzureResource")
    assert "sp-secret-never-shown" not in str(emitted)


@pytest.mark.parametrize("api_version", sorted(spec_schema.SPEC_FILES))
def test_configurations_answer_every_property_their_api_version_declares(api_version: str) -> None:
    connection = parse_linker(LINKER_ID, _request(SECRET), api_version)
    items = list_configurations(connection, TENANT, api_version)
    definition = "SourceConfiguration"

    assert items
    for item in items:
        assert set(item) == spec_schema.readable_names(api_version, definition)
    if api_version == "2024-07-01-preview":
        assert set(items[0]) == RECORDED_CONFIGURATION_KEYS
        assert {item["configType"] for item in items} == {"Default"}


def test_the_recorded_azure_answer_declares_nothing_outside_the_spec() -> None:
    """The recording and the vendored spec agree (a check of the two references against each other)."""
    props = RECORDED_SECRET_LINKER["properties"]
    version = "2024-07-01-preview"
    assert set(RECORDED_SECRET_LINKER) == spec_schema.readable_names(version, "LinkerResource")
    assert set(props) == spec_schema.readable_names(version, "LinkerProperties")
    assert set(props["authInfo"]) == spec_schema.readable_names(
        version, spec_schema.discriminated(version, "AuthInfoBase", "secret")
    )
    assert set(props["configurationInfo"]) == spec_schema.readable_names(version, "ConfigurationInfo")
    assert set(props["publicNetworkSolution"]) == spec_schema.readable_names(version, "PublicNetworkSolution")
    assert set(props["secretStore"]) == spec_schema.readable_names(version, "SecretStore")


def test_every_api_version_the_product_serves_has_its_spec_vendored() -> None:
    """No answer escapes the validator because its version's spec is missing."""
    from connector.wire import SUPPORTED_API_VERSIONS
    from tests.contract.traffic import VENDORED_API_VERSIONS

    assert set(SUPPORTED_API_VERSIONS) == VENDORED_API_VERSIONS == set(spec_schema.SPEC_FILES)
    assert all(path.is_file() for path in spec_schema.SPEC_FILES.values())
