"""Catalog entries: Azure Service Bus and Azure Event Hubs (namespace targets).

Key names come from MicrosoftDocs/azure-docs articles/service-connector/how-to-integrate-service-bus.md
(10/25/2023) and how-to-integrate-event-hubs.md (04/10/2026, listing AKS and the Kafka Spring Boot client);
roles from concept-microsoft-entra-roles.md (2025). The secret is the namespace's RootManageSharedAccessKey
connection string (`Endpoint=sb://<ns>.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…`),
used as is. Not covered: `jms-springBoot` (Service Bus), whose keys are not on that page.
"""

from __future__ import annotations

from connector._catalog_types import (
    ALL_AUTH,
    AUTH_SECRET,
    AUTH_SP,
    AUTH_UAMI,
    RG_PROVIDERS,
    ClientKeys,
    IdPattern,
    RoleSpec,
    SecretSource,
    TargetSpec,
    ValueRule,
    items,
)
from connector.vocabulary import ClientType

_ROOT_RULE = "authorizationRules/RootManageSharedAccessKey/listKeys"
_CLIENTS = frozenset(
    {
        ClientType.DOTNET,
        ClientType.GO,
        ClientType.JAVA,
        ClientType.SPRING_BOOT,
        ClientType.NODEJS,
        ClientType.PYTHON,
        ClientType.NONE,
    }
)
# Namespaces - Get: properties.serviceBusEndpoint = "https://<ns>.servicebus.windows.net:443/" (both
# services).
_NAMESPACE_VALUES = {
    "namespace": ValueRule(
        "serviceBusEndpoint", fallback="https://{name}.servicebus.windows.net:443/", transform="url_host"
    )
}


def _identity_keys(prefix: str, spring_namespace_key: str) -> dict[str, ClientKeys]:
    return {
        AUTH_UAMI: {
            None: items(
                (f"{prefix}_FULLYQUALIFIEDNAMESPACE", "{namespace}"), (f"{prefix}_CLIENTID", "{client_id}")
            ),
            ClientType.SPRING_BOOT: items(
                (spring_namespace_key, "{namespace}"), ("spring.cloud.azure.client-id", "{client_id}")
            ),
        },
        AUTH_SP: {
            None: items(
                (f"{prefix}_FULLYQUALIFIEDNAMESPACE", "{namespace}"),
                (f"{prefix}_CLIENTID", "{client_id}"),
                (f"{prefix}_CLIENTSECRET", "{client_secret}"),
                (f"{prefix}_TENANTID", "{tenant_id}"),
            ),
            # The pages swap the descriptions of tenant-id and client-secret; the names are unambiguous.
            ClientType.SPRING_BOOT: items(
                (spring_namespace_key, "{namespace}"),
                ("spring.cloud.azure.client-id", "{client_id}"),
                ("spring.cloud.azure.tenant-id", "{tenant_id}"),
                ("spring.cloud.azure.client-secret", "{client_secret}"),
            ),
        },
    }


