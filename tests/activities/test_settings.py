"""Settings come from the app settings documented in local.settings.sample.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activities.settings import PUBLIC_ARM_ENDPOINT, Settings

SAMPLE = Path(__file__).resolve().parents[2] / "local.settings.sample.json"


def test_the_sample_settings_load() -> None:
    values = json.loads(SAMPLE.read_text(encoding="utf-8"))["Values"]
    settings = Settings.from_env(values)
    assert settings.arm_endpoint == values["ARM_ENDPOINT"]
    assert settings.arm_static_token == values["ARM_STATIC_TOKEN"]
    assert settings.arm_retry_total == int(values["ARM_RETRY_TOTAL"])
    assert settings.sealing_key is not None and len(settings.sealing_key) == 32
    assert settings.registry_table == values["REGISTRY_TABLE"]
    assert settings.extension_type == "microsoft.servicelinker.connection"
    assert settings.extension_version == ""  # auto-upgrade
    assert settings.create_missing_namespace is True
    assert "local-emulator-token" not in repr(settings)


def test_defaults_point_at_azure() -> None:
    settings = Settings.from_env({})
    assert settings.arm_endpoint == PUBLIC_ARM_ENDPOINT and settings.uses_public_cloud
    assert settings.arm_static_token is None and settings.arm_ca_bundle is None


@pytest.mark.parametrize(
    ("name", "value"),
    [("CREATE_MISSING_NAMESPACE", "maybe"), ("ARM_RETRY_TOTAL", "many"), ("SECRET_SEALING_KEY", "short")],
)
def test_bad_values_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})
