"""local.settings.json and host.json, read as Core Tools and the host read them."""

import json
from pathlib import Path
from typing import Any

import pytest

from devhost.settings import SettingsError, load_host_settings, load_local_settings, local_http_port, resolve


def write(folder: Path, name: str, document: dict[str, Any]) -> None:
    (folder / name).write_text(json.dumps(document), encoding="utf-8")


def test_local_settings_fill_the_environment_but_a_non_empty_variable_wins(tmp_path: Path) -> None:
    write(
        tmp_path,
        "local.settings.json",
        {"IsEncrypted": False, "Values": {"QUEUE": "orders", "HUB": "FromFile", "EMPTY_IN_ENV": "file"}},
    )
    environ = {"HUB": "FromEnvironment", "EMPTY_IN_ENV": ""}
    skipped = load_local_settings(tmp_path, environ)
    assert environ == {"QUEUE": "orders", "HUB": "FromEnvironment", "EMPTY_IN_ENV": "file"}
    assert skipped == ["HUB"]


def test_missing_local_settings_is_not_an_error(tmp_path: Path) -> None:
    assert load_local_settings(tmp_path, {}) == []


def test_encrypted_local_settings_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "local.settings.json", {"IsEncrypted": True, "Values": {"A": "x"}})
    with pytest.raises(SettingsError, match="encrypted"):
        load_local_settings(tmp_path, {})


def test_binding_expressions_resolve_from_settings() -> None:
    environ = {"QUEUE": "orders", "SCHEDULE": "0 */5 * * * *"}
    assert resolve("%QUEUE%", environ) == "orders"
    assert resolve("%QUEUE%-poison", environ) == "orders-poison"
    assert resolve("plain", environ) == "plain"
    with pytest.raises(SettingsError, match="%MISSING% names an app setting that is not defined"):
        resolve("%MISSING%", environ)


def test_host_json_route_prefix_hub_and_concurrency(tmp_path: Path) -> None:
    write(
        tmp_path,
        "host.json",
        {
            "version": "2.0",
            "extensions": {
                "http": {"routePrefix": "/v1/"},
                "durableTask": {"hubName": "%HUB%", "maxConcurrentActivityFunctions": 3},
                "serviceBus": {"maxConcurrentCalls": 2},
            },
        },
    )
    settings = load_host_settings(tmp_path, {"HUB": "MyHub"})
    assert (settings.route_prefix, settings.hub_name) == ("v1", "MyHub")
    assert (settings.max_concurrent_activities, settings.service_bus_max_concurrent_calls) == (3, 2)


def test_host_json_defaults_and_an_empty_route_prefix(tmp_path: Path) -> None:
    assert load_host_settings(tmp_path, {}).route_prefix == "api"
    write(tmp_path, "host.json", {"version": "2.0", "extensions": {"http": {"routePrefix": ""}}})
    assert load_host_settings(tmp_path, {}).route_prefix == ""


def test_local_http_port_comes_from_the_host_section(tmp_path: Path) -> None:
    assert local_http_port(tmp_path) is None
    write(tmp_path, "local.settings.json", {"Values": {}, "Host": {"LocalHttpPort": 7072}})
    assert local_http_port(tmp_path) == 7072
