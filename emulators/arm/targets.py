"""Target services: the ARM properties the catalog reads, child resources, and their keys actions.

Each builder cites the REST spec whose response fields it fills. Keys are random per seed load and change on
regenerate; they live in `Resource.secrets` and only list-keys style actions return them.
"""

from __future__ import annotations

import base64
import copy
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulators.arm import errors
from emulators.arm.state import DEFAULT_LOCATION, ArmState, Resource, new_guid


def _b64(n: int) -> str:
    return base64.b64encode(secrets.token_bytes(n)).decode()


@dataclass(frozen=True)
class TargetType:
    """How to build one kind of target resource."""

    type: str
    properties: Callable[[str, str, ArmState], dict[str, Any]]
    secrets: Callable[[], dict[str, str]]
    kind: str | None = None
    sku: dict[str, Any] | None = None
    child_type: str | None = None  # the child collection a seed lists (databases, authorizationRules)


# specification/storage/resource-manager/Microsoft.Storage/stable/2025-01-01/storage.json
# (StorageAccountProperties.primaryEndpoints; StorageAccountListKeysResult.keys[].keyName/value/permissions)
def _storage(name: str, location: str, state: ArmState) -> dict[str, Any]:
    base = f"https://{name}"
    return {
        "provisioningState": "Succeeded",
        "primaryEndpoints": {
            "blob": f"{base}.blob.core.windows.net/",
            "queue": f"{base}.queue.core.windows.net/",
            "table": f"{base}.table.core.windows.net/",
            "file": f"{base}.file.core.windows.net/",
            "dfs": f"{base}.dfs.core.windows.net/",
            "web": f"{base}.z13.web.core.windows.net/",
        },
        "primaryLocation": location,
        "statusOfPrimary": "available",
        "creationTime": state.timestamp(),
        "supportsHttpsTrafficOnly": True,
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "allowSharedKeyAccess": True,
    }


# specification/servicebus/resource-manager/Microsoft.ServiceBus/stable/2021-11-01/namespace-preview.json
# (SBNamespaceProperties.serviceBusEndpoint);
# eventhub: .../Microsoft.EventHub/stable/2024-01-01/namespaces.json
def _bus(name: str, location: str, state: ArmState) -> dict[str, Any]:
    return {
        "provisioningState": "Succeeded",
        "status": "Active",
        "serviceBusEndpoint": f"https://{name}.servicebus.windows.net:443/",
        "metricId": f"{new_guid()}:{name}",
        "createdAt": state.timestamp(),
        "updatedAt": state.timestamp(),
        "disableLocalAuth": False,
    }


# specification/keyvault/resource-manager/Microsoft.KeyVault/stable/2023-07-01/keyvault.json
# (VaultProperties.tenantId, vaultUri, sku). vaultUri points at the emulator's own data plane once it listens.
def _vault(name: str, location: str, state: ArmState) -> dict[str, Any]:
    return {
        "tenantId": state.tenant_id,
        "vaultUri": state.vault_uri(name) if state.vault_uri else f"https://{name}.vault.azure.net/",
        "sku": {"family": "A", "name": "standard"},
        "accessPolicies": [],
        "enableRbacAuthorization": True,
        "provisioningState": "Succeeded",
    }


# specification/cosmos-db/resource-manager/Microsoft.DocumentDB/stable/2024-11-15/cosmos-db.json
# (DatabaseAccountGetProperties.documentEndpoint; DatabaseAccountListKeysResult;
# DatabaseAccountListConnectionStringsResult)
def _cosmos(name: str, location: str, state: ArmState) -> dict[str, Any]:
    return {
        "provisioningState": "Succeeded",
        "documentEndpoint": f"https://{name}.documents.azure.com:443/",
        "databaseAccountOfferType": "Standard",
        "consistencyPolicy": {"defaultConsistencyLevel": "Session"},
        "locations": [{"locationName": location, "failoverPriority": 0}],
        "disableLocalAuth": False,
    }


# specification/appconfiguration/resource-manager/Microsoft.AppConfiguration/stable/2024-05-01/
# appconfiguration.json (ConfigurationStoreProperties.endpoint; ApiKey id/name/value/connectionString)
def _appconfig(name: str, location: str, state: ArmState) -> dict[str, Any]:
    return {
        "provisioningState": "Succeeded",
        "endpoint": f"https://{name}.azconfig.io",
        "creationDate": state.timestamp(),
        "disableLocalAuth": False,
    }


