"""Catalog entries: Azure OpenAI and Azure AI multi-service accounts (Microsoft.CognitiveServices/accounts).

Both kinds share one ARM id pattern and are told apart by the account's top-level ARM `kind`: "OpenAI" selects
`openai`; any other kind (e.g. "CognitiveServices") is `cognitiveservices`, the kind a bare id matches. Key
names: MicrosoftDocs/azure-docs articles/service-connector/how-to-integrate-openai.md and how-to-integrate-
cognitive-services.md (both 01/29/2025); roles from concept-microsoft-entra-roles.md (2025). Accounts - List
Keys (Microsoft.CognitiveServices 2023-05-01): {"key1", "key2"}.
"""

from __future__ import annotations

from connector._catalog_types import (
    ALL_AUTH,
    AUTH_SECRET,
    AUTH_SP,
    AUTH_UAMI,
    ClientKeys,
    IdPattern,
    RoleSpec,
    SecretSource,
    TargetSpec,
    ValueRule,
    items,
)
from connector.vocabulary import ClientType

_ACCOUNT = IdPattern(
    "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.CognitiveServices/accounts/{name}",
    resource_depth=8,
)
_KEYS = SecretSource("listKeys", "key1", api_version="2023-05-01")
_CLIENTS = frozenset(
    {ClientType.DOTNET, ClientType.JAVA, ClientType.NODEJS, ClientType.PYTHON, ClientType.NONE}
)


def _keys(prefix: str, endpoint_key: str) -> dict[str, ClientKeys]:
    return {
        AUTH_SECRET: {None: items((endpoint_key, "{endpoint}"), (f"{prefix}_KEY", "{secret}"))},
        AUTH_UAMI: {None: items((endpoint_key, "{endpoint}"), (f"{prefix}_CLIENTID", "{client_id}"))},
        AUTH_SP: {
            None: items(
                (endpoint_key, "{endpoint}"),
                (f"{prefix}_CLIENTID", "{client_id}"),
                (f"{prefix}_CLIENTSECRET", "{client_secret}"),
                (f"{prefix}_TENANTID", "{tenant_id}"),
            )
        },
    }


# https://learn.microsoft.com/azure/service-connector/how-to-integrate-cognitive-services
COGNITIVE_SERVICES = TargetSpec(
    kind="cognitiveservices",
    display_name="Azure AI multi-service account",
    auth_types=ALL_AUTH,
    supports_csi=False,
    secret_source=_KEYS,
    roles=(RoleSpec("Cognitive Services User", "a97b65f3-24c7-4388-baec-2e87135dc908"),),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-cognitive-services",
    id_pattern=_ACCOUNT,
    values={"endpoint": ValueRule("endpoint", fallback="https://{name}.cognitiveservices.azure.com/")},
    keys=_keys("AZURE_COGNITIVESERVICES", "AZURE_COGNITIVESERVICES_ENDPOINT"),
    client_types=_CLIENTS,
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-openai
OPENAI = TargetSpec(
    kind="openai",
    display_name="Azure OpenAI",
    auth_types=ALL_AUTH,
    supports_csi=False,
    secret_source=_KEYS,
    roles=(RoleSpec("Cognitive Services OpenAI Contributor", "a001fd3d-188f-4b5d-821b-7da978bf7442"),),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-openai",
    id_pattern=_ACCOUNT,
    values={"endpoint": ValueRule("endpoint", fallback="https://{name}.openai.azure.com/")},
    keys=_keys("AZURE_OPENAI", "AZURE_OPENAI_BASE"),
    client_types=_CLIENTS,
    resource_kind="OpenAI",
)

AI_SPECS: tuple[TargetSpec, ...] = (COGNITIVE_SERVICES, OPENAI)
