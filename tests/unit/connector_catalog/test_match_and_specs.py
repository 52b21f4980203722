"""Matching ARM target ids to catalog kinds, and the catalog's own invariants (roles, sources, secrets)."""

from __future__ import annotations

import re

import pytest

from connector import targets
from connector.targets import get_spec, kind_for_resource, match_target_id
from connector.vocabulary import AuthType

SUB = "00000000-0000-0000-0000-000000000001"
P = f"/subscriptions/{SUB}/resourceGroups/rg-apps/providers"

VALID = [
    ("storage-blob", f"{P}/Microsoft.Storage/storageAccounts/acct1/blobServices/default", "acct1", None),
    ("storage-queue", f"{P}/Microsoft.Storage/storageAccounts/acct1/queueServices/default", "acct1", None),
    ("storage-file", f"{P}/Microsoft.Storage/storageAccounts/acct1/fileServices/default", "acct1", None),
    ("storage-table", f"{P}/Microsoft.Storage/storageAccounts/acct1/tableServices/default", "acct1", None),
    ("keyvault", f"{P}/Microsoft.KeyVault/vaults/kv-1", "kv-1", None),
    ("cosmos-sql", f"{P}/Microsoft.DocumentDB/databaseAccounts/cos1/sqlDatabases/orders", "cos1", "orders"),
    ("servicebus", f"{P}/Microsoft.ServiceBus/namespaces/sb1", "sb1", None),
    ("eventhub", f"{P}/Microsoft.EventHub/namespaces/eh1", "eh1", None),
    ("appconfig", f"{P}/Microsoft.AppConfiguration/configurationStores/cfg1", "cfg1", None),
    ("redis", f"{P}/Microsoft.Cache/Redis/cache1", "cache1", None),
    ("postgres-flexible", f"{P}/Microsoft.DBforPostgreSQL/flexibleServers/pg1/databases/app", "pg1", "app"),
    ("mysql-flexible", f"{P}/Microsoft.DBforMySQL/flexibleServers/my1/databases/shop", "my1", "shop"),
    ("sql", f"{P}/Microsoft.Sql/servers/sql1/databases/crm", "sql1", "crm"),
    ("cognitiveservices", f"{P}/Microsoft.CognitiveServices/accounts/ai1", "ai1", None),
]


@pytest.mark.parametrize(("kind", "target_id", "name", "database"), VALID)
def test_valid_ids_match_their_kind_and_parts(
    kind: str, target_id: str, name: str, database: str | None
) -> None:
    match = match_target_id(target_id)
    assert match is not None
    assert match.spec.kind == kind
    assert match.parts["subscription"] == SUB
    assert match.parts["resourceGroup"] == "rg-apps"
    assert match.parts["name"] == name
    assert match.parts.get("database") == database
    # The resource whose properties and keys are read is the account/server/namespace itself.
    assert match.parts["resource_id"].endswith(f"/{name}")
    assert match.parts["resource_id"].count("/") == 8


@pytest.mark.parametrize(("kind", "target_id", "name", "database"), VALID)
def test_ids_match_whatever_the_case_as_arm_does(
    kind: str, target_id: str, name: str, database: str | None
) -> None:
    for variant in (target_id.lower(), target_id.upper(), target_id.swapcase()):
        match = match_target_id(variant)
        assert match is not None and match.spec.kind == kind
        # Names keep the case they were sent with.
        assert match.parts["name"].lower() == name.lower()


def test_a_trailing_slash_is_tolerated() -> None:
    match = match_target_id(f"{P}/Microsoft.KeyVault/vaults/kv1/")
    assert match is not None and match.spec.kind == "keyvault"


@pytest.mark.parametrize(
    "target_id",
    [
        f"{P}/Microsoft.Storage/storageAccounts/acct1",  # the account, not its blob service
        f"{P}/Microsoft.Storage/storageAccounts/acct1/blobServices/other",
        f"{P}/Microsoft.Storage/storageAccounts/acct1/blobServices/default/containers/c1",
        f"{P}/Microsoft.Storage/storageAccount/acct1/blobServices/default",  # singular type
        f"{P}/Microsoft.Storages/storageAccounts/acct1/blobServices/default",  # wrong provider
        f"{P}/Microsoft.KeyVault/managedHSMs/hsm1",
        f"{P}/Microsoft.DocumentDB/databaseAccounts/cos1",  # missing the database
        f"{P}/Microsoft.DocumentDB/databaseAccounts/cos1/mongodbDatabases/orders",
        f"{P}/Microsoft.DBforPostgreSQL/servers/pg1/databases/app",  # single server, not flexible
        f"{P}/Microsoft.DBforPostgreSQL/flexibleServers/pg1",
        f"{P}/Microsoft.Sql/servers/sql1",
        f"{P}/Microsoft.Cache/redisEnterprise/re1",
        f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults/kv1",  # no resource group
        f"/subscriptions/{SUB}/resourceGroups//providers/Microsoft.KeyVault/vaults/kv1",  # empty segment
        f"/subscription/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1",
        "subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1",  # not absolute
        "",
        "/",
        "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/"
        "vaults/kv1",
    ],
)
def test_near_misses_do_not_match(target_id: str) -> None:
    assert match_target_id(target_id) is None


