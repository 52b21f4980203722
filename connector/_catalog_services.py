"""Catalog entries: Key Vault, App Configuration, Azure Cosmos DB for NoSQL, Azure Cache for Redis.

Key names come from the Microsoft Learn "Integrate … with Service Connector" pages (MicrosoftDocs/azure-docs,
articles/service-connector/how-to-integrate-*.md, 2023 versions unless noted); roles from articles/service-
connector/concept-microsoft-entra-roles.md (2025).
"""

from __future__ import annotations

from connector._catalog_types import (
    ALL_AUTH,
    AUTH_SECRET,
    AUTH_SP,
    AUTH_UAMI,
    CSI,
    RG_PROVIDERS,
    UNSUPPORTED,
    IdPattern,
    RoleSpec,
    SecretSource,
    TargetSpec,
    ValueRule,
    items,
)
from connector.vocabulary import AuthType, ClientType

# The pages give this literal value for the *_SCOPE keys (an ARM token scope, kept as documented).
_ARM_SCOPE = "https://management.azure.com/.default"

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-key-vault
# (azure-docs how-to-integrate-key-vault.md, 11/02/2023). No secret auth. The CSI key set: NAME, TENANTID (the
# vault's tenant) and CLIENTID (the azureKeyvaultSecretsProvider add-on's identity), as
# https://learn.microsoft.com/azure/service-connector/tutorial-python-aks-keyvault-csi-driver (03/01/2024)
# names them and the reference notes [NOTES-KV] saw them in `kubectl get secret`.
KEYVAULT = TargetSpec(
    kind="keyvault",
    display_name="Azure Key Vault",
    auth_types=frozenset({AuthType.USER_ASSIGNED_IDENTITY, AuthType.SERVICE_PRINCIPAL_SECRET}),
    supports_csi=True,
    secret_source=None,
    roles=(
        RoleSpec("Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6"),
        RoleSpec("Key Vault Certificate User", "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"),
    ),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-key-vault",
    id_pattern=IdPattern(RG_PROVIDERS + "/Microsoft.KeyVault/vaults/{name}", resource_depth=8),
    values={
        "endpoint": ValueRule("vaultUri", fallback="https://{name}.vault.azure.net/"),
        # The vault's own tenant (Vaults - Get: properties.tenantId), else the resolved tenant.
        "vault_tenant_id": ValueRule("tenantId", fallback="{tenant_id}"),
    },
    keys={
        AUTH_UAMI: {
            None: items(
                ("AZURE_KEYVAULT_SCOPE", _ARM_SCOPE),
                ("AZURE_KEYVAULT_RESOURCEENDPOINT", "{endpoint}"),
                ("AZURE_KEYVAULT_CLIENTID", "{client_id}"),
            ),
            ClientType.SPRING_BOOT: items(
                ("azure.keyvault.uri", "{endpoint}"),
                ("azure.keyvault.client-id", "{client_id}"),
                ("azure.keyvault.scope", _ARM_SCOPE),
                ("spring.cloud.azure.keyvault.secret.credential.managed-identity-enabled", "true"),
                ("spring.cloud.azure.keyvault.secret.endpoint", "{endpoint}"),
                ("spring.cloud.azure.keyvault.secret.credential.client-id", "{client_id}"),
            ),
        },
        AUTH_SP: {
            None: items(
                ("AZURE_KEYVAULT_SCOPE", _ARM_SCOPE),
                ("AZURE_KEYVAULT_RESOURCEENDPOINT", "{endpoint}"),
                ("AZURE_KEYVAULT_CLIENTID", "{client_id}"),
                ("AZURE_KEYVAULT_CLIENTSECRET", "{client_secret}"),
                ("AZURE_KEYVAULT_TENANTID", "{tenant_id}"),
            ),
            ClientType.SPRING_BOOT: items(
                ("azure.keyvault.uri", "{endpoint}"),
                ("azure.keyvault.client-id", "{client_id}"),
                ("azure.keyvault.client-key", "{client_secret}"),
                ("azure.keyvault.tenant-id", "{tenant_id}"),
                ("azure.keyvault.scope", _ARM_SCOPE),
                ("spring.cloud.azure.keyvault.secret.endpoint", "{endpoint}"),
                ("spring.cloud.azure.keyvault.secret.credential.client-id", "{client_id}"),
                ("spring.cloud.azure.keyvault.secret.credential.client-secret", "{client_secret}"),
                ("spring.cloud.azure.keyvault.secret.profile.tenant-id", "{tenant_id}"),
            ),
        },
        # The same three keys whatever the client type; client_id is the azureKeyvaultSecretsProvider add-
        # on's.
        CSI: {
            None: items(
                ("AZURE_KEYVAULT_TENANTID", "{vault_tenant_id}"),
                ("AZURE_KEYVAULT_NAME", "{name}"),
                ("AZURE_KEYVAULT_CLIENTID", "{client_id}"),
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
            ClientType.NONE,
        }
    ),
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-app-configuration
# (azure-docs how-to-integrate-app-configuration.md, 10/26/2023 and 06/18/2026, listing AKS: same keys). With
# connectWithKubernetesExtension, https://learn.microsoft.com/azure/aks/azure-app-configuration-quickstart
# gives no other key set; the flag is refused (connector/CATALOG.md, item 1).
# Configuration Stores - List Keys (Microsoft.AppConfiguration 2023-03-01): {"value": [{"connectionString",
# ...}]};
# the first entry is the read-write primary key.
APPCONFIG = TargetSpec(
    kind="appconfig",
    display_name="Azure App Configuration",
    auth_types=ALL_AUTH,
    supports_csi=False,
    secret_source=SecretSource("listKeys", "value[0].connectionString", api_version="2023-03-01"),
    roles=(RoleSpec("App Configuration Data Reader", "516239f1-63e1-4d78-a4de-a74fb236a071"),),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-app-configuration",
    id_pattern=IdPattern(
        RG_PROVIDERS + "/Microsoft.AppConfiguration/configurationStores/{name}", resource_depth=8
    ),
    values={
        "endpoint": ValueRule("endpoint", fallback="https://{name}.azconfig.io", transform="strip_slash")
    },
    keys={
        AUTH_SECRET: {None: items(("AZURE_APPCONFIGURATION_CONNECTIONSTRING", "{secret}"))},
        AUTH_UAMI: {
            None: items(
                ("AZURE_APPCONFIGURATION_ENDPOINT", "{endpoint}"),
                ("AZURE_APPCONFIGURATION_CLIENTID", "{client_id}"),
            )
        },
        AUTH_SP: {
            None: items(
                ("AZURE_APPCONFIGURATION_ENDPOINT", "{endpoint}"),
                ("AZURE_APPCONFIGURATION_CLIENTID", "{client_id}"),
                ("AZURE_APPCONFIGURATION_CLIENTSECRET", "{client_secret}"),
                ("AZURE_APPCONFIGURATION_TENANTID", "{tenant_id}"),
            )
        },
    },
    client_types=frozenset(
        {ClientType.DOTNET, ClientType.JAVA, ClientType.NODEJS, ClientType.PYTHON, ClientType.NONE}
    ),
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-cosmos-sql
# (azure-docs how-to-integrate-cosmos-sql.md, 10/24/2023). The target is a SQL database inside the account.
# Database Accounts - List Keys (Microsoft.DocumentDB 2023-04-15): {"primaryMasterKey", ...}.
_COSMOS_LIST_URL = "https://management.azure.com{resource_id}/listConnectionStrings?api-version=2021-04-15"
COSMOS_SQL = TargetSpec(
    kind="cosmos-sql",
    display_name="Azure Cosmos DB for NoSQL",
    auth_types=ALL_AUTH,
    supports_csi=False,
    secret_source=SecretSource("listKeys", "primaryMasterKey", api_version="2023-04-15"),
    roles=(RoleSpec("DocumentDB Account Contributor", "5bd9cd88-fe45-4216-938b-f97437e15450"),),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-cosmos-sql",
    id_pattern=IdPattern(
        RG_PROVIDERS + "/Microsoft.DocumentDB/databaseAccounts/{name}/sqlDatabases/{database}",
        resource_depth=8,
    ),
    values={
        "endpoint": ValueRule("documentEndpoint", fallback="https://{name}.documents.azure.com:443/"),
        "list_url": ValueRule(None, fallback=_COSMOS_LIST_URL),
    },
    keys={
        AUTH_SECRET: {
            None: items(("AZURE_COSMOS_CONNECTIONSTRING", "AccountEndpoint={endpoint};AccountKey={secret}")),
            ClientType.SPRING_BOOT: items(
                ("azure.cosmos.key", "{secret}"),
                ("azure.cosmos.database", "{database}"),
                ("azure.cosmos.uri", "{endpoint}"),
                ("spring.cloud.azure.cosmos.key", "{secret}"),
                ("spring.cloud.azure.cosmos.database", "{database}"),
                ("spring.cloud.azure.cosmos.endpoint", "{endpoint}"),
            ),
        },
        AUTH_UAMI: {
            None: items(
                ("AZURE_COSMOS_LISTCONNECTIONSTRINGURL", "{list_url}"),
                ("AZURE_COSMOS_SCOPE", _ARM_SCOPE),
                ("AZURE_COSMOS_CLIENTID", "{client_id}"),
                ("AZURE_COSMOS_RESOURCEENDPOINT", "{endpoint}"),
            ),
            # The page's example value for `database` is a copy error (a scope URL); the database name is
            # meant.
            ClientType.SPRING_BOOT: items(
                ("spring.cloud.azure.cosmos.credential.managed-identity-enabled", "true"),
                ("spring.cloud.azure.cosmos.database", "{database}"),
                ("spring.cloud.azure.cosmos.endpoint", "{endpoint}"),
                ("spring.cloud.azure.cosmos.credential.client-id", "{client_id}"),
            ),
        },
        AUTH_SP: {
            None: items(
                ("AZURE_COSMOS_LISTCONNECTIONSTRINGURL", "{list_url}"),
                ("AZURE_COSMOS_SCOPE", _ARM_SCOPE),
                ("AZURE_COSMOS_CLIENTID", "{client_id}"),
                ("AZURE_COSMOS_CLIENTSECRET", "{client_secret}"),
                ("AZURE_COSMOS_TENANTID", "{tenant_id}"),
                ("AZURE_COSMOS_RESOURCEENDPOINT", "{endpoint}"),
            ),
            ClientType.SPRING_BOOT: items(
                ("spring.cloud.azure.cosmos.credential.client-id", "{client_id}"),
                ("spring.cloud.azure.cosmos.credential.client-secret", "{client_secret}"),
                ("spring.cloud.azure.cosmos.profile.tenant-id", "{tenant_id}"),
                ("spring.cloud.azure.cosmos.database", "{database}"),
                ("spring.cloud.azure.cosmos.endpoint", "{endpoint}"),
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
            ClientType.NONE,
        }
    ),
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-redis-cache
# (azure-docs how-to-integrate-redis-cache.md, 02/02/2024, listing AKS): secret keys per client type with the
# `Other` tab for `none`; identity keys AZURE_REDIS_HOST + CLIENTID (+ CLIENTSECRET, TENANTID for a service
# principal); Go and Spring Boot support the secret only.
# Service Connector assigns no built-in RBAC role for Redis (Entra access to Redis uses data access policies,
# which this product does not manage yet). Redis - List Keys (Microsoft.Cache 2024-03-01): {"primaryKey", …}.
_REDIS_URL = "rediss://:{secret}@{host}:{port}/0"
_REDIS_SP = items(
    ("AZURE_REDIS_HOST", "{host}"),
    ("AZURE_REDIS_CLIENTID", "{client_id}"),
    ("AZURE_REDIS_CLIENTSECRET", "{client_secret}"),
    ("AZURE_REDIS_TENANTID", "{tenant_id}"),
)
REDIS = TargetSpec(
    kind="redis",
    display_name="Azure Cache for Redis",
    auth_types=ALL_AUTH,
    supports_csi=False,
    secret_source=SecretSource("listKeys", "primaryKey", api_version="2024-03-01"),
    roles=(),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-redis-cache",
    id_pattern=IdPattern(RG_PROVIDERS + "/Microsoft.Cache/Redis/{name}", resource_depth=8),
    values={
        "host": ValueRule("hostName", fallback="{name}.redis.cache.windows.net"),
        "port": ValueRule("sslPort", fallback="6380"),
    },
    keys={
        AUTH_SECRET: {
            None: items(("AZURE_REDIS_CONNECTIONSTRING", _REDIS_URL)),
            ClientType.DOTNET: items(
                ("AZURE_REDIS_CONNECTIONSTRING", "{host}:{port},password={secret},ssl=True,defaultDatabase=0")
            ),
            ClientType.SPRING_BOOT: items(
                ("spring.redis.host", "{host}"),
                ("spring.redis.port", "{port}"),
                ("spring.redis.database", "0"),
                ("spring.redis.password", "{secret}"),
                ("spring.redis.ssl", "true"),
            ),
            ClientType.NONE: items(
                ("AZURE_REDIS_HOST", "{host}"),
                ("AZURE_REDIS_PORT", "{port}"),
                ("AZURE_REDIS_DATABASE", "0"),
                ("AZURE_REDIS_PASSWORD", "{secret}"),
                ("AZURE_REDIS_SSL", "true"),
            ),
        },
        AUTH_UAMI: {
            None: items(("AZURE_REDIS_HOST", "{host}"), ("AZURE_REDIS_CLIENTID", "{client_id}")),
            ClientType.GO: UNSUPPORTED,
            ClientType.SPRING_BOOT: UNSUPPORTED,
        },
        AUTH_SP: {None: _REDIS_SP, ClientType.GO: UNSUPPORTED, ClientType.SPRING_BOOT: UNSUPPORTED},
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

SERVICE_SPECS: tuple[TargetSpec, ...] = (KEYVAULT, APPCONFIG, COSMOS_SQL, REDIS)
