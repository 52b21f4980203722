"""The templates under infra/ against the code and the README: settings, roles and scopes.

No Bicep compiler runs here; pycep-parser reads the templates, and these tests check what a deployment would
get wrong silently: a setting the app reads that Azure never receives, a role of the README's table that no
template assigns (or assigns at another scope), a tunable whose template value differs from the code's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from activities.settings import Settings
from connector import targets
from tests.infra import bicep
from tests.infra.code_settings import settings_the_code_reads
from triggers.settings import TriggerSettings

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_APP = "modules/functionapp.bicep"
# Settings the code reads that Azure must not get: empty is the Azure behaviour, or the platform sets them.
UNSET_ON_AZURE = {
    "ARM_ENDPOINT": "emulator override; empty: public ARM",
    "ARM_CA_BUNDLE": "emulator override; empty: the system's CA store",
    "ARM_STATIC_TOKEN": "emulator override; empty: DefaultAzureCredential",
    "AZURE_AUTHORITY_HOST": "azure-identity's own setting; empty: the public cloud's login host",
    "PUBLIC_BASE_URL": "empty: https://WEBSITE_HOSTNAME",
    "WEBSITE_HOSTNAME": "set by App Service",
    "WEBSITE_INSTANCE_ID": "set by App Service",
}
# Where each scope of the README's role table is assigned: (template, scope symbol or None for the file's own
# deployment scope, the resource type or deployment scope it must be).
SCOPES: dict[str, list[tuple[str, str | None, str]]] = {
    "Each subscription in `ALLOWED_SCOPES`": [
        ("modules/managed-subscription-roles.bicep", None, "subscription")
    ],
    "Each scope in `ALLOWED_SCOPES`": [
        ("modules/managed-subscription-roles.bicep", None, "subscription"),
        ("modules/managed-resource-group-roles.bicep", None, "resourceGroup"),
    ],
    "The app's storage account": [
        ("modules/storage.bicep", "storageAccount", "Microsoft.Storage/storageAccounts")
    ],
    "The requests queue": [
        ("modules/servicebus.bicep", "requestsQueue", "Microsoft.ServiceBus/namespaces/queues")
    ],
    "The events queue": [
        ("modules/servicebus.bicep", "eventsQueue", "Microsoft.ServiceBus/namespaces/queues")
    ],
    "The Key Vault holding the sealing key": [
        ("modules/keyvault.bicep", "vault", "Microsoft.KeyVault/vaults")
    ],
    "The Application Insights component": [
        ("modules/monitoring.bicep", "appInsights", "Microsoft.Insights/components")
    ],
    "The Durable Task Scheduler (when chosen)": [
        ("modules/durable-scheduler.bicep", "scheduler", "Microsoft.DurableTask/schedulers")
    ],
}


def bicep_files() -> list[Path]:
    return sorted(bicep.INFRA.rglob("*.bicep"))


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(bicep.INFRA)))
def test_every_template_parses(path: Path) -> None:
    document = bicep.parse(str(path.relative_to(bicep.INFRA)))
    assert document.get("resources") or document.get("modules")


def app_settings(backend_variable: str | None = None) -> dict[str, Any]:
    """The settings the Function App gets in every backend, plus those of one backend's variable."""
    variables = bicep.parse(FUNCTION_APP)["variables"]
    names = ["identitySettings", "connectorSettings"] + ([backend_variable] if backend_variable else [])
    settings: dict[str, Any] = {}
    for name in names:
        settings.update({bicep.unquote(k): v for k, v in variables[name]["value"].items()})
    return settings


def is_set(name: str, settings: dict[str, Any]) -> bool:
    """Set outright, or as an identity-based connection (NAME__fullyQualifiedNamespace, NAME__accountName)."""
    return name in settings or any(key.startswith(name + "__") for key in settings)


def test_the_app_settings_are_assembled_from_the_checked_variables() -> None:
    variables = bicep.parse(FUNCTION_APP)["variables"]
    parts = set(bicep.string_leaves(variables["appSettings"]["value"]))
    parts |= set(bicep.string_leaves(variables["backendSettings"]["value"]))
    assert {"identitySettings", "connectorSettings", "schedulerSettings", "extraAppSettings"} <= parts
    site = bicep.parse(FUNCTION_APP)["resources"]["site"]["config"]["properties"]
    assert "appSettings" in json.dumps(site["siteConfig"]["appSettings"])


def test_every_setting_the_code_reads_is_set_by_the_template() -> None:
    read = settings_the_code_reads()
    settings = app_settings()
    missing = sorted(name for name in read - set(UNSET_ON_AZURE) if not is_set(name, settings))
    assert not missing, f"settings the code reads that the template does not set: {missing}"
    # The exemptions are real reads, not stale names.
    assert set(UNSET_ON_AZURE) <= read
    assert not set(UNSET_ON_AZURE) & set(settings)


