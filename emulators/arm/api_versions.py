"""Which api-versions each emulated provider accepts, and the 400s ARM answers for any other.

The table holds api-versions that `Azure/azure-rest-api-specs` lists for each provider (a version folder
`specification/<service>/resource-manager/<Namespace>/.../{stable,preview}/<version>/`); each entry names
where it was read. ASSUMPTION (written here once): the lists hold the versions we verified in the specs, not
every version Azure serves, so a real but unlisted version is refused (stricter than Azure). Add a version
only with its spec path. ARM's wording, from public error reports:

- missing `api-version`: 400 `MissingApiVersionParameter` "The api-version query parameter (?api-version=)
  is required for all requests." (MicrosoftDocs/feedback#2279, Azure/azure-sdk-for-go#22571);
- a provider's unknown version: 400 `NoRegisteredProviderFound` "No registered resource provider found for
  location '…' and API version '…' for type '…'. The supported api-versions are '…'. The supported
  locations are '…'." (Azure/azure-cli#23985 for managedClusters, Azure/azure-cli#28496);
- ARM's own types (subscriptions, resource groups, providers): 400 `InvalidApiVersionParameter` "The
  api-version '…' is invalid. The supported versions are '…'." (Azure/azure-cli#28038,
  Azure/azure-sdk-for-python#975).
"""

from __future__ import annotations

from dataclasses import dataclass

from emulators.arm.errors import ArmError

SPECS = "Azure/azure-rest-api-specs specification/"


@dataclass(frozen=True)
class ProviderVersions:
    """The api-versions one provider namespace accepts, and the spec folder they were read from."""

    namespace: str
    versions: tuple[str, ...]
    source: str


def _entry(namespace: str, versions: str, source: str) -> ProviderVersions:
    return ProviderVersions(namespace, tuple(versions.split()), SPECS + source)


