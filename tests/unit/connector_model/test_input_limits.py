"""Bounded JSON parsing, ARM/AKS name rules and the reserved environment names (pure, no I/O)."""

from __future__ import annotations

import json

import pytest

from connector.bounded_json import MAX_DEPTH, MAX_ELEMENTS, JsonLimits, loads_bounded
from connector.ids import parse_cluster_id
from connector.validation import (
    RequestValidationError,
    cluster_name_problems,
    reserved_env_name,
    resource_group_problems,
)


def _refusal(raw: bytes | str, limits: JsonLimits | None = None) -> RequestValidationError:
    with pytest.raises(RequestValidationError) as caught:
        loads_bounded(raw, limits) if limits else loads_bounded(raw)
    return caught.value


def test_a_linker_body_parses_as_json_does() -> None:
    body = {
        "properties": {
            "targetService": {"type": "AzureResource", "id": "/x"},
            "configurationInfo": {"customizedKeys": {"A": "B"}},
            "scope": "default",
        }
    }
    assert loads_bounded(json.dumps(body).encode()) == body


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_nesting_beyond_the_limit_is_refused_without_recursion(depth: int) -> None:
    error = _refusal("[" * depth + "]" * depth)
    assert error.code == "InvalidRequestContent"
    assert "nesting depth" in error.message


def test_nesting_at_the_limit_parses() -> None:
    assert loads_bounded("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 500 + '\\"{' * 100})
    assert loads_bounded(text) == json.loads(text)


def test_too_many_elements_and_too_many_bytes_are_refused() -> None:
    assert "element count" in _refusal(json.dumps(list(range(MAX_ELEMENTS + 1)))).message
    assert "size" in _refusal(b'"' + b"a" * 64 + b'"', JsonLimits(max_bytes=32)).message


@pytest.mark.parametrize("raw", [b"{not json", b'{"a": NaN}', b"\xff\xfe{}", '"\\ud800"', b"1" * 5000])
def test_what_is_not_json_or_cannot_be_stored_is_invalid_request_body(raw: bytes | str) -> None:
    assert _refusal(raw).code == "InvalidRequestBody"


@pytest.mark.parametrize("name", ["a", "aks-demo-1", "A_b-9", "x" * 63])
def test_valid_cluster_names(name: str) -> None:
    assert cluster_name_problems(name) == []


@pytest.mark.parametrize("name", ["", "a b", "-a", "a-", "a.b", "x" * 64, "a/b", "..", "a%20b"])
def test_invalid_cluster_names(name: str) -> None:
    assert [p.code for p in cluster_name_problems(name)] == ["InvalidSourceResourceId"]


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("rg-demo", True),
        ("rg.(x)_1", True),
        ("grüppe", True),
        ("x" * 90, True),
        ("rg.", False),
        ("", False),
        ("x" * 91, False),
        ("a b", False),
        ("a/b", False),
        ("a;b", False),
    ],
)
def test_resource_group_names(name: str, valid: bool) -> None:
    assert (resource_group_problems(name) == []) is valid


def test_a_cluster_id_with_an_invalid_name_is_no_cluster_id() -> None:
    def cluster_id(group: str, name: str) -> str:
        return (
            f"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/{group}"
            f"/providers/Microsoft.ContainerService/managedClusters/{name}"
        )

    assert parse_cluster_id(cluster_id("rg", "aks")) is not None
    assert parse_cluster_id(cluster_id("rg", "a b")) is None
    assert parse_cluster_id(cluster_id("rg.", "aks")) is None


@pytest.mark.parametrize(
    "name",
    [
        "PATH",
        "Path",
        "HOME",
        "LD_PRELOAD",
        "ld_library_path",
        "DYLD_INSERT_LIBRARIES",
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "NODE_OPTIONS",
        "LC_ALL",
        "DOTNET_STARTUP_HOOKS",
        "COMPlus_EnableDiagnostics",
        "CORECLR_PROFILER",
        "KUBERNETES_SERVICE_HOST",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
        "AZURE_CLIENT_ID",
        "HTTPS_PROXY",
        "TZ",
    ],
)
def test_names_that_shadow_the_environment_are_reserved(name: str) -> None:
    assert reserved_env_name(name)


@pytest.mark.parametrize("name", ["AZURE_STORAGEBLOB_CONNECTIONSTRING", "BLOB_URL", "MY_PATH", "PATHS"])
def test_ordinary_names_are_not_reserved(name: str) -> None:
    assert not reserved_env_name(name)