def test_connections_are_identity_based_only() -> None:
    for backend in (None, "schedulerSettings"):
        settings = app_settings(backend)
        assert "AzureWebJobsStorage" not in settings and "SERVICEBUS_CONNECTION" not in settings
        for prefix in ("AzureWebJobsStorage", "SERVICEBUS_CONNECTION"):
            assert settings[f"{prefix}__credential"] == "managedidentity"
            assert settings[f"{prefix}__clientId"] == "identityClientId"
        assert settings["AzureWebJobsStorage__accountName"] == "storageAccountName"
        assert settings["SERVICEBUS_CONNECTION__fullyQualifiedNamespace"] == "serviceBusNamespaceHost"
        assert not any(re.search(r"AccountKey=|SharedAccessKey=", str(v)) for v in settings.values())
    storage = bicep.parse("modules/storage.bicep")["resources"]["storageAccount"]["config"]["properties"]
    assert storage["allowSharedKeyAccess"] is False
    namespace = bicep.parse("modules/servicebus.bicep")["resources"]["namespace"]["config"]["properties"]
    assert namespace["disableLocalAuth"] is True


def test_binding_expressions_have_their_settings_in_every_backend() -> None:
    """host.json's %DURABLE_TASK_HUB% and the timer's %RECONCILE_SCHEDULE% need their setting on Azure."""
    for backend in (None, "schedulerSettings"):
        settings = app_settings(backend)
        assert settings["DURABLE_TASK_HUB"] == "taskHubName"
        assert settings["RECONCILE_SCHEDULE"] == "reconcileSchedule"
    parameters = bicep.parse("main.bicep")["parameters"]
    assert parameters["reconcileSchedule"]["default"] == "0 0 * * * *"
    assert parameters["taskHubName"]["default"] == "ServiceConnectorHub"


def test_tunables_in_the_template_are_the_code_defaults() -> None:
    """A literal value in the template changes nothing the code would do without it."""
    document = bicep.parse(FUNCTION_APP)
    names = bicep.symbols(document)
    connector = document["variables"]["connectorSettings"]["value"]
    literals = {
        bicep.unquote(key): value
        for key, value in connector.items()
        if isinstance(value, str) and value not in names and "${" not in value
    }
    assert len(literals) >= 15
    for key, value in literals.items():
        assert Settings.from_env({key: value}) == Settings.from_env({}), key
        assert TriggerSettings.from_env({key: value}) == TriggerSettings.from_env({}), key


def test_the_scheduler_backend_overrides_the_storage_provider() -> None:
    settings = app_settings("schedulerSettings")
    prefix = "AzureFunctionsJobHost__extensions__durableTask__storageProvider__"
    assert settings[prefix + "type"] == "azureManaged"
    connection = settings[prefix + "connectionStringName"]
    assert settings[connection].startswith("Endpoint=${schedulerEndpoint};Authentication=ManagedIdentity;")
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["durableTask"]["storageProvider"]["type"] == "AzureStorage"


