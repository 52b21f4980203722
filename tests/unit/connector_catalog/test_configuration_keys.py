"""Configuration keys for every target x auth mode x client type, against tables written from the sources.

The expected tables below are typed in from the Microsoft Learn "Integrate … with Service Connector" pages
(MicrosoftDocs/azure-docs, articles/service-connector/how-to-integrate-*.md) and the reference notes
(/work/shared/reference/service-connector.md §2); each block names its source. They are deliberately not
derived
from the catalog's data.
"""

from __future__ import annotations

import pytest

from connector import targets
from connector.targets import CSI, CatalogError, configuration_keys
from connector.vocabulary import AuthType, ClientType

S, U, P = "secret", "userAssignedIdentity", "servicePrincipalSecret"
DOTNET, JAVA, SPRING, NODE, PY, GO, NONE = "dotnet", "java", "springBoot", "nodejs", "python", "go", "none"
PHP, RUBY, DJANGO = "php", "ruby", "django"
KAFKA_SPRING = "kafka-springBoot"
ANY = "*"  # every client type of the target not listed explicitly


def sp(prefix: str, endpoint_key: str) -> tuple[str, ...]:
    return (endpoint_key, f"{prefix}_CLIENTID", f"{prefix}_CLIENTSECRET", f"{prefix}_TENANTID")


def wi(prefix: str, endpoint_key: str) -> tuple[str, ...]:
    return (endpoint_key, f"{prefix}_CLIENTID")