# specification/redis/resource-manager/Microsoft.Cache/stable/2024-11-01/redis.json
# (RedisProperties.hostName, port, sslPort; RedisAccessKeys primaryKey/secondaryKey)
def _redis(name: str, location: str, state: ArmState) -> dict[str, Any]:
    return {
        "provisioningState": "Succeeded",
        "hostName": f"{name}.redis.cache.windows.net",
        "port": 6379,
        "sslPort": 6380,
        "enableNonSslPort": False,
        "redisVersion": "6.0",
        "sku": {"name": "Standard", "family": "C", "capacity": 1},
    }


# specification/cognitiveservices/resource-manager/Microsoft.CognitiveServices/stable/2024-10-01/
# cognitiveservices.json (Account.kind, AccountProperties.endpoint; ApiKeys key1/key2)
def _cognitive(name: str, location: str, state: ArmState) -> dict[str, Any]:
    return {
        "provisioningState": "Succeeded",
        "customSubDomainName": name,
        "endpoint": f"https://{name}.cognitiveservices.azure.com/",
    }


def _openai(name: str, location: str, state: ArmState) -> dict[str, Any]:
    return {
        "provisioningState": "Succeeded",
        "customSubDomainName": name,
        "endpoint": f"https://{name}.openai.azure.com/",
    }


# specification/postgresql/resource-manager/Microsoft.DBforPostgreSQL/stable/2024-08-01/FlexibleServers.json,
# specification/mysql/resource-manager/Microsoft.DBforMySQL/FlexibleServers/stable/2023-12-30/
# FlexibleServers.json,
# specification/sql/resource-manager/Microsoft.Sql/stable/2021-11-01/Servers.json
# (ServerProperties.fullyQualifiedDomainName in all three)
def _server(domain: str, version: str, admin: str) -> Callable[[str, str, ArmState], dict[str, Any]]:
    def build(name: str, location: str, state: ArmState) -> dict[str, Any]:
        return {
            "fullyQualifiedDomainName": f"{name}.{domain}",
            "version": version,
            "state": "Ready",
            "administratorLogin": admin,
        }

    return build


TYPES: dict[str, TargetType] = {
    t.type.lower(): t
    for t in (
        TargetType(
            "Microsoft.Storage/storageAccounts",
            _storage,
            lambda: {"key1": _b64(64), "key2": _b64(64)},
            kind="StorageV2",
            sku={"name": "Standard_LRS", "tier": "Standard"},
        ),
        TargetType(
            "Microsoft.ServiceBus/namespaces",
            _bus,
            dict,
            sku={"name": "Standard", "tier": "Standard"},
            child_type="authorizationRules",
        ),
        TargetType(
            "Microsoft.EventHub/namespaces",
            _bus,
            dict,
            sku={"name": "Standard", "tier": "Standard", "capacity": 1},
            child_type="authorizationRules",
        ),
        TargetType("Microsoft.KeyVault/vaults", _vault, dict),
        TargetType(
            "Microsoft.DocumentDB/databaseAccounts",
            _cosmos,
            lambda: {
                "primaryMasterKey": _b64(64),
                "secondaryMasterKey": _b64(64),
                "primaryReadonlyMasterKey": _b64(64),
                "secondaryReadonlyMasterKey": _b64(64),
            },
            kind="GlobalDocumentDB",
        ),
        TargetType(
            "Microsoft.AppConfiguration/configurationStores",
            _appconfig,
            lambda: {
                "Primary": _b64(32),
                "Secondary": _b64(32),
                "Primary Read Only": _b64(32),
                "Secondary Read Only": _b64(32),
            },
            sku={"name": "standard"},
        ),
        TargetType(
            "Microsoft.Cache/redis", _redis, lambda: {"primaryKey": _b64(32), "secondaryKey": _b64(32)}
        ),
        TargetType(
            "Microsoft.CognitiveServices/accounts",
            _cognitive,
            lambda: {"key1": secrets.token_hex(16), "key2": secrets.token_hex(16)},
            kind="CognitiveServices",
            sku={"name": "S0"},
        ),
        TargetType(
            "Microsoft.DBforPostgreSQL/flexibleServers",
            _server("postgres.database.azure.com", "16", "pgadmin"),
            dict,
            sku={"name": "Standard_B1ms", "tier": "Burstable"},
            child_type="databases",
        ),
        TargetType(
            "Microsoft.DBforMySQL/flexibleServers",
            _server("mysql.database.azure.com", "8.0.21", "myadmin"),
            dict,
            sku={"name": "Standard_B1ms", "tier": "Burstable"},
            child_type="databases",
        ),
        TargetType(
            "Microsoft.Sql/servers",
            _server("database.windows.net", "12.0", "sqladmin"),
            dict,
            kind="v12.0",
            child_type="databases",
        ),
    )
}

