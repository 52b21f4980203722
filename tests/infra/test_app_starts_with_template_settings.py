"""The app, given only the settings the template sets, resolves every binding and reads its settings.

The Functions host fails a binding whose `%NAME%` names no app setting (devhost does the same, and refuses
to start): this gives devhost's resolution the template's settings, parameters at their defaults and the
Key Vault reference replaced by the key it resolves to, and runs the app's own settings readers on them.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from activities.settings import Settings
from devhost.discovery import load_app
from devhost.ncrontab import parse_schedule
from devhost.settings import load_host_settings, resolve
from tests.infra import bicep
from triggers.settings import TriggerSettings

ROOT = Path(__file__).resolve().parents[2]
# Parameters of modules/functionapp.bicep, as main.bicep passes them with its defaults (or a sample value).
SAMPLE_PARAMETERS = {
    "storageAccountName": "stscexample",
    "tableServiceUri": "https://stscexample.table.core.windows.net/",
    "identityClientId": "00000000-0000-0000-0000-0000000000c1",
    "serviceBusNamespaceHost": "sb-sc-example.servicebus.windows.net",
    "requestsQueueName": "connection-requests",
    "eventsQueueName": "connection-events",
    "applicationInsightsConnectionString": "InstrumentationKey=00000000-0000-0000-0000-000000000000",
    "allowedScopes": "/subscriptions/00000000-0000-0000-0000-000000000001",
    "taskHubName": "ServiceConnectorHub",
    "reconcileSchedule": "0 0 * * * *",
    # What App Service puts in place of the Key Vault reference: the base64 key the hook stored.
    "sealingKeyReference": base64.b64encode(os.urandom(32)).decode(),
}


def template_environment() -> dict[str, str]:
    """The app settings of the Azure Storage backend, with every parameter replaced by a value."""
    main_defaults = {
        name: parameter.get("default") for name, parameter in bicep.parse("main.bicep")["parameters"].items()
    }
    assert main_defaults["taskHubName"] == SAMPLE_PARAMETERS["taskHubName"]
    assert main_defaults["reconcileSchedule"] == SAMPLE_PARAMETERS["reconcileSchedule"]
    variables = bicep.parse("modules/functionapp.bicep")["variables"]
    environment: dict[str, str] = {}
    for name in ("identitySettings", "connectorSettings"):
        for key, value in variables[name]["value"].items():
            if isinstance(value, dict):  # an expression: the boolean ternary of CREATE_MISSING_NAMESPACE
                value = "true"
            environment[bicep.unquote(key)] = SAMPLE_PARAMETERS.get(str(value), str(value))
    environment["AZURE_TENANT_ID"] = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    return environment


def test_host_json_resolves_the_task_hub() -> None:
    assert load_host_settings(ROOT, template_environment()).hub_name == "ServiceConnectorHub"


def test_every_binding_expression_of_the_app_resolves() -> None:
    environment = template_environment()
    index = load_app("function_app", str(ROOT))
    resolved = 0
    for info in index.functions.values():
        for binding in (info.trigger, *info.bindings):
            for value in binding.values():
                if isinstance(value, str) and "%" in value:
                    resolve(value, environment)
                    resolved += 1
        if info.trigger_type == "timerTrigger":
            parse_schedule(resolve(str(info.trigger["schedule"]), environment))
    assert resolved >= 2  # the timer's schedule and the Service Bus queue at least


def test_the_app_reads_its_settings_from_the_template_values() -> None:
    environment = template_environment()
    settings = Settings.from_env(environment)
    triggers = TriggerSettings.from_env(environment)
    assert settings.allowed_scopes == triggers.allowed_scopes == (SAMPLE_PARAMETERS["allowedScopes"],)
    assert settings.sealing_key is not None and triggers.sealing_key is not None
    assert triggers.events_queue == "connection-events"


def test_a_missing_binding_setting_is_what_stops_the_host() -> None:
    """Without the template's value the binding does not resolve: the setting is needed, not decorative."""
    environment = template_environment()
    del environment["RECONCILE_SCHEDULE"]
    with pytest.raises(Exception, match="RECONCILE_SCHEDULE"):
        resolve("%RECONCILE_SCHEDULE%", environment)
