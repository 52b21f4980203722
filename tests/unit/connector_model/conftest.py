"""Shared request bodies for the connection-model tests, reconstructed from the Azure CLI recordings."""

from __future__ import annotations

import copy
from typing import Any

import pytest

SUBSCRIPTION = "937bc588-a144-4083-8612-5f9ffbbddb14"
GROUP = "servicelinker-test-linux-group"
CLUSTER_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
    "/providers/Microsoft.ContainerService/managedClusters/servicelinker-storage-cluster"
)
LINKER_ID = f"{CLUSTER_ID}/providers/Microsoft.ServiceLinker/linkers/testconn"
STORAGE_ACCOUNT_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
    "/providers/Microsoft.Storage/storageAccounts/servicelinkerstorage"
)
BLOB_TARGET_ID = f"{STORAGE_ACCOUNT_ID}/blobServices/default"
KEYVAULT_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
    "/providers/Microsoft.KeyVault/vaults/servicelinkervault"
)
IDENTITY_CLIENT_ID = "7fd7a8e3-5f5a-4f3b-9e8e-8f2a7c9b5d11"
IDENTITY_PRINCIPAL_ID = "0b3c5d1e-2f4a-4b6c-8d9e-1f2a3b4c5d6e"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"

# `az aks connection create storage-blob --workload-identity <uami id>` (reference §3, [REC-WI]): the CLI
# resolves the identity's client id, then PUTs this body.
WORKLOAD_IDENTITY_BODY: dict[str, Any] = {
    "properties": {
        "targetService": {"type": "AzureResource", "id": BLOB_TARGET_ID},
        "authInfo": {
            "authType": "userAssignedIdentity",
            "clientId": IDENTITY_CLIENT_ID,
            "subscriptionId": SUBSCRIPTION,
        },
        "clientType": "python",
        "scope": "default",
        "secretStore": {},
        "configurationInfo": {"customizedKeys": {}, "configurationStore": {"appConfigurationId": None}},
        "publicNetworkSolution": {"firewallRules": {"callerClientIP": "false"}},
    }
}

# `az aks connection create storage-blob --secret` (reference §3, [REC-SEC]): keys are listed by the service.
SECRET_BODY: dict[str, Any] = {
    "properties": {
        "targetService": {"type": "AzureResource", "id": BLOB_TARGET_ID},
        "authInfo": {"authType": "secret"},
        "clientType": "python",
        "scope": "default",
        "secretStore": {},
        "configurationInfo": {"customizedKeys": {}},
    }
}

RAW_PASSWORD = "S3cr3t-P@ssw0rd-never-shown"


def body(template: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of a template body, safe to mutate."""
    return copy.deepcopy(template)


@pytest.fixture
def wi_body() -> dict[str, Any]:
    return body(WORKLOAD_IDENTITY_BODY)


@pytest.fixture
def secret_body() -> dict[str, Any]:
    return body(SECRET_BODY)
