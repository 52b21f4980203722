"""Rendering configuration values from realistic ARM properties (shapes from the ARM GET responses)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from connector.targets import (
    CSI,
    CatalogError,
    ResolvedValues,
    kind_for_resource,
    match_target_id,
    render_configuration,
    secret_keys,
)
from connector.vocabulary import AuthType, ClientType

SUB = "00000000-0000-0000-0000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/rg1/providers"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
KEY = "c2VjcmV0LWtleQ=="


def values(target_id: str, properties: Mapping[str, Any], **kw: str) -> ResolvedValues:
    match = match_target_id(target_id)
    assert match is not None
    return ResolvedValues(
        target_properties=properties,
        target_name=match.parts["name"],
        parts=match.parts,
        **kw,  # type: ignore[arg-type]
    )


STORAGE_ID = f"{RG}/Microsoft.Storage/storageAccounts/acct/blobServices/default"
STORAGE_PROPS = {
    "primaryEndpoints": {
        "blob": "https://acct.blob.core.windows.net/",
        "queue": "https://acct.queue.core.windows.net/",
        "table": "https://acct.table.core.windows.net/",
        "file": "https://acct.file.core.windows.net/",
    }
}


def test_storage_blob_secret_is_the_documented_connection_string() -> None:
    rendered = render_configuration(
        "storage-blob", AuthType.SECRET, ClientType.PYTHON, values(STORAGE_ID, STORAGE_PROPS, secret=KEY)
    )
    assert rendered == {
        "AZURE_STORAGEBLOB_CONNECTIONSTRING": (
            f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};"
            "EndpointSuffix=core.windows.net"
        )
    }


def test_storage_endpoint_suffix_follows_the_accounts_cloud() -> None:
    china = {"primaryEndpoints": {"queue": "https://acct.queue.core.chinacloudapi.cn/"}}
    queue_id = STORAGE_ID.replace("blobServices", "queueServices")
    rendered = render_configuration("storage-queue", "secret", "none", values(queue_id, china, secret=KEY))
    assert rendered["AZURE_STORAGEQUEUE_CONNECTIONSTRING"].endswith(";EndpointSuffix=core.chinacloudapi.cn")


def test_storage_blob_workload_identity_uses_the_blob_endpoint_and_client_id() -> None:
    rendered = render_configuration(
        "storage-blob",
        "userAssignedIdentity",
        "python",
        values(STORAGE_ID, STORAGE_PROPS, client_id=CLIENT_ID),
    )
    assert rendered == {
        "AZURE_STORAGEBLOB_RESOURCEENDPOINT": "https://acct.blob.core.windows.net/",
        "AZURE_STORAGEBLOB_CLIENTID": CLIENT_ID,
    }


def test_storage_spring_boot_secret_fills_every_property() -> None:
    rendered = render_configuration(
        "storage-blob", "secret", "springBoot", values(STORAGE_ID, STORAGE_PROPS, secret=KEY)
    )
    assert rendered["spring.cloud.azure.storage.blob.account-name"] == "acct"
    assert rendered["azure.storage.account-key"] == KEY
    assert rendered["spring.cloud.azure.storage.blob.endpoint"] == "https://acct.blob.core.windows.net/"


def test_a_missing_endpoint_property_falls_back_to_the_public_cloud_form() -> None:
    table_id = STORAGE_ID.replace("blobServices", "tableServices")
    rendered = render_configuration(
        "storage-table", "userAssignedIdentity", "python", values(table_id, {}, client_id="c")
    )
    assert rendered["AZURE_STORAGETABLE_RESOURCEENDPOINT"] == "https://acct.table.core.windows.net/"


def test_service_principal_carries_client_secret_and_tenant() -> None:
    rendered = render_configuration(
        "storage-blob",
        "servicePrincipalSecret",
        "python",
        values(STORAGE_ID, STORAGE_PROPS, client_id=CLIENT_ID, client_secret="sp-secret", tenant_id=TENANT),
    )
    assert rendered["AZURE_STORAGEBLOB_CLIENTSECRET"] == "sp-secret"
    assert rendered["AZURE_STORAGEBLOB_TENANTID"] == TENANT


VAULT_ID = f"{RG}/Microsoft.KeyVault/vaults/kv1"
VAULT_PROPS = {"vaultUri": "https://kv1.vault.azure.net/", "tenantId": TENANT}


def test_keyvault_workload_identity_keys() -> None:
    rendered = render_configuration(
        "keyvault", "userAssignedIdentity", "python", values(VAULT_ID, VAULT_PROPS, client_id=CLIENT_ID)
    )
    assert rendered == {
        "AZURE_KEYVAULT_SCOPE": "https://management.azure.com/.default",
        "AZURE_KEYVAULT_RESOURCEENDPOINT": "https://kv1.vault.azure.net/",
        "AZURE_KEYVAULT_CLIENTID": CLIENT_ID,
    }


def test_keyvault_csi_names_the_vault_its_tenant_and_the_addon_identity() -> None:
    addon_client_id = "99999999-0000-0000-0000-000000000000"
    rendered = render_configuration(
        "keyvault", CSI, ClientType.NONE, values(VAULT_ID, VAULT_PROPS, client_id=addon_client_id)
    )
    assert rendered == {
        "AZURE_KEYVAULT_TENANTID": TENANT,
        "AZURE_KEYVAULT_NAME": "kv1",
        "AZURE_KEYVAULT_CLIENTID": addon_client_id,
    }


COSMOS_ID = f"{RG}/Microsoft.DocumentDB/databaseAccounts/cos1/sqlDatabases/orders"
COSMOS_PROPS = {"documentEndpoint": "https://cos1.documents.azure.com:443/"}


def test_cosmos_secret_and_identity_values() -> None:
    secret = render_configuration(
        "cosmos-sql", "secret", "python", values(COSMOS_ID, COSMOS_PROPS, secret=KEY)
    )
    assert secret == {
        "AZURE_COSMOS_CONNECTIONSTRING": f"AccountEndpoint=https://cos1.documents.azure.com:443/;AccountKey={KEY}"
    }
    wi = render_configuration(
        "cosmos-sql", "userAssignedIdentity", "python", values(COSMOS_ID, COSMOS_PROPS, client_id="c")
    )
    assert wi["AZURE_COSMOS_LISTCONNECTIONSTRINGURL"] == (
        f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.DocumentDB"
        "/databaseAccounts/cos1/listConnectionStrings?api-version=2021-04-15"
    )
    spring = render_configuration(
        "cosmos-sql", "secret", "springBoot", values(COSMOS_ID, COSMOS_PROPS, secret=KEY)
    )
    assert spring["spring.cloud.azure.cosmos.database"] == "orders"


SB_ID = f"{RG}/Microsoft.ServiceBus/namespaces/sb1"
SB_PROPS = {"serviceBusEndpoint": "https://sb1.servicebus.windows.net:443/"}
SB_CONN = (
    "Endpoint=sb://sb1.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;Sh"
    "aredAccessKey=abc="
)


def test_servicebus_connection_string_is_the_rule_connection_string_as_is() -> None:
    rendered = render_configuration("servicebus", "secret", "python", values(SB_ID, SB_PROPS, secret=SB_CONN))
    assert rendered == {"AZURE_SERVICEBUS_CONNECTIONSTRING": SB_CONN}


def test_eventhub_identity_gets_the_fully_qualified_namespace() -> None:
    eh_id = f"{RG}/Microsoft.EventHub/namespaces/eh1"
    props = {"serviceBusEndpoint": "https://eh1.servicebus.windows.net:443/"}
    rendered = render_configuration(
        "eventhub", "userAssignedIdentity", "python", values(eh_id, props, client_id="c")
    )
    assert rendered["AZURE_EVENTHUB_FULLYQUALIFIEDNAMESPACE"] == "eh1.servicebus.windows.net"


def test_appconfig_endpoint_and_connection_string() -> None:
    cfg_id = f"{RG}/Microsoft.AppConfiguration/configurationStores/cfg1"
    props = {"endpoint": "https://cfg1.azconfig.io"}
    conn = "Endpoint=https://cfg1.azconfig.io;Id=abcd;Secret=xyz="
    assert render_configuration("appconfig", "secret", "python", values(cfg_id, props, secret=conn)) == {
        "AZURE_APPCONFIGURATION_CONNECTIONSTRING": conn
    }
    wi = render_configuration(
        "appconfig", "userAssignedIdentity", "dotnet", values(cfg_id, props, client_id="c")
    )
    assert wi["AZURE_APPCONFIGURATION_ENDPOINT"] == "https://cfg1.azconfig.io"


REDIS_ID = f"{RG}/Microsoft.Cache/Redis/cache1"
REDIS_PROPS = {"hostName": "cache1.redis.cache.windows.net", "sslPort": 6380, "port": 6379}


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("python", f"rediss://:{KEY}@cache1.redis.cache.windows.net:6380/0"),
        ("java", f"rediss://:{KEY}@cache1.redis.cache.windows.net:6380/0"),
        ("dotnet", f"cache1.redis.cache.windows.net:6380,password={KEY},ssl=True,defaultDatabase=0"),
    ],
)
def test_redis_connection_string_per_client(client: str, expected: str) -> None:
    rendered = render_configuration("redis", "secret", client, values(REDIS_ID, REDIS_PROPS, secret=KEY))
    assert rendered == {"AZURE_REDIS_CONNECTIONSTRING": expected}


def test_redis_none_client_gets_discrete_values() -> None:
    rendered = render_configuration("redis", "secret", "none", values(REDIS_ID, REDIS_PROPS, secret=KEY))
    assert rendered == {
        "AZURE_REDIS_HOST": "cache1.redis.cache.windows.net",
        "AZURE_REDIS_PORT": "6380",
        "AZURE_REDIS_DATABASE": "0",
        "AZURE_REDIS_PASSWORD": KEY,
        "AZURE_REDIS_SSL": "true",
    }


PG_ID = f"{RG}/Microsoft.DBforPostgreSQL/flexibleServers/pg1/databases/appdb"
PG_PROPS = {"fullyQualifiedDomainName": "pg1.postgres.database.azure.com"}


def test_postgres_python_uses_the_psycopg2_keyword_string() -> None:
    rendered = render_configuration(
        "postgres-flexible", "secret", "python", values(PG_ID, PG_PROPS, secret="p@ss", user_name="app")
    )
    assert rendered == {
        "AZURE_POSTGRESQL_CONNECTIONSTRING": (
            "dbname=appdb host=pg1.postgres.database.azure.com port=5432 sslmode=require user=app"
            " password=p@ss"
        )
    }


def test_postgres_jdbc_and_django() -> None:
    v = values(PG_ID, PG_PROPS, secret="pw", user_name="app")
    assert render_configuration("postgres-flexible", "secret", "java", v)[
        "AZURE_POSTGRESQL_CONNECTIONSTRING"
    ] == ("jdbc:postgresql://pg1.postgres.database.azure.com:5432/appdb?sslmode=require&user=app&password=pw")
    assert render_configuration("postgres-flexible", "secret", "django", v) == {
        "AZURE_POSTGRESQL_NAME": "appdb",
        "AZURE_POSTGRESQL_HOST": "pg1.postgres.database.azure.com",
        "AZURE_POSTGRESQL_USER": "app",
        "AZURE_POSTGRESQL_PASSWORD": "pw",
    }


def test_mysql_and_sql_python_values() -> None:
    my_id = f"{RG}/Microsoft.DBforMySQL/flexibleServers/my1/databases/shop"
    my = render_configuration(
        "mysql-flexible",
        "secret",
        "python",
        values(
            my_id, {"fullyQualifiedDomainName": "my1.mysql.database.azure.com"}, secret="pw", user_name="u"
        ),
    )
    assert my == {
        "AZURE_MYSQL_NAME": "shop",
        "AZURE_MYSQL_HOST": "my1.mysql.database.azure.com",
        "AZURE_MYSQL_USER": "u",
        "AZURE_MYSQL_PASSWORD": "pw",
    }
    sql_id = f"{RG}/Microsoft.Sql/servers/sql1/databases/crm"
    sql = render_configuration(
        "sql",
        "secret",
        "dotnet",
        values(sql_id, {"fullyQualifiedDomainName": "sql1.database.windows.net"}, secret="pw", user_name="u"),
    )
    assert sql == {
        "AZURE_SQL_CONNECTIONSTRING": (
            "Data Source=sql1.database.windows.net,1433;Initial Catalog=crm;User ID=u;Password=pw"
        )
    }


AI_ID = f"{RG}/Microsoft.CognitiveServices/accounts/ai1"


def test_openai_and_multi_service_accounts_render_their_own_keys() -> None:
    openai_kind = kind_for_resource("cognitiveservices", "OpenAI")
    props = {"endpoint": "https://ai1.openai.azure.com/"}
    assert render_configuration(openai_kind, "secret", "python", values(AI_ID, props, secret=KEY)) == {
        "AZURE_OPENAI_BASE": "https://ai1.openai.azure.com/",
        "AZURE_OPENAI_KEY": KEY,
    }
    multi = kind_for_resource("cognitiveservices", "CognitiveServices")
    props = {"endpoint": "https://ai1.cognitiveservices.azure.com/"}
    assert render_configuration(
        multi, "userAssignedIdentity", "python", values(AI_ID, props, client_id="c")
    ) == {
        "AZURE_COGNITIVESERVICES_ENDPOINT": "https://ai1.cognitiveservices.azure.com/",
        "AZURE_COGNITIVESERVICES_CLIENTID": "c",
    }


def test_a_missing_secret_is_a_clear_error_without_values() -> None:
    with pytest.raises(CatalogError, match="needs the value 'secret'") as info:
        render_configuration(
            "redis", "secret", "python", values(REDIS_ID, REDIS_PROPS, client_id="visible-id")
        )
    assert "visible-id" not in str(info.value)


def test_resolved_values_never_show_secrets_in_repr() -> None:
    v = values(REDIS_ID, REDIS_PROPS, secret=KEY, client_secret="sp-secret")
    assert KEY not in repr(v) and "sp-secret" not in repr(v)


@pytest.mark.parametrize(
    ("kind", "auth", "client", "hidden"),
    [
        ("storage-blob", "secret", "python", {"AZURE_STORAGEBLOB_CONNECTIONSTRING"}),
        ("storage-blob", "userAssignedIdentity", "python", set()),
        ("storage-blob", "servicePrincipalSecret", "python", {"AZURE_STORAGEBLOB_CLIENTSECRET"}),
        ("openai", "secret", "python", {"AZURE_OPENAI_KEY"}),
        ("redis", "secret", "springBoot", {"spring.redis.password"}),
        ("sql", "secret", "python", {"AZURE_SQL_PASSWORD"}),
        ("postgres-flexible", "secret", "python", {"AZURE_POSTGRESQL_CONNECTIONSTRING"}),
        ("keyvault", CSI, "none", set()),
    ],
)
def test_secret_keys_are_exactly_the_credential_carrying_ones(
    kind: str, auth: str, client: str, hidden: set[str]
) -> None:
    assert secret_keys(kind, auth, client) == hidden