def readme_role_table() -> list[tuple[str, list[str]]]:
    """(scope, role names) for each row of the role table in the README's "Deploying to Azure" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Deploying to Azure", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("Scope", "---"):
            rows.append((cells[0], re.findall(r"\*\*(.+?)\*\*", cells[1])))
    return rows


def role_ids() -> dict[str, str]:
    ids: dict[str, str] = json.loads((bicep.INFRA / "built-in-roles.json").read_text())
    return ids


def test_the_readme_role_table_is_read() -> None:
    rows = readme_role_table()
    assert len(rows) >= 10 and all(roles for _, roles in rows), rows
    assert {scope for scope, _ in rows} == set(SCOPES)


def test_each_role_of_the_readme_is_assigned_at_its_scope() -> None:
    for scope, roles in readme_role_table():
        for template, symbol, kind in SCOPES[scope]:
            at_scope = [
                g for g in bicep.grants(template) if g.scope_symbol == symbol and g.scope_type == kind
            ]
            assigned = set().union(*(g.roles for g in at_scope))
            for role in roles:
                assert role in assigned, (
                    f"{role!r} ({scope}) is not assigned in {template} at {symbol or kind}"
                )


def test_every_assigned_role_has_an_id() -> None:
    custom = {"AKS Service Connector provider registrar", "AKS Service Connector target reader"}
    known = set(role_ids()) | custom
    role_names = {role for _, roles in readme_role_table() for role in roles} | {"Key Vault Secrets Officer"}
    for path in bicep_files():
        for grant in bicep.grants(str(path.relative_to(bicep.INFRA))):
            named = {role for role in grant.roles if role in known or role in role_names}
            assert named, f"{grant.resource} in {grant.file} assigns no role named in built-in-roles.json"
    assert all(
        re.fullmatch(r"[0-9a-f-]{36}", value) for key, value in role_ids().items() if key != "$comment"
    )
    definitions = bicep.parse("modules/custom-roles.bicep")["resources"]
    names = {d["config"]["properties"]["roleName"].split(" ${")[0] for d in definitions.values()}
    assert names == custom


def test_the_scope_roles_go_to_every_allowed_scope() -> None:
    """Each subscription and resource group parameter gets the scope roles and is in ALLOWED_SCOPES."""
    main = bicep.parse("main.bicep")
    modules = main["modules"]
    expected = {
        "subscriptionRoles": ("managedSubscriptionIds", "subscription"),
        "resourceGroupRoles": ("managedResourceGroups", "resource_group"),
    }
    for module, (parameter, scope_function) in expected.items():
        config = modules[module]["config"]
        assert config["loop_type"]["detail"]["array_name"] == parameter
        assert scope_function in config["config"]["scope"]["function"]["type"]
    variables = main["variables"]
    assert (
        variables["subscriptionScopes"]["value"]["loop_type"]["detail"]["array_name"]
        == "managedSubscriptionIds"
    )
    assert (
        variables["resourceGroupScopes"]["value"]["loop_type"]["detail"]["array_name"]
        == "managedResourceGroups"
    )
    assert set(bicep.string_leaves(variables["scopeIds"]["value"])) >= {
        "subscriptionScopes",
        "resourceGroupScopes",
    }
    app = modules["functionApp"]["config"]["params"]["allowedScopes"]
    assert "scopeIds" in set(bicep.string_leaves(app))


def test_delegated_role_assignment_is_limited_to_the_catalog_data_roles() -> None:
    catalog = {role.guid for spec in targets.all_specs() for role in spec.roles}
    grantable = json.loads((bicep.INFRA / "grantable-roles.json").read_text())
    assert set(grantable["roleDefinitionIds"]) == catalog
    for template in (
        "modules/managed-subscription-roles.bicep",
        "modules/managed-resource-group-roles.bicep",
    ):
        resources = bicep.parse(template)["resources"]
        body = resources["delegationGrants"]["config"]["config"]["properties"]
        assert body["condition"] == "delegationCondition" and body["conditionVersion"] == "2.0"
        text = (bicep.INFRA / template).read_text()
        assert "roleAssignments/write" in text and "roleAssignments/delete" in text


def test_requests_queue_deduplicates_and_dead_letters() -> None:
    resources = bicep.parse("modules/servicebus.bicep")["resources"]
    requests = resources["requestsQueue"]["config"]["properties"]
    assert requests["requiresDuplicateDetection"] is True
    assert requests["deadLetteringOnMessageExpiration"] is True
    assert requests["maxDeliveryCount"] == "maxDeliveryCount"
    assert resources["eventsQueue"]["config"]["properties"]["deadLetteringOnMessageExpiration"] is True


def test_key_vault_is_rbac_with_purge_protection_and_holds_no_key() -> None:
    vault = bicep.parse("modules/keyvault.bicep")["resources"]["vault"]["config"]["properties"]
    assert vault["enableRbacAuthorization"] is True and vault["enablePurgeProtection"] is True
    for path in bicep_files():
        document = bicep.parse(str(path.relative_to(bicep.INFRA)))
        kinds = {resource["type"] for resource in (document.get("resources") or {}).values()}
        assert "Microsoft.KeyVault/vaults/secrets" not in kinds, path
    assert app_settings()["SECRET_SEALING_KEY"] == "sealingKeyReference"


def test_flex_consumption_runs_python_311_from_its_deployment_container() -> None:
    resources = bicep.parse(FUNCTION_APP)["resources"]
    assert resources["plan"]["config"]["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    config = resources["site"]["config"]["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    assert config["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"


def test_task_hub_name_fits_both_backends() -> None:
    """The default hub name is valid for both backends' documented naming rules."""
    hub = bicep.parse("main.bicep")["parameters"]["taskHubName"]["default"]
    # Microsoft.DurableTask 2025-11-01 REST spec: taskHubName pattern.
    assert re.fullmatch(r"[a-zA-Z0-9-]{3,64}", hub)
    # Durable Functions task hub names with the Azure Storage provider: letters and digits, a letter first,
    # 3 to 45 characters.
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,44}", hub)
    sample = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    assert sample["DURABLE_TASK_HUB"] == hub
    assert (
        sample["RECONCILE_SCHEDULE"]
        == bicep.parse("main.bicep")["parameters"]["reconcileSchedule"]["default"]
    )


def test_every_resource_uses_a_stable_api_version() -> None:
    """Each resource type at a GA api-version (each looked up in azure-rest-api-specs' stable/ folders)."""
    versions = {}
    for path in bicep_files():
        for resource in (bicep.parse(str(path.relative_to(bicep.INFRA))).get("resources") or {}).values():
            versions[resource["type"]] = resource["api_version"]
    assert not [t for t, v in versions.items() if "preview" in v], versions
    assert versions["Microsoft.Web/sites"] == "2024-11-01"
    assert versions["Microsoft.DurableTask/schedulers"] == "2025-11-01"
