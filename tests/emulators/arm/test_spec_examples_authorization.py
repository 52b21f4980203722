"""The vendored role-assignment examples (spec/, authorization-RoleAssignmentsCalls.json 2022-04-01) replayed
against the ARM emulator, each response judged by oav against the spec and compared with the example's status
and property names.

The examples' scopes are mapped onto the demo seed: the subscription onto the demo's, testrg onto rg-demo, the
example's Cosmos DB account onto cosmos-demo-0001. Their role definition (0b5fe924-…, not a built-in role) is
mapped onto the built-in Reader role: the emulator knows built-in roles only. Principal ids and assignment
names are sent unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.contract.traffic import describe
from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness
from tests.fixtures.oav_arm import AUTHORIZATION_SPEC, ArmOavValidator, ArmReplay, dotted_keys

EXAMPLES = (
    Path(__file__).resolve().parents[3]
    / "spec"
    / "specification"
    / Path(AUTHORIZATION_SPEC).parent
    / "examples"
)
API = "2022-04-01"
EXAMPLE_SUBSCRIPTION = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2"
EXAMPLE_ROLE = "0b5fe924-9a61-425c-96af-cfe6e287ca2d"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def _on_demo(text: str) -> str:
    return (
        text.replace(EXAMPLE_SUBSCRIPTION, DEMO_SUBSCRIPTION)
        .replace("/resourceGroups/testrg", "/resourceGroups/rg-demo")
        .replace(
            "Microsoft.DocumentDb/databaseAccounts/test-db-account",
            "Microsoft.DocumentDB/databaseAccounts/cosmos-demo-0001",
        )
        .replace(EXAMPLE_ROLE, READER)
    )


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_on_demo((EXAMPLES / name).read_text(encoding="utf-8")))
    return loaded


def _missing(example_body: dict[str, Any], body: dict[str, Any]) -> set[str]:
    return dotted_keys(example_body) - dotted_keys(body)


def _assignment(example: dict[str, Any]) -> str:
    params = example["parameters"]
    return (
        f"/{params['scope']}/providers/Microsoft.Authorization/roleAssignments/{params['roleAssignmentName']}"
    )


@pytest.fixture
def replay(arm: ArmHarness) -> ArmReplay:
    arm.seed_demo()
    arm.instant()
    return ArmReplay(arm, API)


@pytest.mark.parametrize(
    "name", ["RoleAssignments_CreateForResourceGroup.json", "RoleAssignments_CreateForResource.json"]
)
def test_the_create_examples_replay_against_the_emulator_and_match_the_spec(
    replay: ArmReplay, oav: ArmOavValidator, name: str
) -> None:
    create = _example(name)
    assignment = _assignment(create)
    request = create["parameters"]["parameters"]
    status, _, body = replay.send("PUT", assignment, request)
    assert status == 201 and _missing(create["responses"]["201"]["body"], body) == set()
    expected = create["responses"]["201"]["body"]
    assert (body["id"], body["name"], body["type"]) == (expected["id"], expected["name"], expected["type"])
    assert body["properties"]["scope"] == expected["properties"]["scope"]
    assert body["properties"]["principalType"] == "User"
    status, _, _ = replay.send("PUT", assignment, request)  # the same again
    assert str(status) in create["responses"]

    issues = oav.issues(replay.pairs)
    assert not issues, describe(issues)


def test_the_get_list_and_delete_examples_replay_against_the_emulator_and_match_the_spec(
    replay: ArmReplay, oav: ArmOavValidator
) -> None:
    get = _example("RoleAssignments_Get.json")
    assignment = _assignment(get)
    request = {"properties": {k: get["responses"]["200"]["body"]["properties"][k] for k in ("principalId",)}}
    request["properties"]["roleDefinitionId"] = (
        f"/subscriptions/{DEMO_SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    )
    request["properties"]["principalType"] = "User"
    assert replay.send("PUT", assignment, request)[0] == 201

    status, _, body = replay.send("GET", assignment)
    assert status == 200 and _missing(get["responses"]["200"]["body"], body) == set()

    listed = _example("RoleAssignments_ListForScope.json")
    scope = "/" + listed["parameters"]["scope"]
    status, _, body = replay.send("GET", f"{scope}/providers/Microsoft.Authorization/roleAssignments")
    assert status == 200 and get["parameters"]["roleAssignmentName"] in [a["name"] for a in body["value"]]
    mine = next(a for a in body["value"] if a["name"] == get["parameters"]["roleAssignmentName"])
    assert _missing(listed["responses"]["200"]["body"]["value"][0], mine) == set()

    delete = _example("RoleAssignments_Delete.json")
    status, _, body = replay.send("DELETE", assignment)
    assert status == 200 and _missing(delete["responses"]["200"]["body"], body) == set()
    status, _, _ = replay.send("DELETE", assignment)
    assert status == 204 and str(status) in delete["responses"]
    status, _, body = replay.send("GET", assignment)
    assert status == 404 and body["error"]["code"] == "RoleAssignmentNotFound"

    issues = oav.issues(replay.pairs)
    assert not issues, describe(issues)


def test_a_paged_role_assignment_list_matches_the_spec(
    arm: ArmHarness, replay: ArmReplay, oav: ArmOavValidator
) -> None:
    arm.admin.call("POST", "/arm/settings", {"listPageSize": 1})
    for name in ("RoleAssignments_CreateForResourceGroup.json", "RoleAssignments_CreateForResource.json"):
        create = _example(name)
        replay.send("PUT", _assignment(create), create["parameters"]["parameters"])
    status, _, first = replay.send(
        "GET",
        f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/rg-demo/providers/Microsoft.Authorization/roleAssignments",
    )
    assert status == 200 and len(first["value"]) == 1 and first["nextLink"]
    status, _, second = replay.send("GET", first["nextLink"])
    assert status == 200 and second["value"] and second["value"] != first["value"]

    issues = oav.issues(replay.pairs)
    assert not issues, describe(issues)
