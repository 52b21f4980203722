"""Catalog entries: Azure Storage (blob, queue, file, table).

Key names come from the Microsoft Learn "Integrate … with Service Connector" pages (MicrosoftDocs/azure-docs,
articles/service-connector/how-to-integrate-storage-*.md, 2023-2024 versions); roles from articles/service-
connector/concept-microsoft-entra-roles.md (2025). Connection strings follow the pages' example
`DefaultEndpointsProtocol=https;AccountName=<account>;AccountKey=<key>;EndpointSuffix=core.windows.net`, with
the suffix taken from the account's own endpoint (so sovereign clouds keep theirs).
"""

from __future__ import annotations

from connector._catalog_types import (
    ALL_AUTH,
    AUTH_SECRET,
    AUTH_SP,
    AUTH_UAMI,
    UNSUPPORTED,
    ClientKeys,
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
# Storage Accounts - List Keys (Microsoft.Storage 2023-01-01): {"keys": [{"keyName": "key1", "value": "..."}]}
_STORAGE_KEYS = SecretSource(action="listKeys", value_path="keys[0].value", api_version="2023-01-01")
_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=https;AccountName={name};AccountKey={secret};EndpointSuffix={endpoint_suffix}"
)


def _values(service: str) -> dict[str, ValueRule]:
    # Endpoints come from the account's properties.primaryEndpoints (Storage Accounts - Get).
    fallback = f"https://{{name}}.{service}.core.windows.net/"
    return {
        "endpoint": ValueRule(f"primaryEndpoints.{service}", fallback=fallback),
        "endpoint_suffix": ValueRule(
            f"primaryEndpoints.{service}", fallback=fallback, transform="endpoint_suffix"
        ),
    }


def _identity_keys(prefix: str, spring_service: str | None) -> dict[str, ClientKeys]:
    """Identity key sets; with `spring_service` (blob, queue), the Spring Cloud Azure 4 properties Learn
    gives for Spring Boot, else Spring Boot is refused for identities."""
    uami = items((f"{prefix}_RESOURCEENDPOINT", "{endpoint}"), (f"{prefix}_CLIENTID", "{client_id}"))
    sp = items(
        (f"{prefix}_RESOURCEENDPOINT", "{endpoint}"),
        (f"{prefix}_CLIENTID", "{client_id}"),
        (f"{prefix}_CLIENTSECRET", "{client_secret}"),
        (f"{prefix}_TENANTID", "{tenant_id}"),
    )
    if spring_service is None:
        return {
            AUTH_UAMI: {None: uami, ClientType.SPRING_BOOT: UNSUPPORTED},
            AUTH_SP: {None: sp, ClientType.SPRING_BOOT: UNSUPPORTED},
        }
    spring = f"spring.cloud.azure.storage.{spring_service}"
    return {
        AUTH_UAMI: {
            None: uami,
            ClientType.SPRING_BOOT: items(
                (f"{spring}.credential.managed-identity-enabled", "true"),
                (f"{spring}.account-name", "{name}"),
                (f"{spring}.endpoint", "{endpoint}"),
                (f"{spring}.credential.client-id", "{client_id}"),
            ),
        },
        AUTH_SP: {
            None: sp,
            ClientType.SPRING_BOOT: items(
                (f"{spring}.account-name", "{name}"),
                (f"{spring}.endpoint", "{endpoint}"),
                (f"{spring}.credential.client-id", "{client_id}"),
                (f"{spring}.credential.client-secret", "{client_secret}"),
            ),
        },
    }