# kind -> (client types, {mode: {client or ANY: keys, or None when the combination is refused}}, source)
EXPECTED: dict[str, tuple[set[str], dict[str, dict[str, tuple[str, ...] | None]], str]] = {
    "storage-blob": (
        {DOTNET, JAVA, SPRING, NODE, PY, GO, NONE},
        {
            S: {
                ANY: ("AZURE_STORAGEBLOB_CONNECTIONSTRING",),
                SPRING: (
                    "azure.storage.account-name",
                    "azure.storage.account-key",
                    "azure.storage.blob-endpoint",
                    "spring.cloud.azure.storage.blob.account-name",
                    "spring.cloud.azure.storage.blob.account-key",
                    "spring.cloud.azure.storage.blob.endpoint",
                ),
            },
            U: {
                ANY: wi("AZURE_STORAGEBLOB", "AZURE_STORAGEBLOB_RESOURCEENDPOINT"),
                SPRING: (
                    "spring.cloud.azure.storage.blob.credential.managed-identity-enabled",
                    "spring.cloud.azure.storage.blob.account-name",
                    "spring.cloud.azure.storage.blob.endpoint",
                    "spring.cloud.azure.storage.blob.credential.client-id",
                ),
            },
            P: {
                ANY: sp("AZURE_STORAGEBLOB", "AZURE_STORAGEBLOB_RESOURCEENDPOINT"),
                SPRING: (
                    "spring.cloud.azure.storage.blob.account-name",
                    "spring.cloud.azure.storage.blob.endpoint",
                    "spring.cloud.azure.storage.blob.credential.client-id",
                    "spring.cloud.azure.storage.blob.credential.client-secret",
                ),
            },
        },
        "how-to-integrate-storage-blob (2026-02-03, lists AKS); WI set also in [REC-WI]",
    ),
    "storage-queue": (
        {DOTNET, GO, JAVA, SPRING, NODE, PY, NONE},
        {
            S: {
                ANY: ("AZURE_STORAGEQUEUE_CONNECTIONSTRING",),
                SPRING: (
                    "spring.cloud.azure.storage.account",
                    "spring.cloud.azure.storage.access-key",
                    "spring.cloud.azure.storage.queue.account-name",
                    "spring.cloud.azure.storage.queue.account-key",
                    "spring.cloud.azure.storage.queue.endpoint",
                ),
            },
            U: {
                ANY: wi("AZURE_STORAGEQUEUE", "AZURE_STORAGEQUEUE_RESOURCEENDPOINT"),
                SPRING: (
                    "spring.cloud.azure.storage.queue.credential.managed-identity-enabled",
                    "spring.cloud.azure.storage.queue.account-name",
                    "spring.cloud.azure.storage.queue.endpoint",
                    "spring.cloud.azure.storage.queue.credential.client-id",
                ),
            },
            P: {
                ANY: sp("AZURE_STORAGEQUEUE", "AZURE_STORAGEQUEUE_RESOURCEENDPOINT"),
                SPRING: (
                    "spring.cloud.azure.storage.queue.account-name",
                    "spring.cloud.azure.storage.queue.endpoint",
                    "spring.cloud.azure.storage.queue.credential.client-id",
                    "spring.cloud.azure.storage.queue.credential.client-secret",
                ),
            },
        },
        "how-to-integrate-storage-queue (2026-04-06, lists AKS; `none` from the 2023-10-25 version)",
    ),
    "storage-file": (
        {DOTNET, JAVA, SPRING, NODE, PY, PHP, RUBY, NONE},
        {
            S: {
                ANY: ("AZURE_STORAGEFILE_CONNECTIONSTRING",),
                SPRING: (
                    "azure.storage.account-name",
                    "azure.storage.account-key",
                    "azure.storage.file-endpoint",
                    "spring.cloud.azure.storage.fileshare.account-name",
                    "spring.cloud.azure.storage.fileshare.account-key",
                    "spring.cloud.azure.storage.fileshare.endpoint",
                ),
            },
        },
        "how-to-integrate-storage-file (2026-04-08, lists AKS); AKS: SecretAuto only [CLI-config]",
    ),
    "storage-table": (
        {DOTNET, JAVA, NODE, PY, NONE},
        {
            S: {ANY: ("AZURE_STORAGETABLE_CONNECTIONSTRING",)},
            U: {ANY: wi("AZURE_STORAGETABLE", "AZURE_STORAGETABLE_RESOURCEENDPOINT")},
            P: {ANY: sp("AZURE_STORAGETABLE", "AZURE_STORAGETABLE_RESOURCEENDPOINT")},
        },
        "how-to-integrate-storage-table (2023-10-24)",
    ),
    "keyvault": (
        {DOTNET, JAVA, SPRING, NODE, PY, NONE},
        {
            U: {
                ANY: ("AZURE_KEYVAULT_SCOPE", "AZURE_KEYVAULT_RESOURCEENDPOINT", "AZURE_KEYVAULT_CLIENTID"),
                SPRING: (
                    "azure.keyvault.uri",
                    "azure.keyvault.client-id",
                    "azure.keyvault.scope",
                    "spring.cloud.azure.keyvault.secret.credential.managed-identity-enabled",
                    "spring.cloud.azure.keyvault.secret.endpoint",
                    "spring.cloud.azure.keyvault.secret.credential.client-id",
                ),
            },
            P: {
                ANY: (
                    "AZURE_KEYVAULT_SCOPE",
                    "AZURE_KEYVAULT_RESOURCEENDPOINT",
                    "AZURE_KEYVAULT_CLIENTID",
                    "AZURE_KEYVAULT_CLIENTSECRET",
                    "AZURE_KEYVAULT_TENANTID",
                ),
                SPRING: (
                    "azure.keyvault.uri",
                    "azure.keyvault.client-id",
                    "azure.keyvault.client-key",
                    "azure.keyvault.tenant-id",
                    "azure.keyvault.scope",
                    "spring.cloud.azure.keyvault.secret.endpoint",
                    "spring.cloud.azure.keyvault.secret.credential.client-id",
                    "spring.cloud.azure.keyvault.secret.credential.client-secret",
                    "spring.cloud.azure.keyvault.secret.profile.tenant-id",
                ),
            },
            # [NOTES-KV]: `kubectl get secret` of a CSI connection.
            CSI: {ANY: ("AZURE_KEYVAULT_TENANTID", "AZURE_KEYVAULT_NAME", "AZURE_KEYVAULT_CLIENTID")},
        },
        "how-to-integrate-key-vault (2023-11-02); CSI keys from reference [NOTES-KV]",
    ),
    "appconfig": (
        {DOTNET, JAVA, NODE, PY, NONE},
        {
            S: {ANY: ("AZURE_APPCONFIGURATION_CONNECTIONSTRING",)},
            U: {ANY: wi("AZURE_APPCONFIGURATION", "AZURE_APPCONFIGURATION_ENDPOINT")},
            P: {ANY: sp("AZURE_APPCONFIGURATION", "AZURE_APPCONFIGURATION_ENDPOINT")},
        },
        "how-to-integrate-app-configuration (2023-10-26)",
    ),
    "cosmos-sql": (
        {DOTNET, JAVA, SPRING, NODE, PY, NONE},
        {
            S: {
                ANY: ("AZURE_COSMOS_CONNECTIONSTRING",),
                SPRING: (
                    "azure.cosmos.key",
                    "azure.cosmos.database",
                    "azure.cosmos.uri",
                    "spring.cloud.azure.cosmos.key",
                    "spring.cloud.azure.cosmos.database",
                    "spring.cloud.azure.cosmos.endpoint",
                ),
            },
            U: {
                ANY: (
                    "AZURE_COSMOS_LISTCONNECTIONSTRINGURL",
                    "AZURE_COSMOS_SCOPE",
                    "AZURE_COSMOS_CLIENTID",
                    "AZURE_COSMOS_RESOURCEENDPOINT",
                ),
                SPRING: (
                    "spring.cloud.azure.cosmos.credential.managed-identity-enabled",
                    "spring.cloud.azure.cosmos.database",
                    "spring.cloud.azure.cosmos.endpoint",
                    "spring.cloud.azure.cosmos.credential.client-id",
                ),
            },
            P: {
                ANY: (
                    "AZURE_COSMOS_LISTCONNECTIONSTRINGURL",
                    "AZURE_COSMOS_SCOPE",
                    "AZURE_COSMOS_CLIENTID",
                    "AZURE_COSMOS_CLIENTSECRET",
                    "AZURE_COSMOS_TENANTID",
                    "AZURE_COSMOS_RESOURCEENDPOINT",
                ),
                SPRING: (
                    "spring.cloud.azure.cosmos.credential.client-id",
                    "spring.cloud.azure.cosmos.credential.client-secret",
                    "spring.cloud.azure.cosmos.profile.tenant-id",
                    "spring.cloud.azure.cosmos.database",
                    "spring.cloud.azure.cosmos.endpoint",
                ),
            },
        },
        "how-to-integrate-cosmos-sql (2023-10-24)",
    ),
    "servicebus": (
        {DOTNET, GO, JAVA, SPRING, NODE, PY, NONE},
        {
            S: {
                ANY: ("AZURE_SERVICEBUS_CONNECTIONSTRING",),
                SPRING: ("spring.cloud.azure.servicebus.connection-string",),
            },
            U: {
                ANY: wi("AZURE_SERVICEBUS", "AZURE_SERVICEBUS_FULLYQUALIFIEDNAMESPACE"),
                SPRING: ("spring.cloud.azure.servicebus.namespace", "spring.cloud.azure.client-id"),
            },
            P: {
                ANY: sp("AZURE_SERVICEBUS", "AZURE_SERVICEBUS_FULLYQUALIFIEDNAMESPACE"),
                SPRING: (
                    "spring.cloud.azure.servicebus.namespace",
                    "spring.cloud.azure.client-id",
                    "spring.cloud.azure.tenant-id",
                    "spring.cloud.azure.client-secret",
                ),
            },
        },
        "how-to-integrate-service-bus (2023-10-25)",
    ),
    "eventhub": (
        {DOTNET, GO, JAVA, SPRING, KAFKA_SPRING, NODE, PY, NONE},
        {
            S: {
                ANY: ("AZURE_EVENTHUB_CONNECTIONSTRING",),
                SPRING: (
                    "spring.cloud.azure.storage.connection-string",
                    "spring.cloud.azure.eventhubs.connection-string",
                ),
                KAFKA_SPRING: ("spring.cloud.azure.eventhubs.connection-string",),
            },
            U: {
                ANY: wi("AZURE_EVENTHUB", "AZURE_EVENTHUB_FULLYQUALIFIEDNAMESPACE"),
                SPRING: (
                    "spring.cloud.azure.eventhub.namespace",
                    "spring.cloud.azure.client-id",
                    "spring.cloud.azure.eventhubs.namespace",
                    "spring.cloud.azure.eventhubs.credential.client-id",
                    "spring.cloud.azure.eventhubs.credential.managed-identity-enabled",
                ),
                KAFKA_SPRING: (
                    "spring.kafka.bootstrap-servers",
                    "spring.kafka.properties.azure.credential.managed-identity-enabled",
                    "spring.kafka.properties.azure.credential.client-id",
                ),
            },
            P: {
                ANY: sp("AZURE_EVENTHUB", "AZURE_EVENTHUB_FULLYQUALIFIEDNAMESPACE"),
                SPRING: (
                    "spring.cloud.azure.eventhub.namespace",
                    "spring.cloud.azure.client-id",
                    "spring.cloud.azure.tenant-id",
                    "spring.cloud.azure.client-secret",
                    "spring.cloud.azure.eventhubs.namespace",
                    "spring.cloud.azure.eventhubs.credential.client-id",
                    "spring.cloud.azure.eventhubs.credential.client-secret",
                    "spring.cloud.azure.eventhubs.profile.tenant-id",
                ),
                KAFKA_SPRING: (
                    "spring.kafka.bootstrap-servers",
                    "spring.kafka.properties.azure.credential.client-id",
                    "spring.kafka.properties.azure.credential.client-secret",
                    "spring.kafka.properties.azure.profile.tenant-id",
                ),
            },
        },
        "how-to-integrate-event-hubs (2026-04-10, lists AKS); `none` from the 2022-08-11 version",
    ),
    "redis": (
        {DOTNET, GO, JAVA, SPRING, NODE, PY, NONE},
        {
            S: {
                ANY: ("AZURE_REDIS_CONNECTIONSTRING",),
                SPRING: (
                    "spring.redis.host",
                    "spring.redis.port",
                    "spring.redis.database",
                    "spring.redis.password",
                    "spring.redis.ssl",
                ),
                # reference §2: `none` uses discrete keys.
                NONE: (
                    "AZURE_REDIS_HOST",
                    "AZURE_REDIS_PORT",
                    "AZURE_REDIS_DATABASE",
                    "AZURE_REDIS_PASSWORD",
                    "AZURE_REDIS_SSL",
                ),
            },
            U: {ANY: ("AZURE_REDIS_HOST", "AZURE_REDIS_CLIENTID"), GO: None, SPRING: None},
            P: {ANY: sp("AZURE_REDIS", "AZURE_REDIS_HOST"), GO: None, SPRING: None},
        },
        "how-to-integrate-redis-cache (2024-02-02, lists AKS: `Other` tab for none; Go/Spring secret only)",
    ),
    "postgres-flexible": (
        {DOTNET, GO, JAVA, SPRING, NODE, PHP, PY, DJANGO, RUBY, NONE},
        {
            S: {
                PY: ("AZURE_POSTGRESQL_CONNECTIONSTRING",),
                DOTNET: ("AZURE_POSTGRESQL_CONNECTIONSTRING",),
                JAVA: ("AZURE_POSTGRESQL_CONNECTIONSTRING",),
                GO: ("AZURE_POSTGRESQL_CONNECTIONSTRING",),
                PHP: ("AZURE_POSTGRESQL_CONNECTIONSTRING",),
                RUBY: ("AZURE_POSTGRESQL_CONNECTIONSTRING",),
                DJANGO: (
                    "AZURE_POSTGRESQL_NAME",
                    "AZURE_POSTGRESQL_HOST",
                    "AZURE_POSTGRESQL_USER",
                    "AZURE_POSTGRESQL_PASSWORD",
                ),
                NODE: (
                    "AZURE_POSTGRESQL_HOST",
                    "AZURE_POSTGRESQL_USER",
                    "AZURE_POSTGRESQL_PASSWORD",
                    "AZURE_POSTGRESQL_DATABASE",
                    "AZURE_POSTGRESQL_PORT",
                    "AZURE_POSTGRESQL_SSL",
                ),
                SPRING: ("spring.datasource.url", "spring.datasource.username", "spring.datasource.password"),
                NONE: (
                    "AZURE_POSTGRESQL_HOST",
                    "AZURE_POSTGRESQL_USERNAME",
                    "AZURE_POSTGRESQL_DATABASE",
                    "AZURE_POSTGRESQL_PORT",
                    "AZURE_POSTGRESQL_SSL",
                    "AZURE_POSTGRESQL_PASSWORD",
                ),
            },
        },
        "how-to-integrate-postgres (2025-11-21, lists AKS; none is the page's Other tab)",
    ),
    "mysql-flexible": (
        {DOTNET, GO, JAVA, SPRING, NODE, PHP, PY, DJANGO, RUBY, NONE},
        {
            S: {
                PY: ("AZURE_MYSQL_NAME", "AZURE_MYSQL_HOST", "AZURE_MYSQL_USER", "AZURE_MYSQL_PASSWORD"),
                DJANGO: ("AZURE_MYSQL_NAME", "AZURE_MYSQL_HOST", "AZURE_MYSQL_USER", "AZURE_MYSQL_PASSWORD"),
                DOTNET: ("AZURE_MYSQL_CONNECTIONSTRING",),
                JAVA: ("AZURE_MYSQL_CONNECTIONSTRING",),
                GO: ("AZURE_MYSQL_CONNECTIONSTRING",),
                SPRING: ("spring.datasource.url", "spring.datasource.username", "spring.datasource.password"),
                NODE: (
                    "AZURE_MYSQL_HOST",
                    "AZURE_MYSQL_USER",
                    "AZURE_MYSQL_PASSWORD",
                    "AZURE_MYSQL_DATABASE",
                    "AZURE_MYSQL_PORT",
                    "AZURE_MYSQL_SSL",
                ),
                PHP: (
                    "AZURE_MYSQL_DBNAME",
                    "AZURE_MYSQL_HOST",
                    "AZURE_MYSQL_PORT",
                    "AZURE_MYSQL_FLAG",
                    "AZURE_MYSQL_USERNAME",
                    "AZURE_MYSQL_PASSWORD",
                ),
                RUBY: (
                    "AZURE_MYSQL_DATABASE",
                    "AZURE_MYSQL_HOST",
                    "AZURE_MYSQL_USERNAME",
                    "AZURE_MYSQL_PASSWORD",
                    "AZURE_MYSQL_SSLMODE",
                ),
                NONE: (
                    "AZURE_MYSQL_HOST",
                    "AZURE_MYSQL_USERNAME",
                    "AZURE_MYSQL_PASSWORD",
                    "AZURE_MYSQL_DATABASE",
                    "AZURE_MYSQL_PORT",
                    "AZURE_MYSQL_SSL",
                ),
            },
        },
        "how-to-integrate-mysql (2026-06-17, lists AKS; none is the page's Other tab)",
    ),
    "sql": (
        {DOTNET, GO, JAVA, SPRING, NODE, PHP, PY, DJANGO, RUBY, NONE},
        {
            S: {
                PY: (
                    "AZURE_SQL_SERVER",
                    "AZURE_SQL_PORT",
                    "AZURE_SQL_DATABASE",
                    "AZURE_SQL_USER",
                    "AZURE_SQL_PASSWORD",
                ),
                DJANGO: (
                    "AZURE_SQL_HOST",
                    "AZURE_SQL_PORT",
                    "AZURE_SQL_NAME",
                    "AZURE_SQL_USER",
                    "AZURE_SQL_PASSWORD",
                ),
                DOTNET: ("AZURE_SQL_CONNECTIONSTRING",),
                JAVA: ("AZURE_SQL_CONNECTIONSTRING",),
                GO: ("AZURE_SQL_CONNECTIONSTRING",),
                SPRING: ("spring.datasource.url", "spring.datasource.username", "spring.datasource.password"),
                NODE: (
                    "AZURE_SQL_SERVER",
                    "AZURE_SQL_PORT",
                    "AZURE_SQL_DATABASE",
                    "AZURE_SQL_USERNAME",
                    "AZURE_SQL_PASSWORD",
                ),
                PHP: ("AZURE_SQL_SERVERNAME", "AZURE_SQL_DATABASE", "AZURE_SQL_UID", "AZURE_SQL_PASSWORD"),
                RUBY: (
                    "AZURE_SQL_HOST",
                    "AZURE_SQL_PORT",
                    "AZURE_SQL_DATABASE",
                    "AZURE_SQL_USERNAME",
                    "AZURE_SQL_PASSWORD",
                ),
                NONE: (
                    "AZURE_SQL_HOST",
                    "AZURE_SQL_PORT",
                    "AZURE_SQL_DATABASE",
                    "AZURE_SQL_USERNAME",
                    "AZURE_SQL_PASSWORD",
                ),
            },
        },
        "how-to-integrate-sql-database (newest in the index, lists AKS; none is the page's Other tab)",
    ),
    "cognitiveservices": (
        {DOTNET, JAVA, NODE, PY, NONE},
        {
            S: {ANY: ("AZURE_COGNITIVESERVICES_ENDPOINT", "AZURE_COGNITIVESERVICES_KEY")},
            U: {ANY: wi("AZURE_COGNITIVESERVICES", "AZURE_COGNITIVESERVICES_ENDPOINT")},
            P: {ANY: sp("AZURE_COGNITIVESERVICES", "AZURE_COGNITIVESERVICES_ENDPOINT")},
        },
        "how-to-integrate-cognitive-services (2025-01-29)",
    ),
    "openai": (
        {DOTNET, JAVA, NODE, PY, NONE},
        {
            S: {ANY: ("AZURE_OPENAI_BASE", "AZURE_OPENAI_KEY")},
            U: {ANY: wi("AZURE_OPENAI", "AZURE_OPENAI_BASE")},
            P: {ANY: sp("AZURE_OPENAI", "AZURE_OPENAI_BASE")},
        },
        "how-to-integrate-openai (2025-01-29); AKS sample app uses AZURE_OPENAI_BASE/KEY",
    ),
    "confluent-bootstrap-server": (
        {DOTNET, JAVA, SPRING, NODE, PY, NONE},
        {
            S: {
                ANY: (
                    "AZURE_CONFLUENTCLOUDKAFKA_BOOTSTRAPSERVER",
                    "AZURE_CONFLUENTCLOUDKAFKA_KAFKASASLCONFIG",
                ),
                SPRING: (
                    "spring.kafka.properties.bootstrap.servers",
                    "spring.kafka.properties.sasl.jaas.config",
                ),
            },
        },
        "how-to-integrate-confluent-kafka (2026-04-01); `none` gets the non-Spring table (CATALOG.md)",
    ),
    "confluent-schema-registry": (
        {DOTNET, JAVA, SPRING, NODE, PY, NONE},
        {
            S: {
                ANY: (
                    "AZURE_CONFLUENTCLOUDSCHEMAREGISTRY_URL",
                    "AZURE_CONFLUENTCLOUDSCHEMAREGISTRY_USERINFO",
                ),
                SPRING: (
                    "spring.kafka.properties.schema.registry.url",
                    "spring.kafka.properties.schema.registry.basic.auth.user.info",
                ),
            },
        },
        "how-to-integrate-confluent-kafka (2026-04-01); `none` gets the non-Spring table (CATALOG.md)",
    ),
}

