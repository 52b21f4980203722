"""Secret material and target properties, fetched inside the activity that writes the Secret.

Values resolved here never leave the activity: callers get names and content hashes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from activities.clients import Clients
from activities.jsonpath import value_at
from connector import targets
from connector.errors import Category, ConnectorFailure, make_error
from connector.model import (
    Connection,
    SecretAuth,
    SecretKind,
    ServicePrincipalAuth,
    WorkloadIdentityAuth,
)
from sealing import SealedSecretMismatch, SealingError, linker_context, unseal

# api-versions for reading target resources and invoking their list-keys actions (GA versions that return
# the properties the catalog reads; the ARM emulator records but does not require them).
_API_VERSIONS: dict[str, str] = {
    "microsoft.storage/storageaccounts": "2023-05-01",
    "microsoft.keyvault/vaults": "2023-07-01",
    "microsoft.documentdb/databaseaccounts": "2024-05-15",
    "microsoft.servicebus/namespaces": "2021-11-01",
    "microsoft.eventhub/namespaces": "2024-01-01",
    "microsoft.appconfiguration/configurationstores": "2023-03-01",
    "microsoft.cache/redis": "2024-03-01",
    "microsoft.cognitiveservices/accounts": "2023-05-01",
    "microsoft.dbforpostgresql/flexibleservers": "2022-12-01",
    "microsoft.dbformysql/flexibleservers": "2023-12-30",
    "microsoft.sql/servers": "2021-11-01",
    "microsoft.sql/servers/databases": "2021-11-01",
}
_FALLBACK_API_VERSION = "2023-01-01"


def api_version_for(resource_id: str) -> str:
    """The api-version used to read a target resource, from its provider and type."""
    seg = resource_id.strip("/").split("/")
    lowered = [s.lower() for s in seg]
    if "providers" not in lowered:
        return _FALLBACK_API_VERSION
    start = lowered.index("providers") + 1
    types = [lowered[start], *lowered[start + 1 :: 2]]
    key = types[0] + "/" + "/".join(types[1:])
    return _API_VERSIONS.get(key, _FALLBACK_API_VERSION)


@dataclass
class TargetCache:
    """Target reads shared by several connections within one activity run (observe renders many Secrets)."""

    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)


def _not_found(connection: Connection) -> ConnectorFailure:
    return ConnectorFailure(
        make_error(
            Category.INVALID,
            "UnsupportedTarget",
            f"The target id {connection.target_id} does not match any supported target.",
            resource=connection.target_id,
        )
    )


def _unseal(connection: Connection, token: str | None, clients: Clients) -> str:
    key = clients.settings.sealing_key
    if token is None or key is None:
        missing = (
            "SECRET_SEALING_KEY is not set" if key is None else "the connection carries no sealed secret"
        )
        raise ConnectorFailure(
            make_error(
                Category.INVALID,
                "SecretUnavailable",
                f"Cannot read the secret: {missing}.",
                resource=connection.linker_id,
            )
        )
    try:
        return unseal(token, key, context=linker_context(connection.linker_id))
    except SealedSecretMismatch:
        # Wrong linker or wrong key look alike by design (AES-GCM associated data): name both.
        raise ConnectorFailure(
            make_error(
                Category.INVALID,
                "SealedSecretMismatch",
                "The sealed secret was not sealed for this linker with the current SECRET_SEALING_KEY "
                "(copied from another linker, or the key changed); send the secret again.",
                resource=connection.linker_id,
            )
        ) from None
    except SealingError as exc:
        raise ConnectorFailure(
            make_error(
                Category.INVALID,
                "SecretUnavailable",
                f"The sealed secret cannot be opened ({exc}); send the secret again.",
                resource=connection.linker_id,
            )
        ) from None


def _listed_key(clients: Clients, resource_id: str, source: targets.SecretSource, cache: TargetCache) -> str:
    assert source.action is not None and source.value_path is not None
    cache_key = (resource_id.lower(), source.action)
    found = cache.keys.get(cache_key)
    if found is None:
        path = f"{resource_id.rstrip('/')}/{source.action.lstrip('/')}"
        body = clients.arm_request("POST", path, source.api_version or api_version_for(resource_id))
        value = value_at(body, source.value_path)
        if not isinstance(value, str) or not value:
            raise ConnectorFailure(
                make_error(
                    Category.TRANSIENT,
                    "TargetKeyUnavailable",
                    f"{source.action} on {resource_id} returned no value at '{source.value_path}'.",
                    resource=resource_id,
                )
            )
        found = cache.keys[cache_key] = value
    return found


def resolve(
    connection: Connection,
    clients: Clients,
    *,
    addon_client_id: str | None = None,
    cache: TargetCache | None = None,
) -> tuple[targets.ResolvedValues, str]:
    """The values a connection's Secret is rendered from, and the target kind as read (e.g. openai)."""
    cache = cache if cache is not None else TargetCache()
    try:
        parts = targets.target_parts(connection.target_kind, connection.target_id)
    except targets.CatalogError:
        parts = None
    if parts is None:
        raise _not_found(connection)
    # A target named by endpoint (Confluent Cloud) is no ARM resource: nothing to read, no keys to list.
    resource_id = parts.get("resource_id")
    body: dict[str, Any] = {}
    if resource_id is not None:
        cached = cache.bodies.get(resource_id.lower())
        if cached is None:
            cached = clients.arm_request("GET", resource_id, api_version_for(resource_id)) or {}
            cache.bodies[resource_id.lower()] = cached
        body = cached
    kind = targets.kind_for_resource(connection.target_kind, body.get("kind"))
    spec = targets.get_spec(kind)
    tenant_id = clients.settings.tenant_id or None
    auth = connection.auth
    secret: str | None = None
    user_name: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    if isinstance(auth, SecretAuth):
        user_name = auth.user_name
        if auth.kind is SecretKind.RAW_VALUE:
            secret = _unseal(connection, auth.sealed_secret, clients)
        elif auth.kind is SecretKind.KEY_VAULT_SECRET_REFERENCE:
            raise ConnectorFailure(
                make_error(
                    Category.INVALID,
                    "UnsupportedSecretType",
                    "keyVaultSecretReference secrets are not supported on AKS by this connector yet; send "
                    "the value as rawValue or use automatic keys.",
                    resource=connection.linker_id,
                )
            )
        elif spec.secret_source is not None and not spec.secret_source.from_request and resource_id:
            secret = _listed_key(clients, resource_id, spec.secret_source, cache)
    elif isinstance(auth, ServicePrincipalAuth):
        client_id = auth.client_id
        client_secret = _unseal(connection, auth.sealed_secret, clients)
    elif isinstance(auth, WorkloadIdentityAuth):
        client_id = addon_client_id if connection.key_vault_csi else auth.client_id
    values = targets.ResolvedValues(
        target_properties=body.get("properties") or {},
        target_name=parts.get("name", ""),
        parts=parts,
        secret=secret,
        user_name=user_name,
        client_id=client_id,
        client_secret=client_secret,
        tenant_id=tenant_id,
    )
    return values, kind
