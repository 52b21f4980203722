"""Catalog entries: Azure Storage (blob, queue, file, table)."""

from __future__ import annotations

from connector._catalog_types import (
    IdPattern,
    RoleSpec,
    SecretSource,
    TargetSpec,
    ValueRule,
    items,
)
from connector.vocabulary import AuthType, ClientType

_ACCOUNT = (
    "/subscriptions/{subscription}/resourceGroups/{resourceGroup}"
    "/providers/Microsoft.Storage/storageAccounts/{name}"
)
# Storage Accounts - List Keys (Microsoft.Storage 2023-01-01): {"keys": [{"keyName": "key1", "value": ...}]}
_STORAGE_KEYS = SecretSource(action="listKeys", value_path="keys[0].value", api_version="2023-01-01")

STORAGE_BLOB = TargetSpec(
    kind="storage-blob",
    display_name="Azure Blob Storage",
    auth_types=frozenset(
        {AuthType.USER_ASSIGNED_IDENTITY, AuthType.SECRET, AuthType.SERVICE_PRINCIPAL_SECRET}
    ),
    supports_csi=False,
    secret_source=_STORAGE_KEYS,
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage
    role=RoleSpec("Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-storage-blob",
    id_pattern=IdPattern(_ACCOUNT + "/blobServices/default", resource_depth=8),
    values={
        "endpoint": ValueRule("primaryEndpoints.blob", fallback="https://{name}.blob.core.windows.net/"),
    },
    keys={
        AuthType.SECRET.value: {
            None: items(
                (
                    "AZURE_STORAGEBLOB_CONNECTIONSTRING",
                    "DefaultEndpointsProtocol=https;AccountName={name};AccountKey={secret};BlobEndpoint={endpoint}",
                ),
            ),
        },
        AuthType.USER_ASSIGNED_IDENTITY.value: {
            None: items(
                ("AZURE_STORAGEBLOB_RESOURCEENDPOINT", "{endpoint}"),
                ("AZURE_STORAGEBLOB_CLIENTID", "{client_id}"),
            ),
        },
        AuthType.SERVICE_PRINCIPAL_SECRET.value: {
            None: items(
                ("AZURE_STORAGEBLOB_RESOURCEENDPOINT", "{endpoint}"),
                ("AZURE_STORAGEBLOB_CLIENTID", "{client_id}"),
                ("AZURE_STORAGEBLOB_CLIENTSECRET", "{client_secret}"),
                ("AZURE_STORAGEBLOB_TENANTID", "{tenant_id}"),
            ),
        },
    },
    client_types=frozenset(ClientType),
)

STORAGE_SPECS: tuple[TargetSpec, ...] = (STORAGE_BLOB,)
