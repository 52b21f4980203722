"""Every vendored `Linker_*` example of the official specs, replayed against the product.

Each example's request goes to the product with its source mapped onto the demo AKS cluster and its target
onto a seeded emulator resource of the same type (none has one: then the example is in REFUSED). The product's
answer must have the example's status code and carry every key the example's answer shows (values differ:
other resources); the e2e fixture also has oav judge every answer against the version's spec. An example the
product refuses on purpose is answered with the refusal REFUSED documents, and nothing is created.

Only the examples the public index held are vendored (spec/README.md lists them); each file found under spec/
is replayed, so a newly vendored example joins without a code change, or fails until it is mapped here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.contract.traffic import SPEC_ROOT
from tests.e2e.conftest import CLUSTER, E2E, POSTGRES_DB, blob_secret_body

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
EXAMPLES = sorted(SPEC_ROOT.glob("servicelinker/**/examples/*.json"))

# Examples the product refuses on purpose: (status, stable code, field it names, other fields the error's
# details name, why).
REFUSED: dict[str, tuple[int, str, str, tuple[str, ...], str]] = {
    "2024-07-01-preview/PutLinker": (
        400,
        "UnsupportedTarget",
        "properties.targetService.id",
        ("properties.vNetSolution",),
        "its target is an Azure Database for PostgreSQL single server (Microsoft.DBforPostgreSQL/servers), "
        "retired and not a Service Connector target on AKS; and vNetSolution serviceEndpoint asks for target "
        "network rules, which the connector does not configure, so it refuses the field rather than drop it",
    ),
}
# Target types an example names and the seeded resource of the same kind that stands in for it.
SEEDED_TARGETS = {"Microsoft.DBforPostgreSQL/flexibleServers": POSTGRES_DB}


def _example_key(path: Path) -> str:
    document = json.loads(path.read_text(encoding="utf-8"))
    return f"{document['parameters']['api-version']}/{path.stem}"


def _operation(path: Path) -> str:
    document = json.loads(path.read_text(encoding="utf-8"))
    if "operationId" in document:
        return str(document["operationId"])
    # Older examples do not name their operation; the spec that references them does.
    spec = json.loads((path.parent.parent / "servicelinker.json").read_text(encoding="utf-8"))
    for item in spec["paths"].values():
        for operation in item.values():
            refs = [e["$ref"] for e in operation.get("x-ms-examples", {}).values()]
            if f"./examples/{path.name}" in refs:
                return str(operation["operationId"])
    raise LookupError(path)


def _keys_present(example: Any, answer: Any, where: str = "") -> list[str]:
    """The keys the example's answer shows that the product's answer lacks (lists: by first item)."""
    if isinstance(example, dict):
        if not isinstance(answer, dict):
            return [where or "/"]
        missing = [f"{where}/{k}" for k in example if k not in answer]
        for key, value in example.items():
            if key in answer:
                missing += _keys_present(value, answer[key], f"{where}/{key}")
        return missing
    if isinstance(example, list) and example:
        if not isinstance(answer, list) or not answer:
            return [where]
        keys = set().union(*(item.keys() for item in example if isinstance(item, dict)))
        return [f"{where}[]/{k}" for k in sorted(keys) for item in answer if k not in item][:10]
    return []


def _create(e2e: E2E, name: str, api_version: str, body: dict[str, Any] | None = None) -> None:
    status, headers, answer = e2e.http(
        "PUT", f"{LINKERS}/{name}?api-version={api_version}", body or blob_secret_body()
    )
    assert status == 201, answer
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"


def _postgres_secret_body() -> dict[str, Any]:
    return {
        "properties": {
            "targetService": {
                "type": "AzureResource",
                "id": SEEDED_TARGETS["Microsoft.DBforPostgreSQL/flexibleServers"],
            },
            "authInfo": {
                "authType": "secret",
                "name": "pgadmin",
                "secretInfo": {"secretType": "rawValue", "value": "Example-Pa55word-not-real"},
            },
            "clientType": "python",
            "scope": "default",
        }
    }


def _replay(e2e: E2E, path: Path) -> tuple[int, dict[str, str], Any, dict[str, Any]]:
    """Send the example's request; (status, headers, body, the example's answer for that status)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    parameters, responses = document["parameters"], document["responses"]
    version = parameters["api-version"]
    name = "ex" + path.stem.lower()[:20]
    query = f"api-version={version}"
    operation = _operation(path)
    if operation == "Linker_CreateOrUpdate":
        response = e2e.http("PUT", f"{LINKERS}/{name}?{query}", parameters["parameters"])
    elif operation == "Linker_List":
        _create(e2e, name, version)
        response = e2e.http("GET", f"{LINKERS}?{query}")
    elif operation == "Linker_Delete":
        _create(e2e, name, version)
        response = e2e.http("DELETE", f"{LINKERS}/{name}?{query}")
        absent = e2e.http("DELETE", f"{LINKERS}/{name}absent?{query}")
        assert absent[0] == 204 and "204" in responses
    elif operation == "Linker_ListConfigurations":
        _create(e2e, name, version, _postgres_secret_body())
        response = e2e.http("POST", f"{LINKERS}/{name}/listConfigurations?{query}")
    elif operation == "Linker_Validate":
        _create(e2e, name, version)
        status, headers, body = e2e.http("POST", f"{LINKERS}/{name}/validateLinker?{query}")
        assert str(status) in responses, body
        final = e2e.wait_operation(headers["Azure-AsyncOperation"])
        # The result is the operation's: ARM's final GET of an Azure-AsyncOperation carries it.
        return 200, {}, final["properties"], responses.get("200", {})
    else:
        raise LookupError(f"{operation} has no replay: map it here")
    status, headers, body = response
    return status, headers, body, responses.get(str(status), {})


@pytest.mark.parametrize("path", EXAMPLES, ids=_example_key)
def test_every_linker_example_replays(e2e: E2E, path: Path) -> None:
    key = _example_key(path)
    status, headers, body, expected = _replay(e2e, path)

    if key in REFUSED:
        code, error, target, also_named, _why = REFUSED[key]
        assert (status, body["error"]["code"], body["error"]["target"]) == (code, error, target), body
        named = {detail.get("target") for detail in body["error"]["details"]}
        assert set(also_named) <= named, body
        listed = e2e.http("GET", f"{LINKERS}?api-version=2024-07-01-preview")[2]
        assert [linker["name"] for linker in listed["value"]] == []  # nothing was created
        return
    document = json.loads(path.read_text(encoding="utf-8"))
    assert str(status) in document["responses"], (status, body)
    assert _keys_present(expected.get("body"), body) == []
    for header in expected.get("headers", {}):
        assert header.lower() in {h.lower() for h in headers}, headers


def test_every_vendored_example_is_replayed_or_refused_on_purpose() -> None:
    """A refusal documented for an example that is not vendored would hide nothing: keep the table exact."""
    keys = {_example_key(p) for p in EXAMPLES}
    assert set(REFUSED) <= keys
    assert {_operation(p) for p in EXAMPLES} <= {
        "Linker_CreateOrUpdate",
        "Linker_List",
        "Linker_Delete",
        "Linker_ListConfigurations",
        "Linker_Validate",
        "Linker_Get",
        "Linker_Update",
    }