def test_non_strings_do_not_match() -> None:
    assert match_target_id(None) is None  # type: ignore[arg-type]
    assert match_target_id(42) is None  # type: ignore[arg-type]


def test_cognitive_accounts_choose_their_kind_from_the_account_kind() -> None:
    ai_id = f"{P}/Microsoft.CognitiveServices/accounts/ai1"
    bare = match_target_id(ai_id)
    assert bare is not None and bare.spec.kind == "cognitiveservices" and bare.alternatives == ("openai",)
    openai = match_target_id(ai_id, resource_kind="openai")
    assert (
        openai is not None and openai.spec.kind == "openai" and openai.alternatives == ("cognitiveservices",)
    )
    assert kind_for_resource("cognitiveservices", "OpenAI") == "openai"
    assert kind_for_resource("openai", "CognitiveServices") == "cognitiveservices"
    assert kind_for_resource("openai", None) == "openai"
    # Kinds that share no pattern are unaffected.
    assert kind_for_resource("redis", "OpenAI") == "redis"


GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.mark.parametrize("spec", targets.all_specs(), ids=lambda s: s.kind)
def test_every_spec_cites_a_learn_page_and_has_valid_role_guids(spec: targets.TargetSpec) -> None:
    assert spec.source_url.startswith("https://learn.microsoft.com/azure/service-connector/how-to-integrate-")
    assert spec.display_name
    for role in spec.roles:
        assert GUID.match(role.guid), role
        assert role.definition_id(SUB) == (
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role.guid}"
        )
    # Identity auth needs a role, except Redis (access policies, not RBAC) and secret-only targets.
    if AuthType.USER_ASSIGNED_IDENTITY in spec.auth_types and spec.kind != "redis":
        assert spec.role is not None


@pytest.mark.parametrize("spec", targets.all_specs(), ids=lambda s: s.kind)
def test_secret_auth_always_knows_where_its_secret_comes_from(spec: targets.TargetSpec) -> None:
    assert (AuthType.SECRET in spec.auth_types) == (spec.secret_source is not None)
    if spec.secret_source is not None and not spec.secret_source.from_request:
        assert spec.secret_source.action and spec.secret_source.value_path and spec.secret_source.api_version


def test_database_passwords_come_from_the_request() -> None:
    for kind in ("postgres-flexible", "mysql-flexible", "sql"):
        source = get_spec(kind).secret_source
        assert source is not None and source.from_request


def test_known_roles_match_the_service_connector_role_table() -> None:
    # concept-microsoft-entra-roles.md (2025), typed in independently of the catalog.
    expected = {
        "storage-blob": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "storage-queue": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "storage-table": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        "keyvault": "4633458b-17de-408a-b874-0445c86b69e6",
        "cosmos-sql": "5bd9cd88-fe45-4216-938b-f97437e15450",
        "servicebus": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
        "eventhub": "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
        "appconfig": "516239f1-63e1-4d78-a4de-a74fb236a071",
        "openai": "a001fd3d-188f-4b5d-821b-7da978bf7442",
        "cognitiveservices": "a97b65f3-24c7-4388-baec-2e87135dc908",
    }
    for kind, guid in expected.items():
        role = get_spec(kind).role
        assert role is not None and role.guid == guid, kind
    assert [r.guid for r in get_spec("servicebus").roles][1] == "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"
    assert [r.guid for r in get_spec("eventhub").roles][1] == "2b629674-e913-4c01-ae53-ef4638d8f975"


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(targets.CatalogError, match=r"Known kinds: .*storage-blob"):
        get_spec("blob")


@pytest.mark.parametrize(
    "target_id",
    [
        f" {P}/Microsoft.KeyVault/vaults/kv1",
        f"{P}/Microsoft.KeyVault/vaults/kv 1",
        f"{P}/Microsoft.KeyVault/vaults/kv1?api-version=2023-07-01",
        f"{P}/Microsoft.KeyVault/vaults/kv1#x",
        f"{P}/Microsoft.KeyVault/vaults/kv1\n",
    ],
)
def test_whitespace_and_url_characters_never_match(target_id: str) -> None:
    assert match_target_id(target_id) is None