ALL_MODES = (S, U, P, CSI)


def _rows() -> list[tuple[str, str, str, tuple[str, ...] | None, str]]:
    rows = []
    for kind, (clients, modes, source) in EXPECTED.items():
        for mode, by_client in modes.items():
            for client in sorted(clients):
                rows.append((kind, mode, client, by_client.get(client, by_client.get(ANY)), source))
    return rows


@pytest.mark.parametrize(("kind", "mode", "client", "expected", "source"), _rows())
def test_configuration_keys_match_the_sources(
    kind: str, mode: str, client: str, expected: tuple[str, ...] | None, source: str
) -> None:
    if expected is None:
        with pytest.raises(CatalogError, match="not supported"):
            configuration_keys(kind, mode, client)
    else:
        assert configuration_keys(kind, mode, client) == expected, source


def test_the_catalog_holds_exactly_the_expected_kinds() -> None:
    assert {spec.kind for spec in targets.all_specs()} == set(EXPECTED)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_client_types_and_auth_types_match_the_sources(kind: str) -> None:
    clients, modes, _ = EXPECTED[kind]
    spec = targets.get_spec(kind)
    assert {c.value for c in spec.client_types} == clients
    assert {a.value for a in spec.auth_types} == set(modes) - {CSI}
    assert spec.supports_csi == (CSI in modes)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_modes_missing_from_the_sources_are_refused_with_a_clear_error(kind: str) -> None:
    clients, modes, _ = EXPECTED[kind]
    client = sorted(clients)[0]
    for mode in ALL_MODES:
        if mode not in modes:
            with pytest.raises(CatalogError, match=f"'{mode}' is not supported for target '{kind}'"):
                configuration_keys(kind, mode, client)


