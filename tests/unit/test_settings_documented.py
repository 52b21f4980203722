"""Every app setting the product reads is read by Settings or TriggerSettings and documented in the sample."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import fields
from pathlib import Path

from activities.settings import Settings
from connector.policy import Policy
from triggers.settings import POLICY_FLAGS, POLICY_SETTINGS, TriggerSettings

SAMPLE = json.loads((Path(__file__).resolve().parents[2] / "local.settings.sample.json").read_text("utf-8"))
# Set by the Functions host or App Service, never by an operator: documented, but not in the sample's Values.
PLATFORM = {"WEBSITE_HOSTNAME", "WEBSITE_INSTANCE_ID"}


class _Recording(Mapping[str, str]):
    """An empty environment that remembers every name asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _names_read() -> set[str]:
    env = _Recording()
    Settings.from_env(env)
    TriggerSettings.from_env(env)
    return env.asked


def test_every_setting_read_is_documented_in_the_sample() -> None:
    names = _names_read()
    assert {"LIST_PAGE_SIZE", "AZURE_TENANT_ID", "PUBLIC_BASE_URL"} <= names
    assert names - set(SAMPLE["Documentation"]) == set()
    assert names - PLATFORM - set(SAMPLE["Values"]) == set()
    assert PLATFORM.isdisjoint(SAMPLE["Values"])


def test_the_trigger_settings_defaults_and_the_sample() -> None:
    defaults = TriggerSettings.from_env({})
    assert (defaults.list_page_size, defaults.tenant_id, defaults.public_base_url) == (100, "", "")
    sample = TriggerSettings.from_env(SAMPLE["Values"])
    assert sample.list_page_size == int(SAMPLE["Values"]["LIST_PAGE_SIZE"])
    assert sample.tenant_id == SAMPLE["Values"]["AZURE_TENANT_ID"]
    assert sample.public_base_url == SAMPLE["Values"]["PUBLIC_BASE_URL"]
    on_azure = TriggerSettings.from_env({"WEBSITE_HOSTNAME": "sc.azurewebsites.net", "LIST_PAGE_SIZE": "0"})
    assert on_azure.public_base_url == "https://sc.azurewebsites.net"
    assert on_azure.list_page_size == 1


def test_every_policy_field_is_set_by_one_setting_whose_sample_value_is_the_default() -> None:
    assert {f.name for f in fields(Policy)} == set(POLICY_SETTINGS) | set(POLICY_FLAGS)
    assert TriggerSettings.from_env(SAMPLE["Values"]).orchestration_policy == Policy()
    for name, setting in POLICY_SETTINGS.items():
        policy = Policy.from_dict(TriggerSettings.from_env({setting: "7"}).policy())
        assert getattr(policy, name) == 7, setting
    opted_in = TriggerSettings.from_env({"RECONCILE_REMOVE_ORPHANS": "true"}).policy()
    assert Policy.from_dict(opted_in).remove_orphans
