"""The vendored msi examples (spec/, ManagedIdentity.json 2024-11-30) replayed against the ARM emulator, each
response judged by oav against the spec and compared with the example's status and property names.

The examples' ids are mapped onto the demo seed (its subscription and group rg-demo); their request bodies are
sent unchanged. IdentityDelete and IdentityUpdate are not replayed: the emulator serves no DELETE or PATCH of
an identity (the product never deletes or patches one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.contract.traffic import describe
from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness
from tests.fixtures.oav_arm import MSI_SPEC, ArmOavValidator, ArmReplay, dotted_keys

EXAMPLES = Path(__file__).resolve().parents[3] / "spec" / "specification" / Path(MSI_SPEC).parent / "examples"
GROUP = f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/rg-demo"
IDENTITIES = f"{GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
API = "2024-11-30"


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return loaded


DATA_KEYS = frozenset({"tags"})  # tags are data, not schema


def _missing(example_body: dict[str, Any], body: dict[str, Any]) -> set[str]:
    return dotted_keys(example_body, DATA_KEYS) - dotted_keys(body, DATA_KEYS)


@pytest.fixture
def replay(arm: ArmHarness) -> ArmReplay:
    arm.seed_demo()
    arm.instant()
    return ArmReplay(arm, API)


def test_the_identity_examples_replay_against_the_emulator_and_match_the_spec(
    replay: ArmReplay, oav: ArmOavValidator
) -> None:
    identity = f"{IDENTITIES}/identityName"
    create = _example("IdentityCreate.json")
    request = create["parameters"]["parameters"]
    status, _, body = replay.send("PUT", identity, request)
    assert status == 201 and _missing(create["responses"]["201"]["body"], body) == set()
    assert body["tags"] == request["tags"] and body["location"] == request["location"]
    status, _, body = replay.send("PUT", identity, request)  # the same again: an update
    assert status == 200 and _missing(create["responses"]["200"]["body"], body) == set()

    get = _example("IdentityGet.json")
    status, _, body = replay.send("GET", identity)
    assert status == 200 and _missing(get["responses"]["200"]["body"], body) == set()
    assert body["properties"]["isolationScope"] == "None"

    status, _, body = replay.send("GET", IDENTITIES)
    assert status == 200 and "identityName" in [i["name"] for i in body["value"]]
    status, _, body = replay.send("GET", f"{IDENTITIES}/absent")
    assert status == 404 and body["error"]["code"] == "ResourceNotFound"

    issues = oav.issues(replay.pairs)
    assert not issues, describe(issues)


def test_the_federated_credential_examples_replay_against_the_emulator_and_match_the_spec(
    replay: ArmReplay, oav: ArmOavValidator
) -> None:
    identity = f"{IDENTITIES}/resourceName"
    replay.send("PUT", identity, _example("IdentityCreate.json")["parameters"]["parameters"])
    fic = f"{identity}/federatedIdentityCredentials/ficResourceName"

    create = _example("FederatedIdentityCredentialCreate.json")
    request = create["parameters"]["parameters"]
    status, _, body = replay.send("PUT", fic, request)
    assert status == 201 and _missing(create["responses"]["201"]["body"], body) == set()
    assert body["properties"] == request["properties"]
    status, _, body = replay.send("PUT", fic, request)
    assert status == 200 and _missing(create["responses"]["200"]["body"], body) == set()

    get = _example("FederatedIdentityCredentialGet.json")
    status, _, body = replay.send("GET", fic)
    assert status == 200 and _missing(get["responses"]["200"]["body"], body) == set()

    listed = _example("FederatedIdentityCredentialList.json")
    top = listed["parameters"]["top"]
    status, _, body = replay.send("GET", fic.rsplit("/", 1)[0], query=f"&$top={top}")
    assert status == 200 and [f["name"] for f in body["value"]] == ["ficResourceName"]
    assert _missing(listed["responses"]["200"]["body"]["value"][0], body["value"][0]) == set()

    delete = _example("FederatedIdentityCredentialDelete.json")
    status, _, _ = replay.send("DELETE", fic)
    assert status == 200 and str(status) in delete["responses"]
    status, _, _ = replay.send("DELETE", fic)
    assert status == 204 and str(status) in delete["responses"]

    issues = oav.issues(replay.pairs)
    assert not issues, describe(issues)


def test_paged_identity_and_credential_lists_match_the_spec(
    arm: ArmHarness, replay: ArmReplay, oav: ArmOavValidator
) -> None:
    arm.admin.call("POST", "/arm/settings", {"listPageSize": 1})
    identity = f"{IDENTITIES}/resourceName"
    replay.send("PUT", identity, _example("IdentityCreate.json")["parameters"]["parameters"])
    request = _example("FederatedIdentityCredentialCreate.json")["parameters"]["parameters"]
    for name, subject in (
        ("fic-one", "system:serviceaccount:ns:one"),
        ("fic-two", "system:serviceaccount:ns:two"),
    ):
        body = {"properties": {**request["properties"], "subject": subject}}
        assert replay.send("PUT", f"{identity}/federatedIdentityCredentials/{name}", body)[0] == 201

    for collection in (IDENTITIES, f"{identity}/federatedIdentityCredentials"):
        status, _, first = replay.send("GET", collection)
        assert status == 200 and len(first["value"]) == 1 and first["nextLink"]
        status, _, second = replay.send("GET", first["nextLink"])
        assert status == 200 and second["value"] and second["value"] != first["value"]

    issues = oav.issues(replay.pairs)
    assert not issues, describe(issues)