# https://learn.microsoft.com/azure/service-connector/how-to-integrate-service-bus
# Namespaces - List Keys of an authorization rule (Microsoft.ServiceBus 2021-11-01):
# {"primaryConnectionString", ...}
SERVICEBUS = TargetSpec(
    kind="servicebus",
    display_name="Azure Service Bus",
    auth_types=ALL_AUTH,
    supports_csi=False,
    secret_source=SecretSource(_ROOT_RULE, "primaryConnectionString", api_version="2021-11-01"),
    roles=(
        RoleSpec("Azure Service Bus Data Receiver", "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"),
        RoleSpec("Azure Service Bus Data Sender", "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"),
    ),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-service-bus",
    id_pattern=IdPattern(RG_PROVIDERS + "/Microsoft.ServiceBus/namespaces/{name}", resource_depth=8),
    values=_NAMESPACE_VALUES,
    keys={
        AUTH_SECRET: {
            None: items(("AZURE_SERVICEBUS_CONNECTIONSTRING", "{secret}")),
            ClientType.SPRING_BOOT: items(("spring.cloud.azure.servicebus.connection-string", "{secret}")),
        },
        **_identity_keys("AZURE_SERVICEBUS", "spring.cloud.azure.servicebus.namespace"),
    },
    client_types=_CLIENTS,
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-event-hubs
# (azure-docs how-to-integrate-event-hubs.md, 04/10/2026). Spring Boot gets both property sets, Spring Cloud
# Azure below 4.0 (`spring.cloud.azure.eventhub.namespace`, and `spring.cloud.azure.storage.connection-string`
# as the page writes it) and above 4.0 (`spring.cloud.azure.eventhubs.*`). The Kafka Spring Boot bootstrap
# server is the namespace host as the page's example shows it (no port). The page no longer lists `none`;
# the 2022 version did, and it is kept (connector/CATALOG.md).
# Namespaces - List Keys of an authorization rule (Microsoft.EventHub 2024-01-01): {"primaryConnectionString",
# ...}
_EVENTHUB_SP = items(
    ("AZURE_EVENTHUB_FULLYQUALIFIEDNAMESPACE", "{namespace}"),
    ("AZURE_EVENTHUB_CLIENTID", "{client_id}"),
    ("AZURE_EVENTHUB_CLIENTSECRET", "{client_secret}"),
    ("AZURE_EVENTHUB_TENANTID", "{tenant_id}"),
)
EVENTHUB = TargetSpec(
    kind="eventhub",
    display_name="Azure Event Hubs",
    auth_types=ALL_AUTH,
    supports_csi=False,
    secret_source=SecretSource(_ROOT_RULE, "primaryConnectionString", api_version="2024-01-01"),
    roles=(
        RoleSpec("Azure Event Hubs Data Receiver", "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"),
        RoleSpec("Azure Event Hubs Data Sender", "2b629674-e913-4c01-ae53-ef4638d8f975"),
    ),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-event-hubs",
    id_pattern=IdPattern(RG_PROVIDERS + "/Microsoft.EventHub/namespaces/{name}", resource_depth=8),
    values=_NAMESPACE_VALUES,
    keys={
        AUTH_SECRET: {
            None: items(("AZURE_EVENTHUB_CONNECTIONSTRING", "{secret}")),
            ClientType.SPRING_BOOT: items(
                ("spring.cloud.azure.storage.connection-string", "{secret}"),
                ("spring.cloud.azure.eventhubs.connection-string", "{secret}"),
            ),
            ClientType.KAFKA_SPRING_BOOT: items(
                ("spring.cloud.azure.eventhubs.connection-string", "{secret}")
            ),
        },
        AUTH_UAMI: {
            None: items(
                ("AZURE_EVENTHUB_FULLYQUALIFIEDNAMESPACE", "{namespace}"),
                ("AZURE_EVENTHUB_CLIENTID", "{client_id}"),
            ),
            ClientType.SPRING_BOOT: items(
                ("spring.cloud.azure.eventhub.namespace", "{namespace}"),
                ("spring.cloud.azure.client-id", "{client_id}"),
                ("spring.cloud.azure.eventhubs.namespace", "{namespace}"),
                ("spring.cloud.azure.eventhubs.credential.client-id", "{client_id}"),
                ("spring.cloud.azure.eventhubs.credential.managed-identity-enabled", "true"),
            ),
            ClientType.KAFKA_SPRING_BOOT: items(
                ("spring.kafka.bootstrap-servers", "{namespace}"),
                ("spring.kafka.properties.azure.credential.managed-identity-enabled", "true"),
                ("spring.kafka.properties.azure.credential.client-id", "{client_id}"),
            ),
        },
        AUTH_SP: {
            None: _EVENTHUB_SP,
            ClientType.SPRING_BOOT: items(
                ("spring.cloud.azure.eventhub.namespace", "{namespace}"),
                ("spring.cloud.azure.client-id", "{client_id}"),
                ("spring.cloud.azure.tenant-id", "{tenant_id}"),
                ("spring.cloud.azure.client-secret", "{client_secret}"),
                ("spring.cloud.azure.eventhubs.namespace", "{namespace}"),
                ("spring.cloud.azure.eventhubs.credential.client-id", "{client_id}"),
                ("spring.cloud.azure.eventhubs.credential.client-secret", "{client_secret}"),
                ("spring.cloud.azure.eventhubs.profile.tenant-id", "{tenant_id}"),
            ),
            ClientType.KAFKA_SPRING_BOOT: items(
                ("spring.kafka.bootstrap-servers", "{namespace}"),
                ("spring.kafka.properties.azure.credential.client-id", "{client_id}"),
                ("spring.kafka.properties.azure.credential.client-secret", "{client_secret}"),
                ("spring.kafka.properties.azure.profile.tenant-id", "{tenant_id}"),
            ),
        },
    },
    client_types=_CLIENTS | {ClientType.KAFKA_SPRING_BOOT},
)

MESSAGING_SPECS: tuple[TargetSpec, ...] = (SERVICEBUS, EVENTHUB)