TABLE: tuple[ProviderVersions, ...] = (
    # aks/readme.md (stored snapshot 01659c86) tags package-2020-04 … package-2024-01 (a GA version on the 1st
    # and a preview on the 2nd of most months); 2025-10-01 and 2026-08-01 checked as stable/<version>/.
    _entry(
        "Microsoft.ContainerService",
        "2020-04-01 2020-06-01 2020-07-01 2020-09-01 2020-11-01 2020-12-01 2021-02-01 2021-03-01 2021-05-01 "
        "2021-07-01 2021-08-01 2021-09-01 2021-10-01 2022-01-01 2022-02-01 2022-03-01 2022-04-01 2022-06-01 "
        "2022-07-01 2022-09-01 2022-11-01 2023-01-01 2023-02-01 2023-03-01 2023-04-01 2023-05-01 2023-06-01 "
        "2023-07-01 2023-08-01 2023-09-01 2023-10-01 2023-11-01 2024-01-01 2025-10-01 2026-08-01 "
        "2021-11-01-preview 2022-01-02-preview 2022-02-02-preview 2022-03-02-preview 2022-04-02-preview "
        "2022-05-02-preview 2022-06-02-preview 2022-07-02-preview 2022-08-02-preview 2022-08-03-preview "
        "2022-09-02-preview 2022-10-02-preview 2022-11-02-preview 2023-01-02-preview 2023-02-02-preview "
        "2023-03-02-preview 2023-04-02-preview 2023-05-02-preview 2023-06-02-preview 2023-07-02-preview "
        "2023-08-02-preview 2023-09-02-preview 2023-10-02-preview 2023-11-02-preview",
        "containerservice/resource-manager/Microsoft.ContainerService/aks/{stable,preview}/",
    ),
    _entry(
        "Microsoft.KubernetesConfiguration",
        "2024-11-01 2025-03-01",
        "kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/extensions/stable/",
    ),
    _entry(
        "Microsoft.ManagedIdentity",
        "2015-08-31-preview 2024-11-30",
        "msi/resource-manager/Microsoft.ManagedIdentity/{preview,stable}/ (ManagedIdentity.json)",
    ),
    _entry(
        "Microsoft.Authorization",
        "2022-04-01",
        "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/"
        "authorization-Role{Assignments,Definitions}Calls.json",
    ),
    # resources.json serves providers and resource groups; subscriptions.json has its own versions.
    _entry(
        "Microsoft.Resources",
        "2016-02-01 2025-04-01",
        "resources/resource-manager/Microsoft.Resources/stable/{version}/resources.json",
    ),
    _entry(
        "Microsoft.Resources/subscriptions",
        "2022-12-01",
        "resources/resource-manager/Microsoft.Resources/stable/2022-12-01/subscriptions.json",
    ),
    # Target services: GET and their list-keys actions.
    _entry(
        "Microsoft.Storage",
        "2023-01-01 2023-05-01 2025-08-01 2026-09-01",
        "storage/resource-manager/Microsoft.Storage/stable/",
    ),
    _entry(
        "Microsoft.DocumentDB",
        "2023-04-15 2024-05-15",
        "cosmos-db/resource-manager/Microsoft.DocumentDB/stable/ (cosmos-db.json)",
    ),
    _entry(
        "Microsoft.ServiceBus",
        "2021-11-01",
        "servicebus/resource-manager/Microsoft.ServiceBus/stable/2021-11-01/",
    ),
    _entry(
        "Microsoft.EventHub", "2024-01-01", "eventhub/resource-manager/Microsoft.EventHub/stable/2024-01-01/"
    ),
    _entry(
        "Microsoft.KeyVault", "2023-07-01", "keyvault/resource-manager/Microsoft.KeyVault/stable/2023-07-01/"
    ),
    _entry(
        "Microsoft.AppConfiguration",
        "2023-03-01",
        "appconfiguration/resource-manager/Microsoft.AppConfiguration/stable/2023-03-01/",
    ),
    _entry(
        "Microsoft.Cache", "2024-03-01", "redis/resource-manager/Microsoft.Cache/stable/2024-03-01/redis.json"
    ),
    _entry(
        "Microsoft.CognitiveServices",
        "2023-05-01",
        "cognitiveservices/resource-manager/Microsoft.CognitiveServices/stable/2023-05-01/",
    ),
    _entry(
        "Microsoft.DBforPostgreSQL",
        "2022-12-01",
        "postgresql/resource-manager/Microsoft.DBforPostgreSQL/stable/2022-12-01/FlexibleServers.json",
    ),
    _entry(
        "Microsoft.DBforMySQL",
        "2023-12-30",
        "mysql/resource-manager/Microsoft.DBforMySQL/FlexibleServers/stable/2023-12-30/",
    ),
    _entry("Microsoft.Sql", "2021-11-01", "sql/resource-manager/Microsoft.Sql/stable/2021-11-01/"),
    # The default versions of the pinned test clients (requirements-dev.txt) found in the specs.
    _entry(
        "Microsoft.AppConfiguration",
        "2024-06-01",
        "appconfiguration/resource-manager/Microsoft.AppConfiguration/stable/2024-06-01/",
    ),
    _entry(
        "Microsoft.Cache", "2024-11-01", "redis/resource-manager/Microsoft.Cache/stable/2024-11-01/redis.json"
    ),
    _entry(
        "Microsoft.CognitiveServices",
        "2025-09-01",
        "cognitiveservices/resource-manager/Microsoft.CognitiveServices/stable/2025-09-01/",
    ),
    _entry(
        "Microsoft.Sql", "2025-01-01", "sql/resource-manager/Microsoft.Sql/stable/2025-01-01/Servers.json"
    ),
)

