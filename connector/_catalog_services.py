"""Catalog entries: Key Vault, App Configuration, Azure Cosmos DB (NoSQL), Azure Cache for Redis."""

from __future__ import annotations

from connector._catalog_types import CSI, IdPattern, RoleSpec, TargetSpec, ValueRule, items
from connector.vocabulary import AuthType, ClientType

KEYVAULT = TargetSpec(
    kind="keyvault",
    display_name="Azure Key Vault",
    auth_types=frozenset({AuthType.USER_ASSIGNED_IDENTITY, AuthType.SERVICE_PRINCIPAL_SECRET}),
    supports_csi=True,
    secret_source=None,
    role=RoleSpec("Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6"),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-key-vault",
    id_pattern=IdPattern(
        "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.KeyVault/vaults/{name}",
        resource_depth=8,
    ),
    values={"endpoint": ValueRule("vaultUri", fallback="https://{name}.vault.azure.net/")},
    keys={
        AuthType.USER_ASSIGNED_IDENTITY.value: {
            None: items(
                ("AZURE_KEYVAULT_RESOURCEENDPOINT", "{endpoint}"), ("AZURE_KEYVAULT_CLIENTID", "{client_id}")
            ),
        },
        CSI: {
            None: items(
                ("AZURE_KEYVAULT_TENANTID", "{tenant_id}"),
                ("AZURE_KEYVAULT_NAME", "{name}"),
                ("AZURE_KEYVAULT_CLIENTID", "{client_id}"),
            ),
        },
    },
    client_types=frozenset(ClientType),
)

SERVICE_SPECS: tuple[TargetSpec, ...] = (KEYVAULT,)