_STORAGE_SERVICES = ("blobServices", "queueServices", "tableServices", "fileServices")
_DATABASE_PROPS = {
    "microsoft.dbforpostgresql/flexibleservers": {"charset": "UTF8", "collation": "en_US.utf8"},
    "microsoft.dbformysql/flexibleservers": {"charset": "utf8mb4", "collation": "utf8mb4_0900_ai_ci"},
    "microsoft.sql/servers": {"status": "Online", "collation": "SQL_Latin1_General_CP1_CI_AS"},
}


def build_target(state: ArmState, sub: str, rg: str, spec: dict[str, Any]) -> list[Resource]:
    """Build a target and its child resources from a seed entry (`type`, `name`, optional `kind`, ...)."""
    ttype = TYPES.get(str(spec.get("type", "")).lower())
    if ttype is None:
        raise ValueError(
            f"unknown target type {spec.get('type')!r}; known: {sorted(t.type for t in TYPES.values())}"
        )
    name = str(spec["name"])
    location = str(spec.get("location") or DEFAULT_LOCATION)
    kind = spec.get("kind") or ttype.kind
    rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ttype.type}/{name}"
    builder = (
        _openai
        if ttype.type == "Microsoft.CognitiveServices/accounts" and kind == "OpenAI"
        else ttype.properties
    )
    props = builder(name, location, state)
    _deep_merge(props, spec.get("properties") or {})
    body: dict[str, Any] = {
        "id": rid,
        "name": name,
        "type": ttype.type,
        "location": location,
        "tags": dict(spec.get("tags") or {}),
        "properties": props,
    }
    if kind:
        body["kind"] = kind
    if ttype.sku:
        body["sku"] = copy.deepcopy(ttype.sku)
    if ttype.type == "Microsoft.Sql/servers":
        body["properties"]["administratorLogin"] = spec.get("administratorLogin", props["administratorLogin"])
    target = Resource(rid, ttype.type, body, secrets=ttype.secrets())
    out = [target]
    if ttype.type == "Microsoft.Storage/storageAccounts":
        out += [_child(target, service, "default", {}) for service in _STORAGE_SERVICES]
    if ttype.child_type == "authorizationRules":
        for rule in spec.get("authorizationRules") or ["RootManageSharedAccessKey"]:
            child = _child(target, "authorizationRules", rule, {"rights": ["Listen", "Manage", "Send"]})
            child.secrets = {"primaryKey": _b64(32), "secondaryKey": _b64(32)}
            out.append(child)
    if ttype.child_type == "databases":
        for db in spec.get("databases") or []:
            child = _child(target, "databases", str(db), dict(_DATABASE_PROPS[ttype.type.lower()]))
            if ttype.type == "Microsoft.Sql/servers":
                child.body["location"] = location
                child.body["sku"] = {
                    "name": "GP_S_Gen5",
                    "tier": "GeneralPurpose",
                    "family": "Gen5",
                    "capacity": 1,
                }
                child.body["kind"] = "v12.0,user,vcore,serverless"
            out.append(child)
    return out


def _child(parent: Resource, segment: str, name: str, props: dict[str, Any]) -> Resource:
    rid = f"{parent.id}/{segment}/{name}"
    ctype = f"{parent.type}/{segment}"
    return Resource(rid, ctype, {"id": rid, "name": name, "type": ctype, "properties": props})


def _deep_merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


# ------------------------------------------------------------------------------------------------ actions
Action = Callable[[ArmState, Resource, dict[str, Any]], dict[str, Any]]


