"""Catalog entries: Azure Database for PostgreSQL / MySQL flexible servers and Azure SQL Database.

On AKS the Azure CLI offers only secret auth (user name + password in the request) for these targets ([CLI-
config] SUPPORTED_AUTH_TYPE in the reference notes), so only the secret key sets are catalogued; the password
comes from the request (FROM_REQUEST) and no role is granted.

Key names and formats: MicrosoftDocs/azure-docs articles/service-connector/how-to-integrate-postgres.md
(11/21/2025), how-to-integrate-mysql.md (06/17/2026) and how-to-integrate-sql-database.md (newest in the
index); all three list AKS, and their "Other" tabs give the `none` key sets. Flexible servers take the plain
user name (no `@server` suffix, which single servers needed).
"""

from __future__ import annotations

from connector._catalog_types import (
    AUTH_SECRET,
    FROM_REQUEST,
    RG_PROVIDERS,
    IdPattern,
    TargetSpec,
    ValueRule,
    items,
)
from connector.vocabulary import AuthType, ClientType

_CLIENTS = frozenset(
    {
        ClientType.DOTNET,
        ClientType.GO,
        ClientType.JAVA,
        ClientType.SPRING_BOOT,
        ClientType.NODEJS,
        ClientType.PHP,
        ClientType.PYTHON,
        ClientType.DJANGO,
        ClientType.RUBY,
        ClientType.NONE,
    }
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-postgres
# (azure-docs how-to-integrate-postgres.md, 11/21/2025, listing AKS: every secret tab, Ruby and PHP with the
# libpq keyword form; the page's .NET example omits the password, which a secret connection string needs).
# Flexible Servers - Get: properties.fullyQualifiedDomainName.
_PG_KEYWORDS = "host={host} port=5432 dbname={database} sslmode=require user={user} password={secret}"
POSTGRES_FLEXIBLE = TargetSpec(
    kind="postgres-flexible",
    display_name="Azure Database for PostgreSQL flexible server",
    auth_types=frozenset({AuthType.SECRET}),
    supports_csi=False,
    secret_source=FROM_REQUEST,
    roles=(),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-postgres",
    id_pattern=IdPattern(
        RG_PROVIDERS + "/Microsoft.DBforPostgreSQL/flexibleServers/{name}/databases/{database}",
        resource_depth=8,
    ),
    values={"host": ValueRule("fullyQualifiedDomainName", fallback="{name}.postgres.database.azure.com")},
    keys={
        AUTH_SECRET: {
            ClientType.PYTHON: items(
                (
                    "AZURE_POSTGRESQL_CONNECTIONSTRING",
                    "dbname={database} host={host} port=5432 sslmode=require user={user} password={secret}",
                ),
            ),
            ClientType.DJANGO: items(
                ("AZURE_POSTGRESQL_NAME", "{database}"),
                ("AZURE_POSTGRESQL_HOST", "{host}"),
                ("AZURE_POSTGRESQL_USER", "{user}"),
                ("AZURE_POSTGRESQL_PASSWORD", "{secret}"),
            ),
            ClientType.DOTNET: items(
                (
                    "AZURE_POSTGRESQL_CONNECTIONSTRING",
                    "Server={host};Database={database};Port=5432;Ssl Mode=Require;"
                    "User Id={user};Password={secret};",
                ),
            ),
            ClientType.JAVA: items(
                (
                    "AZURE_POSTGRESQL_CONNECTIONSTRING",
                    "jdbc:postgresql://{host}:5432/{database}?sslmode=require&user={user}&password={secret}",
                ),
            ),
            ClientType.SPRING_BOOT: items(
                ("spring.datasource.url", "jdbc:postgresql://{host}:5432/{database}?sslmode=require"),
                ("spring.datasource.username", "{user}"),
                ("spring.datasource.password", "{secret}"),
            ),
            ClientType.GO: items(
                (
                    "AZURE_POSTGRESQL_CONNECTIONSTRING",
                    "host={host} dbname={database} sslmode=require user={user} password={secret}",
                ),
            ),
            ClientType.NODEJS: items(
                ("AZURE_POSTGRESQL_HOST", "{host}"),
                ("AZURE_POSTGRESQL_USER", "{user}"),
                ("AZURE_POSTGRESQL_PASSWORD", "{secret}"),
                ("AZURE_POSTGRESQL_DATABASE", "{database}"),
                ("AZURE_POSTGRESQL_PORT", "5432"),
                ("AZURE_POSTGRESQL_SSL", "true"),
            ),
            ClientType.PHP: items(("AZURE_POSTGRESQL_CONNECTIONSTRING", _PG_KEYWORDS)),
            ClientType.RUBY: items(("AZURE_POSTGRESQL_CONNECTIONSTRING", _PG_KEYWORDS)),
            # The page's "Other" tab (11/21/2025).
            ClientType.NONE: items(
                ("AZURE_POSTGRESQL_HOST", "{host}"),
                ("AZURE_POSTGRESQL_USERNAME", "{user}"),
                ("AZURE_POSTGRESQL_DATABASE", "{database}"),
                ("AZURE_POSTGRESQL_PORT", "5432"),
                ("AZURE_POSTGRESQL_SSL", "true"),
                ("AZURE_POSTGRESQL_PASSWORD", "{secret}"),
            ),
        },
    },
    client_types=_CLIENTS,
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-mysql
# (azure-docs how-to-integrate-mysql.md, 06/17/2026, listing AKS: every secret tab read; the page's JDBC
# example URI-escapes the password, which is written here as given).
MYSQL_FLEXIBLE = TargetSpec(
    kind="mysql-flexible",
    display_name="Azure Database for MySQL flexible server",
    auth_types=frozenset({AuthType.SECRET}),
    supports_csi=False,
    secret_source=FROM_REQUEST,
    roles=(),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-mysql",
    id_pattern=IdPattern(
        RG_PROVIDERS + "/Microsoft.DBforMySQL/flexibleServers/{name}/databases/{database}", resource_depth=8
    ),
    values={"host": ValueRule("fullyQualifiedDomainName", fallback="{name}.mysql.database.azure.com")},
    keys={
        AUTH_SECRET: {
            ClientType.PYTHON: items(
                ("AZURE_MYSQL_NAME", "{database}"),
                ("AZURE_MYSQL_HOST", "{host}"),
                ("AZURE_MYSQL_USER", "{user}"),
                ("AZURE_MYSQL_PASSWORD", "{secret}"),
            ),
            ClientType.DJANGO: items(
                ("AZURE_MYSQL_NAME", "{database}"),
                ("AZURE_MYSQL_HOST", "{host}"),
                ("AZURE_MYSQL_USER", "{user}"),
                ("AZURE_MYSQL_PASSWORD", "{secret}"),
            ),
            ClientType.DOTNET: items(
                (
                    "AZURE_MYSQL_CONNECTIONSTRING",
                    "Server={host};Database={database};Port=3306;"
                    "User Id={user};Password={secret};SSL Mode=Required;",
                ),
            ),
            ClientType.JAVA: items(
                (
                    "AZURE_MYSQL_CONNECTIONSTRING",
                    "jdbc:mysql://{host}:3306/{database}?sslmode=required&user={user}&password={secret}",
                ),
            ),
            ClientType.SPRING_BOOT: items(
                ("spring.datasource.url", "jdbc:mysql://{host}:3306/{database}?sslmode=required"),
                ("spring.datasource.username", "{user}"),
                ("spring.datasource.password", "{secret}"),
            ),
            ClientType.GO: items(
                ("AZURE_MYSQL_CONNECTIONSTRING", "{user}:{secret}@tcp({host}:3306)/{database}?tls=true")
            ),
            ClientType.NODEJS: items(
                ("AZURE_MYSQL_HOST", "{host}"),
                ("AZURE_MYSQL_USER", "{user}"),
                ("AZURE_MYSQL_PASSWORD", "{secret}"),
                ("AZURE_MYSQL_DATABASE", "{database}"),
                ("AZURE_MYSQL_PORT", "3306"),
                ("AZURE_MYSQL_SSL", "true"),
            ),
            ClientType.PHP: items(
                ("AZURE_MYSQL_DBNAME", "{database}"),
                ("AZURE_MYSQL_HOST", "{host}"),
                ("AZURE_MYSQL_PORT", "3306"),
                ("AZURE_MYSQL_FLAG", "MySQL_CLIENT_SSL"),
                ("AZURE_MYSQL_USERNAME", "{user}"),
                ("AZURE_MYSQL_PASSWORD", "{secret}"),
            ),
            ClientType.RUBY: items(
                ("AZURE_MYSQL_DATABASE", "{database}"),
                ("AZURE_MYSQL_HOST", "{host}"),
                ("AZURE_MYSQL_USERNAME", "{user}"),
                ("AZURE_MYSQL_PASSWORD", "{secret}"),
                ("AZURE_MYSQL_SSLMODE", "required"),
            ),
            # The page's "Other" tab (06/17/2026).
            ClientType.NONE: items(
                ("AZURE_MYSQL_HOST", "{host}"),
                ("AZURE_MYSQL_USERNAME", "{user}"),
                ("AZURE_MYSQL_PASSWORD", "{secret}"),
                ("AZURE_MYSQL_DATABASE", "{database}"),
                ("AZURE_MYSQL_PORT", "3306"),
                ("AZURE_MYSQL_SSL", "true"),
            ),
        },
    },
    client_types=_CLIENTS,
)

# https://learn.microsoft.com/azure/service-connector/how-to-integrate-sql-database
# (azure-docs how-to-integrate-sql-database.md, newest version in the index, with "Other" tabs: every secret
# tab matches). Servers - Get: properties.fullyQualifiedDomainName. The page's .NET example omits the user; it
# is included here.
SQL = TargetSpec(
    kind="sql",
    display_name="Azure SQL Database",
    auth_types=frozenset({AuthType.SECRET}),
    supports_csi=False,
    secret_source=FROM_REQUEST,
    roles=(),
    source_url="https://learn.microsoft.com/azure/service-connector/how-to-integrate-sql-database",
    id_pattern=IdPattern(
        RG_PROVIDERS + "/Microsoft.Sql/servers/{name}/databases/{database}", resource_depth=8
    ),
    values={"host": ValueRule("fullyQualifiedDomainName", fallback="{name}.database.windows.net")},
    keys={
        AUTH_SECRET: {
            ClientType.PYTHON: items(
                ("AZURE_SQL_SERVER", "{host}"),
                ("AZURE_SQL_PORT", "1433"),
                ("AZURE_SQL_DATABASE", "{database}"),
                ("AZURE_SQL_USER", "{user}"),
                ("AZURE_SQL_PASSWORD", "{secret}"),
            ),
            ClientType.DJANGO: items(
                ("AZURE_SQL_HOST", "{host}"),
                ("AZURE_SQL_PORT", "1433"),
                ("AZURE_SQL_NAME", "{database}"),
                ("AZURE_SQL_USER", "{user}"),
                ("AZURE_SQL_PASSWORD", "{secret}"),
            ),
            ClientType.DOTNET: items(
                (
                    "AZURE_SQL_CONNECTIONSTRING",
                    "Data Source={host},1433;Initial Catalog={database};User ID={user};Password={secret}",
                ),
            ),
            ClientType.JAVA: items(
                (
                    "AZURE_SQL_CONNECTIONSTRING",
                    "jdbc:sqlserver://{host}:1433;databaseName={database};user={user};password={secret};",
                ),
            ),
            ClientType.SPRING_BOOT: items(
                ("spring.datasource.url", "jdbc:sqlserver://{host}:1433;databaseName={database};"),
                ("spring.datasource.username", "{user}"),
                ("spring.datasource.password", "{secret}"),
            ),
            ClientType.GO: items(
                (
                    "AZURE_SQL_CONNECTIONSTRING",
                    "server={host};port=1433;database={database};user id={user};password={secret};",
                ),
            ),
            ClientType.NODEJS: items(
                ("AZURE_SQL_SERVER", "{host}"),
                ("AZURE_SQL_PORT", "1433"),
                ("AZURE_SQL_DATABASE", "{database}"),
                ("AZURE_SQL_USERNAME", "{user}"),
                ("AZURE_SQL_PASSWORD", "{secret}"),
            ),
            ClientType.PHP: items(
                ("AZURE_SQL_SERVERNAME", "{host},1433"),
                ("AZURE_SQL_DATABASE", "{database}"),
                ("AZURE_SQL_UID", "{user}"),
                ("AZURE_SQL_PASSWORD", "{secret}"),
            ),
            ClientType.RUBY: items(
                ("AZURE_SQL_HOST", "{host}"),
                ("AZURE_SQL_PORT", "1433"),
                ("AZURE_SQL_DATABASE", "{database}"),
                ("AZURE_SQL_USERNAME", "{user}"),
                ("AZURE_SQL_PASSWORD", "{secret}"),
            ),
            # The page's "Other" tab.
            ClientType.NONE: items(
                ("AZURE_SQL_HOST", "{host}"),
                ("AZURE_SQL_PORT", "1433"),
                ("AZURE_SQL_DATABASE", "{database}"),
                ("AZURE_SQL_USERNAME", "{user}"),
                ("AZURE_SQL_PASSWORD", "{secret}"),
            ),
        },
    },
    client_types=_CLIENTS,
)

DATABASE_SPECS: tuple[TargetSpec, ...] = (POSTGRES_FLEXIBLE, MYSQL_FLEXIBLE, SQL)