def test_identities_the_api_accepts_but_aks_does_not_are_refused() -> None:
    for auth in (
        AuthType.SYSTEM_ASSIGNED_IDENTITY,
        AuthType.SERVICE_PRINCIPAL_CERTIFICATE,
        AuthType.ACCESS_KEY,
    ):
        with pytest.raises(CatalogError, match="not supported"):
            configuration_keys("storage-blob", auth, ClientType.PYTHON)


def test_client_types_outside_a_target_are_refused_naming_the_supported_ones() -> None:
    with pytest.raises(
        CatalogError, match="Client type 'kafka-springBoot' is not supported for target 'storage-blob'"
    ):
        configuration_keys("storage-blob", AuthType.SECRET, ClientType.KAFKA_SPRING_BOOT)


def test_unknown_names_are_refused() -> None:
    with pytest.raises(CatalogError, match="Unknown target kind 'mongo'"):
        configuration_keys("mongo", AuthType.SECRET, ClientType.PYTHON)
    with pytest.raises(CatalogError, match="Unknown auth type 'password'"):
        configuration_keys("redis", "password", ClientType.PYTHON)
    with pytest.raises(CatalogError, match="Unknown client type 'cobol'"):
        configuration_keys("redis", AuthType.SECRET, "cobol")


def test_customized_keys_may_rename_the_keys_of_either_cognitive_services_kind() -> None:
    accepted = targets.accepted_keys("cognitiveservices", AuthType.SECRET, ClientType.PYTHON)
    assert {"AZURE_COGNITIVESERVICES_KEY", "AZURE_OPENAI_KEY", "AZURE_OPENAI_BASE"} <= accepted
    assert targets.accepted_keys("redis", AuthType.SECRET, ClientType.PYTHON) == {
        "AZURE_REDIS_CONNECTIONSTRING"
    }
