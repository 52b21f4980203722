# mypy: disable-error-code="union-attr, index, operator, no-untyped-call"
# (SDK models type every field Optional and the kubernetes client is untyped; these tests assert on both.)
"""Target services through their own management SDKs: the properties the catalog reads and their keys.

Each response field checked here is defined by the REST spec cited next to its builder in
emulators/arm/targets.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from azure.mgmt.appconfiguration import AppConfigurationManagementClient
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cosmosdb import CosmosDBManagementClient
from azure.mgmt.eventhub import EventHubManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient
from azure.mgmt.redis import RedisManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.servicebus import ServiceBusManagementClient
from azure.mgmt.sql import SqlManagementClient
from azure.mgmt.storage import StorageManagementClient

from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness

RG = "rg-demo"


@pytest.fixture
def client(arm: ArmHarness) -> Any:
    arm.seed_demo()
    return arm.mgmt_client


def test_storage_account_endpoints_keys_and_regenerate(arm: ArmHarness, client: Any) -> None:
    storage = client(StorageManagementClient)
    account = storage.storage_accounts.get_properties(RG, "stdemo0001")
    assert account.primary_endpoints.blob == "https://stdemo0001.blob.core.windows.net/"
    assert account.primary_endpoints.queue == "https://stdemo0001.queue.core.windows.net/"
    assert account.primary_endpoints.table == "https://stdemo0001.table.core.windows.net/"
    assert account.primary_endpoints.file == "https://stdemo0001.file.core.windows.net/"
    keys = {k.key_name: k.value for k in storage.storage_accounts.list_keys(RG, "stdemo0001").keys_property}
    assert set(keys) == {"key1", "key2"} and len(keys["key1"]) == 88
    regenerated = storage.storage_accounts.regenerate_key(RG, "stdemo0001", {"keyName": "key1"})
    new = {k.key_name: k.value for k in regenerated.keys_property}
    assert new["key1"] != keys["key1"] and new["key2"] == keys["key2"]
    blob = storage.blob_services.get_service_properties(RG, "stdemo0001")
    assert blob.id.endswith("/storageAccounts/stdemo0001/blobServices/default")


def test_keys_are_random_per_seed_load(arm: ArmHarness, client: Any) -> None:
    storage = client(StorageManagementClient)
    first = storage.storage_accounts.list_keys(RG, "stdemo0001").keys_property[0].value
    arm.admin.reset()
    arm.seed_demo()
    assert storage.storage_accounts.list_keys(RG, "stdemo0001").keys_property[0].value != first


def test_storage_child_services_are_resources(client: Any) -> None:
    resources = client(ResourceManagementClient)
    base = (
        f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Storage/"
        "storageAccounts/stdemo0001"
    )
    for service in ("queueServices", "tableServices", "fileServices"):
        found = resources.resources.get_by_id(f"{base}/{service}/default", api_version="2023-05-01")
        assert found.type == f"Microsoft.Storage/storageAccounts/{service}"


def test_service_bus_namespace_and_rule_keys(client: Any) -> None:
    sb = client(ServiceBusManagementClient)
    assert (
        sb.namespaces.get(RG, "sb-demo-0001").service_bus_endpoint
        == "https://sb-demo-0001.servicebus.windows.net:443/"
    )
    keys = sb.namespaces.list_keys(RG, "sb-demo-0001", "RootManageSharedAccessKey")
    assert keys.primary_connection_string == (
        "Endpoint=sb://sb-demo-0001.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
        f"SharedAccessKey={keys.primary_key}"
    )
    rotated = sb.namespaces.regenerate_keys(
        RG, "sb-demo-0001", "RootManageSharedAccessKey", {"keyType": "PrimaryKey"}
    )
    assert rotated.primary_key != keys.primary_key and rotated.secondary_key == keys.secondary_key


def test_event_hubs_namespace_and_rule_keys(client: Any) -> None:
    eh = client(EventHubManagementClient)
    assert (
        eh.namespaces.get(RG, "evhns-demo-0001").service_bus_endpoint
        == "https://evhns-demo-0001.servicebus.windows.net:443/"
    )
    keys = eh.namespaces.list_keys(RG, "evhns-demo-0001", "RootManageSharedAccessKey")
    assert keys.primary_connection_string.startswith("Endpoint=sb://evhns-demo-0001.servicebus.windows.net/;")


def test_key_vault_uri_and_tenant(client: Any) -> None:
    vault = client(KeyVaultManagementClient).vaults.get(RG, "kv-demo-0001")
    # Each vault's data plane is its own listener on the emulator's host (emulators/arm/key_vault.py).
    assert vault.properties.vault_uri.startswith("https://127.0.0.1:")
    assert vault.properties.tenant_id == "7e57c0de-0000-4000-8000-000000000001"


def test_cosmos_endpoint_keys_and_connection_strings(client: Any) -> None:
    cosmos = client(CosmosDBManagementClient)
    account = cosmos.database_accounts.get(RG, "cosmos-demo-0001")
    assert account.document_endpoint == "https://cosmos-demo-0001.documents.azure.com:443/"
    keys = cosmos.database_accounts.list_keys(RG, "cosmos-demo-0001")
    strings = cosmos.database_accounts.list_connection_strings(RG, "cosmos-demo-0001").connection_strings
    assert strings[0].connection_string == (
        f"AccountEndpoint=https://cosmos-demo-0001.documents.azure.com:443/;AccountKey={keys.primary_master_key};"
    )


def test_app_configuration_endpoint_and_keys(client: Any) -> None:
    appconfig = client(AppConfigurationManagementClient)
    store = appconfig.configuration_stores.get(RG, "appcs-demo-0001")
    assert store.endpoint == "https://appcs-demo-0001.azconfig.io"
    keys = list(appconfig.configuration_stores.list_keys(RG, "appcs-demo-0001"))
    primary = next(k for k in keys if k.name == "Primary")
    assert primary.connection_string == f"Endpoint={store.endpoint};Id={primary.id};Secret={primary.value}"
    assert primary.read_only is False


def test_redis_host_ports_and_keys(client: Any) -> None:
    redis = client(RedisManagementClient)
    cache = redis.redis.get(RG, "redis-demo-0001")
    assert (cache.host_name, cache.ssl_port, cache.port) == (
        "redis-demo-0001.redis.cache.windows.net",
        6380,
        6379,
    )
    keys = redis.redis.list_keys(RG, "redis-demo-0001")
    rotated = redis.redis.regenerate_key(RG, "redis-demo-0001", {"keyType": "Primary"})
    assert rotated.primary_key != keys.primary_key


@pytest.mark.parametrize(
    ("name", "kind", "endpoint"),
    [
        ("oai-demo-0001", "OpenAI", "https://oai-demo-0001.openai.azure.com/"),
        ("cog-demo-0001", "CognitiveServices", "https://cog-demo-0001.cognitiveservices.azure.com/"),
    ],
)
def test_cognitive_services_kind_endpoint_and_keys(client: Any, name: str, kind: str, endpoint: str) -> None:
    cognitive = client(CognitiveServicesManagementClient)
    account = cognitive.accounts.get(RG, name)
    assert (account.kind, account.properties.endpoint) == (kind, endpoint)
    keys = cognitive.accounts.list_keys(RG, name)
    assert keys.key1 and keys.key2 and keys.key1 != keys.key2


def test_postgres_flexible_server_and_databases(client: Any) -> None:
    pg = client(PostgreSQLManagementClient)
    server = pg.servers.get(RG, "psql-demo-0001")
    assert server.fully_qualified_domain_name == "psql-demo-0001.postgres.database.azure.com"
    assert [d.name for d in pg.databases.list_by_server(RG, "psql-demo-0001")] == ["appdb"]
    assert pg.databases.get(RG, "psql-demo-0001", "appdb").charset == "UTF8"


def test_mysql_flexible_server_through_generic_resources(client: Any) -> None:
    resources = client(ResourceManagementClient)
    rid = (
        f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.DBforMySQL/"
        "flexibleServers/mysql-demo-0001"
    )
    server = resources.resources.get_by_id(rid, api_version="2023-12-30")
    assert server.properties["fullyQualifiedDomainName"] == "mysql-demo-0001.mysql.database.azure.com"
    assert resources.resources.get_by_id(f"{rid}/databases/appdb", api_version="2023-12-30").name == "appdb"


def test_sql_server_and_database(client: Any) -> None:
    sql = client(SqlManagementClient)
    assert (
        sql.servers.get(RG, "sql-demo-0001").fully_qualified_domain_name
        == "sql-demo-0001.database.windows.net"
    )
    assert sql.databases.get(RG, "sql-demo-0001", "appdb").status == "Online"
    assert [d.name for d in sql.databases.list_by_server(RG, "sql-demo-0001")] == ["appdb"]


def test_key_actions_never_leak_through_get(arm: ArmHarness, client: Any) -> None:
    storage = client(StorageManagementClient)
    key = storage.storage_accounts.list_keys(RG, "stdemo0001").keys_property[0].value
    assert key not in str(storage.storage_accounts.get_properties(RG, "stdemo0001").as_dict())