# The default versions of pinned official clients (requirements-dev.txt) whose spec folder the stored
# snapshot of the specs does not hold yet (the clients are generated from those specs). Test tooling only:
# the product's own versions all come from TABLE (tests/emulators/arm/test_api_versions.py checks this).
CLIENT_DEFAULTS: tuple[ProviderVersions, ...] = (
    ProviderVersions("Microsoft.ServiceBus", ("2026-01-01",), "azure-mgmt-servicebus==10.0.0 default"),
    ProviderVersions("Microsoft.EventHub", ("2026-01-01",), "azure-mgmt-eventhub==12.0.0 default"),
    ProviderVersions("Microsoft.DocumentDB", ("2026-03-15",), "azure-mgmt-cosmosdb==10.0.0 default"),
    ProviderVersions("Microsoft.KeyVault", ("2026-05-15",), "azure-mgmt-keyvault==14.1.0 default"),
    ProviderVersions(
        "Microsoft.DBforPostgreSQL", ("2026-10-01",), "azure-mgmt-postgresqlflexibleservers==3.0.0 default"
    ),
)


def _merge(entries: tuple[ProviderVersions, ...]) -> dict[str, ProviderVersions]:
    merged: dict[str, ProviderVersions] = {}
    for entry in entries:
        key = entry.namespace.lower()
        known = merged.get(key)
        if known is None:
            merged[key] = entry
        else:
            versions = tuple(sorted({*known.versions, *entry.versions}))
            merged[key] = ProviderVersions(known.namespace, versions, f"{known.source}; {entry.source}")
    return merged


_BY_KEY = _merge(TABLE + CLIENT_DEFAULTS)
# ARM serves these types itself, and words an unknown version differently from a provider.
_ARM_NATIVE = "microsoft.resources"
_REGISTRATION_ACTIONS = {"register", "unregister"}


def entry_for(namespace: str, resource_type: str) -> ProviderVersions | None:
    """The table entry for a type (`Namespace/firstType` first, then the namespace), or None."""
    first = resource_type.split("/", 1)[0]
    return _BY_KEY.get(f"{namespace}/{first}".lower()) or _BY_KEY.get(namespace.lower())


def missing_api_version() -> ArmError:
    """400 for a request without `api-version`."""
    return ArmError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def unsupported_api_version(
    entry: ProviderVersions, resource_type: str, version: str, location: str
) -> ArmError:
    """400 for a version the provider's spec does not list, worded as ARM words it."""
    if entry.namespace.lower().startswith(_ARM_NATIVE):
        newest_first = ", ".join(sorted(entry.versions, reverse=True))
        return ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are '{newest_first}'.",
        )
    return ArmError(
        400,
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{location}' and API version '{version}' for "
        f"type '{resource_type}'. The supported api-versions are '{', '.join(sorted(entry.versions))}'. "
        f"The supported locations are '{location}'.",
    )


def resource_type_of(path: str) -> tuple[str, str]:
    """(namespace, type) a path addresses, e.g. ('Microsoft.KubernetesConfiguration', 'extensions')."""
    segments = [s for s in path.split("/") if s]
    lowered = [s.lower() for s in segments]
    marks = [i for i, s in enumerate(lowered) if s == "providers" and i + 1 < len(segments)]
    if not marks:
        if len(segments) <= 2:
            return "Microsoft.Resources", "subscriptions"
        if lowered[2] == "resourcegroups" and len(segments) <= 4:
            return "Microsoft.Resources", "resourceGroups"
        return "", ""  # no route ARM knows: the router answers InvalidResourceType
    start = marks[-1]
    rest = segments[start + 2 :]
    # /subscriptions/{s}/providers/{ns}[/register]: ARM's own provider registration API.
    if start == 2 and (not rest or (len(rest) == 1 and rest[0].lower() in _REGISTRATION_ACTIONS)):
        return "Microsoft.Resources", "providers"
    return segments[start + 1], "/".join(rest[0::2])


def check(path: str, version: str | None, location: str) -> None:
    """Raise ARM's 400 unless `version` is one the provider addressed by `path` lists."""
    if version is None or not version.strip():
        raise missing_api_version()
    namespace, resource_type = resource_type_of(path)
    entry = entry_for(namespace, resource_type)
    if entry is None or version in entry.versions:
        return
    raise unsupported_api_version(entry, resource_type, version, location)
