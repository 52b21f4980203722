"""Catalog entries: Apache Kafka on Confluent Cloud (bootstrap server and schema registry).

Source: https://learn.microsoft.com/azure/service-connector/how-to-integrate-confluent-kafka
(MicrosoftDocs/azure-docs articles/service-connector/how-to-integrate-confluent-kafka.md, 04/01/2026): AKS is
a supported compute service; secret auth only; client types .NET, Java, Spring Boot, Node.js, Python; one key
table for "all clients except Spring Boot" and one for Spring Boot.

Wire shape (Azure/azure-rest-api-specs servicelinker.json, every version from 2022-05-01):
`targetService: {"type": "ConfluentBootstrapServer" | "ConfluentSchemaRegistry", "endpoint": "..."}`, no ARM
id.
`az aks connection create confluent-cloud` (azure-cli serviceconnector custom.py `connection_create_kafka`)
creates two linkers, `<name>` for the bootstrap server and `<name>_schema` for the schema registry, each with
`authInfo: {"authType": "secret", "name": <API key>, "secretInfo": {"secretType": "rawValue", "value": <API
secret>}}`. The API key and secret therefore come from the request (FROM_REQUEST) and are sealed like any
request secret.
"""

from __future__ import annotations

from connector._catalog_types import (
    AUTH_SECRET,
    FROM_REQUEST,
    TargetSpec,
    items,
)
from connector.vocabulary import AuthType, ClientType

_SOURCE = "https://learn.microsoft.com/azure/service-connector/how-to-integrate-confluent-kafka"
# Learn lists .NET, Java, Spring Boot, Node.js and Python. `none` is added (assumption, see CATALOG.md): the
# API's default client type, which the CLI sends when --client-type is left out, gets the table Learn gives
# for "all clients except Spring Boot".
_CLIENTS = frozenset(
    {
        ClientType.DOTNET,
        ClientType.JAVA,
        ClientType.SPRING_BOOT,
        ClientType.NODEJS,
        ClientType.PYTHON,
        ClientType.NONE,
    }
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})+"
_PORT = r"[0-9]{1,5}"
# Learn's examples: `pkc-<server-name>.eastus.azure.confluent.cloud:9092` and
# `https://psrc-<server-name>.westus2.azure.confluent.cloud`. The CLI also insists on azure.confluent.cloud;
# that is a client-side check and is not repeated here (the connector never connects to the endpoint).
_HOST_AND_PORT = rf"{_HOST}:{_PORT}"
_HTTPS_URL = rf"https://{_HOST}(?::{_PORT})?/?"
_SASL = (
    "org.apache.kafka.common.security.plain.PlainLoginModule required username='{user}' password='{secret}';"
)

CONFLUENT_BOOTSTRAP_SERVER = TargetSpec(
    kind="confluent-bootstrap-server",
    display_name="Apache Kafka on Confluent Cloud (bootstrap server)",
    auth_types=frozenset({AuthType.SECRET}),
    supports_csi=False,
    secret_source=FROM_REQUEST,
    roles=(),
    source_url=_SOURCE,
    id_pattern=None,
    values={},
    keys={
        AUTH_SECRET: {
            None: items(
                ("AZURE_CONFLUENTCLOUDKAFKA_BOOTSTRAPSERVER", "{endpoint}"),
                ("AZURE_CONFLUENTCLOUDKAFKA_KAFKASASLCONFIG", _SASL),
            ),
            ClientType.SPRING_BOOT: items(
                ("spring.kafka.properties.bootstrap.servers", "{endpoint}"),
                ("spring.kafka.properties.sasl.jaas.config", _SASL),
            ),
        }
    },
    client_types=_CLIENTS,
    service_type="ConfluentBootstrapServer",
    endpoint_pattern=_HOST_AND_PORT,
    endpoint_form="host:port, e.g. pkc-xxxxx.eastus.azure.confluent.cloud:9092",
)

CONFLUENT_SCHEMA_REGISTRY = TargetSpec(
    kind="confluent-schema-registry",
    display_name="Confluent Cloud Schema Registry",
    auth_types=frozenset({AuthType.SECRET}),
    supports_csi=False,
    secret_source=FROM_REQUEST,
    roles=(),
    source_url=_SOURCE,
    id_pattern=None,
    values={},
    keys={
        AUTH_SECRET: {
            None: items(
                ("AZURE_CONFLUENTCLOUDSCHEMAREGISTRY_URL", "{endpoint}"),
                ("AZURE_CONFLUENTCLOUDSCHEMAREGISTRY_USERINFO", "{user}:{secret}"),
            ),
            ClientType.SPRING_BOOT: items(
                ("spring.kafka.properties.schema.registry.url", "{endpoint}"),
                ("spring.kafka.properties.schema.registry.basic.auth.user.info", "{user}:{secret}"),
            ),
        }
    },
    client_types=_CLIENTS,
    service_type="ConfluentSchemaRegistry",
    endpoint_pattern=_HTTPS_URL,
    endpoint_form="https://host, e.g. https://psrc-xxxxx.westus2.azure.confluent.cloud",
)

CONFLUENT_SPECS: tuple[TargetSpec, ...] = (CONFLUENT_BOOTSTRAP_SERVER, CONFLUENT_SCHEMA_REGISTRY)