# https://learn.microsoft.com/azure/service-connector/how-to-integrate-storage-blob
# (azure-docs how-to-integrate-storage-blob.md, 02/03/2026, listing AKS: Spring Boot supports identities with
# the Spring Cloud Azure 4 properties; the page's example of managed-identity-enabled is `True`).
STORAGE_BLOB = TargetSpec(
    kind="storage-blob",
    display_name="Azure Blob Storage",
    auth_types=ALL_AUTH,
    supports_csi=False,
    secret_source=_STORAGE_KEYS,
    roles=(RoleSpec("Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"),),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-storage-blob",
    id_pattern=IdPattern(_ACCOUNT + "/blobServices/default", resource_depth=8),
    values=_values("blob"),
    keys={
        AUTH_SECRET: {
            None: items(("AZURE_STORAGEBLOB_CONNECTIONSTRING", _CONNECTION_STRING)),
            ClientType.SPRING_BOOT: items(
                ("azure.storage.account-name", "{name}"),
                ("azure.storage.account-key", "{secret}"),
                ("azure.storage.blob-endpoint", "{endpoint}"),
                ("spring.cloud.azure.storage.blob.account-name", "{name}"),
                ("spring.cloud.azure.storage.blob.account-key", "{secret}"),
                ("spring.cloud.azure.storage.blob.endpoint", "{endpoint}"),
            ),
        },
        **_identity_keys("AZURE_STORAGEBLOB", "blob"),
    },
    client_types=frozenset(
        {
            ClientType.DOTNET,
            ClientType.JAVA,
            ClientType.SPRING_BOOT,
            ClientType.NODEJS,
            ClientType.PYTHON,
            ClientType.GO,
            ClientType.NONE,
        }
    ),
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-storage-queue
# (azure-docs how-to-integrate-storage-queue.md, 04/06/2026, listing AKS: Go added; Spring Boot supports
# identities with the Spring Cloud Azure 4 properties. The page no longer lists `none`; the 2023 version did,
# and it is kept: connector/CATALOG.md).
STORAGE_QUEUE = TargetSpec(
    kind="storage-queue",
    display_name="Azure Queue Storage",
    auth_types=ALL_AUTH,
    supports_csi=False,
    secret_source=_STORAGE_KEYS,
    roles=(RoleSpec("Storage Queue Data Contributor", "974c5e8b-45b9-4653-ba55-5f855dd0fb88"),),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-storage-queue",
    id_pattern=IdPattern(_ACCOUNT + "/queueServices/default", resource_depth=8),
    values=_values("queue"),
    keys={
        AUTH_SECRET: {
            None: items(("AZURE_STORAGEQUEUE_CONNECTIONSTRING", _CONNECTION_STRING)),
            ClientType.SPRING_BOOT: items(
                ("spring.cloud.azure.storage.account", "{name}"),
                ("spring.cloud.azure.storage.access-key", "{secret}"),
                ("spring.cloud.azure.storage.queue.account-name", "{name}"),
                ("spring.cloud.azure.storage.queue.account-key", "{secret}"),
                ("spring.cloud.azure.storage.queue.endpoint", "{endpoint}"),
            ),
        },
        **_identity_keys("AZURE_STORAGEQUEUE", "queue"),
    },
    client_types=frozenset(
        {
            ClientType.DOTNET,
            ClientType.GO,
            ClientType.JAVA,
            ClientType.SPRING_BOOT,
            ClientType.NODEJS,
            ClientType.PYTHON,
            ClientType.NONE,
        }
    ),
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-storage-file
# (azure-docs how-to-integrate-storage-file.md, 04/08/2026, listing AKS: secret only; Spring Boot gets the
# properties of Spring Cloud Azure below and above 4.0; `none` is the page's "Others" sample tab).
STORAGE_FILE = TargetSpec(
    kind="storage-file",
    display_name="Azure Files",
    auth_types=frozenset({AuthType.SECRET}),
    supports_csi=False,
    secret_source=_STORAGE_KEYS,
    roles=(),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-storage-file",
    id_pattern=IdPattern(_ACCOUNT + "/fileServices/default", resource_depth=8),
    values=_values("file"),
    keys={
        AUTH_SECRET: {
            None: items(("AZURE_STORAGEFILE_CONNECTIONSTRING", _CONNECTION_STRING)),
            ClientType.SPRING_BOOT: items(
                ("azure.storage.account-name", "{name}"),
                ("azure.storage.account-key", "{secret}"),
                ("azure.storage.file-endpoint", "{endpoint}"),
                ("spring.cloud.azure.storage.fileshare.account-name", "{name}"),
                ("spring.cloud.azure.storage.fileshare.account-key", "{secret}"),
                ("spring.cloud.azure.storage.fileshare.endpoint", "{endpoint}"),
            ),
        },
    },
    client_types=frozenset(
        {
            ClientType.DOTNET,
            ClientType.JAVA,
            ClientType.SPRING_BOOT,
            ClientType.NODEJS,
            ClientType.PYTHON,
            ClientType.PHP,
            ClientType.RUBY,
            ClientType.NONE,
        }
    ),
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-storage-table
# (azure-docs how-to-integrate-storage-table.md, 06/17/2026, listing AKS: .NET, Java, Node.js, Python, and an
# "Other" sample tab, served here as `none`).
STORAGE_TABLE = TargetSpec(
    kind="storage-table",
    display_name="Azure Table Storage",
    auth_types=ALL_AUTH,
    supports_csi=False,
    secret_source=_STORAGE_KEYS,
    roles=(RoleSpec("Storage Table Data Contributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"),),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-storage-table",
    id_pattern=IdPattern(_ACCOUNT + "/tableServices/default", resource_depth=8),
    values=_values("table"),
    keys={
        AUTH_SECRET: {None: items(("AZURE_STORAGETABLE_CONNECTIONSTRING", _CONNECTION_STRING))},
        **_identity_keys("AZURE_STORAGETABLE", None),
    },
    client_types=frozenset(
        {ClientType.DOTNET, ClientType.JAVA, ClientType.NODEJS, ClientType.PYTHON, ClientType.NONE}
    ),
)

STORAGE_SPECS: tuple[TargetSpec, ...] = (STORAGE_BLOB, STORAGE_QUEUE, STORAGE_FILE, STORAGE_TABLE)