def _storage_keys(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    created = r.extra.setdefault("key_created", {})
    return {
        "keys": [
            {
                "keyName": k,
                "value": v,
                "permissions": "FULL",
                "creationTime": created.get(k, r.properties.get("creationTime")),
            }
            for k, v in sorted(r.secrets.items())
        ]
    }


def _storage_regenerate(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    key = str(body.get("keyName") or "")
    if key not in r.secrets:
        raise errors.invalid_request(
            "InvalidValuesForRequestParameters",
            f"Values for request parameters are invalid: keyName '{key}'.",
        )
    r.secrets[key] = _b64(64)
    r.extra.setdefault("key_created", {})[key] = state.timestamp()
    return _storage_keys(state, r, body)


def _rule_keys(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    namespace = r.id.split("/")[-3]
    host = f"{namespace}.servicebus.windows.net"

    def conn(key: str) -> str:
        return f"Endpoint=sb://{host}/;SharedAccessKeyName={r.name};SharedAccessKey={key}"

    return {
        "primaryConnectionString": conn(r.secrets["primaryKey"]),
        "secondaryConnectionString": conn(r.secrets["secondaryKey"]),
        "primaryKey": r.secrets["primaryKey"],
        "secondaryKey": r.secrets["secondaryKey"],
        "keyName": r.name,
    }


def _rule_regenerate(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    which = {"primarykey": "primaryKey", "secondarykey": "secondaryKey"}.get(str(body.get("keyType")).lower())
    if which is None:
        raise errors.invalid_request("BadRequest", "keyType must be PrimaryKey or SecondaryKey.")
    r.secrets[which] = _b64(32)
    return _rule_keys(state, r, body)


def _cosmos_keys(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    return dict(r.secrets)


def _cosmos_connection_strings(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    endpoint = r.properties["documentEndpoint"]
    kinds = (
        ("primaryMasterKey", "Primary SQL Connection String", "Primary"),
        ("secondaryMasterKey", "Secondary SQL Connection String", "Secondary"),
        ("primaryReadonlyMasterKey", "Primary Read-Only SQL Connection String", "PrimaryReadonly"),
        ("secondaryReadonlyMasterKey", "Secondary Read-Only SQL Connection String", "SecondaryReadonly"),
    )
    return {
        "connectionStrings": [
            {
                "connectionString": f"AccountEndpoint={endpoint};AccountKey={r.secrets[key]};",
                "description": desc,
                "keyKind": kind,
                "type": "Sql",
            }
            for key, desc, kind in kinds
        ]
    }


def _appconfig_key_id(r: Resource, name: str) -> str:
    ids: dict[str, str] = r.extra.setdefault("key_ids", {})
    return ids.setdefault(name, f"{secrets.token_hex(4)}-l1-s0:{secrets.token_hex(6)}")


def _appconfig_keys(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    endpoint = r.properties["endpoint"]
    return {
        "value": [
            {
                "id": _appconfig_key_id(r, name),
                "name": name,
                "value": value,
                "connectionString": f"Endpoint={endpoint};Id={_appconfig_key_id(r, name)};Secret={value}",
                "lastModified": state.timestamp(),
                "readOnly": "Read Only" in name,
            }
            for name, value in r.secrets.items()
        ]
    }


def _redis_keys(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    return {"primaryKey": r.secrets["primaryKey"], "secondaryKey": r.secrets["secondaryKey"]}


def _redis_regenerate(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    which = {"primary": "primaryKey", "secondary": "secondaryKey"}.get(str(body.get("keyType")).lower())
    if which is None:
        raise errors.invalid_request("BadRequest", "keyType must be Primary or Secondary.")
    r.secrets[which] = _b64(32)
    return _redis_keys(state, r, body)


def _cognitive_keys(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    return {"key1": r.secrets["key1"], "key2": r.secrets["key2"]}


def _cognitive_regenerate(state: ArmState, r: Resource, body: dict[str, Any]) -> dict[str, Any]:
    which = str(body.get("keyName") or "").lower()
    if which not in ("key1", "key2"):
        raise errors.invalid_request("BadRequest", "keyName must be Key1 or Key2.")
    r.secrets[which] = secrets.token_hex(16)
    return _cognitive_keys(state, r, body)


ACTIONS: dict[tuple[str, str], Action] = {
    ("microsoft.storage/storageaccounts", "listkeys"): _storage_keys,
    ("microsoft.storage/storageaccounts", "regeneratekey"): _storage_regenerate,
    ("microsoft.servicebus/namespaces/authorizationrules", "listkeys"): _rule_keys,
    ("microsoft.servicebus/namespaces/authorizationrules", "regeneratekeys"): _rule_regenerate,
    ("microsoft.eventhub/namespaces/authorizationrules", "listkeys"): _rule_keys,
    ("microsoft.eventhub/namespaces/authorizationrules", "regeneratekeys"): _rule_regenerate,
    ("microsoft.documentdb/databaseaccounts", "listkeys"): _cosmos_keys,
    ("microsoft.documentdb/databaseaccounts", "listconnectionstrings"): _cosmos_connection_strings,
    ("microsoft.appconfiguration/configurationstores", "listkeys"): _appconfig_keys,
    ("microsoft.cache/redis", "listkeys"): _redis_keys,
    ("microsoft.cache/redis", "regeneratekey"): _redis_regenerate,
    ("microsoft.cognitiveservices/accounts", "listkeys"): _cognitive_keys,
    ("microsoft.cognitiveservices/accounts", "regeneratekey"): _cognitive_regenerate,
}
