"""The vendored extension examples (spec/, 2025-03-01) replayed against the ARM emulator, each response judged
by oav against the spec and compared with the example's status and property names.

The examples' ids are mapped onto the demo seed: subscription and group onto the demo's, the connected cluster
onto the managed cluster aks-demo-1 (the emulator serves managedClusters; the spec's path takes either). The
examples' request bodies are sent unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.contract.traffic import describe
from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness
from tests.fixtures.oav_arm import EXTENSIONS_SPEC, ArmOavValidator, ArmReplay, dotted_keys

EXAMPLES = (
    Path(__file__).resolve().parents[3] / "spec" / "specification" / Path(EXTENSIONS_SPEC).parent / "examples"
)
CLUSTER = (
    f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/rg-demo/providers/Microsoft.ContainerService/"
    "managedClusters/aks-demo-1"
)
API = "2025-03-01"

# Example response properties the emulator deliberately leaves out, and why.
NOT_EMULATED: dict[str, str] = {
    "systemData.createdBy": "who created a resource is not tracked (no caller identity in the emulator)",
    "systemData.createdByType": "same",
    "systemData.lastModifiedBy": "same",
    "systemData.lastModifiedByType": "same",
}


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return loaded


# Free-form maps of the extension resource: their keys are data, not schema.
DATA_KEYS = frozenset({"configurationSettings", "scope"})


def _missing(example_body: dict[str, Any], body: dict[str, Any]) -> set[str]:
    return dotted_keys(example_body, DATA_KEYS) - dotted_keys(body, DATA_KEYS) - set(NOT_EMULATED)


def test_the_extension_examples_replay_against_the_emulator_and_match_the_spec(
    arm: ArmHarness, oav: ArmOavValidator
) -> None:
    arm.seed_demo()
    arm.mgmt_client(ResourceManagementClient).providers.register("Microsoft.KubernetesConfiguration")
    arm.instant()
    replay = ArmReplay(arm, API)
    ext = f"{CLUSTER}/providers/Microsoft.KubernetesConfiguration/extensions/ClusterMonitor"

    create = _example("CreateExtension.json")
    status, headers, body = replay.send("PUT", ext, create["parameters"]["extension"])
    assert str(status) in create["responses"]
    assert _missing(create["responses"]["201"]["body"], body) == set()
    # The example's Azure-AsyncOperation header leads to the operation status example.
    status_example = _example("GetExtensionAsyncOperationStatus.json")
    status, _, operation = replay.send("GET", headers["Azure-AsyncOperation"])
    assert status == 200 and operation["status"] == status_example["responses"]["200"]["body"]["status"]
    assert _missing(status_example["responses"]["200"]["body"], operation) == set()

    get = _example("GetExtension.json")
    status, _, body = replay.send("GET", ext)
    assert status == 200 and body["properties"]["provisioningState"] == "Succeeded"
    assert _missing(get["responses"]["200"]["body"], body) == set()
    assert body["properties"]["currentVersion"]  # the installed version, as the example shows

    listed = _example("ListExtensions.json")
    status, _, body = replay.send("GET", ext.rsplit("/", 1)[0])
    assert status == 200 and [e["name"] for e in body["value"]] == ["ClusterMonitor"]
    assert _missing(listed["responses"]["200"]["body"]["value"][0], body["value"][0]) <= {"plan"}

    patch = _example("PatchExtension.json")
    request = patch["parameters"]["patchExtension"]
    status, _, body = replay.send("PATCH", ext, request)  # turns auto-upgrade on: work to do
    assert status == 202 and body["properties"]["provisioningState"] == "Updating"
    status, headers, body = replay.send("PATCH", ext, request)  # the same again: nothing to do
    assert status == 200 and "Azure-AsyncOperation" not in headers
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert _missing(patch["responses"]["200"]["body"], body) == set()
    assert (
        body["properties"]["version"] == body["properties"]["currentVersion"]
    )  # reported under auto-upgrade

    delete = _example("DeleteExtension.json")
    status, _, _ = replay.send("DELETE", ext)
    assert status == 202 and str(status) in delete["responses"]
    status, _, _ = replay.send("DELETE", ext)
    assert status == 204 and str(status) in delete["responses"]

    issues = oav.issues(replay.pairs)
    assert not issues, describe(issues)


def test_a_plan_given_at_create_is_kept(arm: ArmHarness, oav: ArmOavValidator) -> None:
    arm.seed_demo()
    arm.mgmt_client(ResourceManagementClient).providers.register("Microsoft.KubernetesConfiguration")
    arm.instant()
    replay = ArmReplay(arm, API)
    ext = f"{CLUSTER}/providers/Microsoft.KubernetesConfiguration/extensions/azureVote"
    plan = _example("ListExtensions.json")["responses"]["200"]["body"]["value"][2]["plan"]
    body = {"plan": plan, "properties": {"extensionType": "azure-vote", "autoUpgradeMinorVersion": True}}
    replay.send("PUT", ext, body)
    status, _, got = replay.send("GET", ext)
    assert status == 200 and got["plan"] == plan
    assert got["properties"]["autoUpgradeMode"] == "compatible"  # the spec's default
    issues = oav.issues(replay.pairs)
    assert not issues, describe(issues)


@pytest.mark.parametrize("auto_upgrade", [True, None])
def test_a_pinned_version_with_auto_upgrade_is_refused_and_changes_nothing(
    arm: ArmHarness, oav: ArmOavValidator, auto_upgrade: bool | None
) -> None:
    arm.seed_demo()
    arm.mgmt_client(ResourceManagementClient).providers.register("Microsoft.KubernetesConfiguration")
    arm.instant()
    replay = ArmReplay(arm, API)
    ext = f"{CLUSTER}/providers/Microsoft.KubernetesConfiguration/extensions/pinned"
    props: dict[str, Any] = {"extensionType": "azure-vote", "version": "0.1.4"}
    if auto_upgrade is not None:  # absent means the spec's default, true
        props["autoUpgradeMinorVersion"] = auto_upgrade
    status, _, body = replay.send("PUT", ext, {"properties": props})
    assert status == 400
    assert body["error"]["code"] == "InvalidParameter"  # assumption: docs/error-codes.md
    assert body["error"]["message"] == "To use 'version', autoUpgradeMinorVersion must be 'false'."
    assert replay.send("GET", ext)[0] == 404
    issues = oav.issues(replay.pairs)
    assert not issues, describe(issues)


def test_a_patch_pinning_a_version_under_auto_upgrade_is_refused(arm: ArmHarness) -> None:
    arm.seed_demo()
    arm.mgmt_client(ResourceManagementClient).providers.register("Microsoft.KubernetesConfiguration")
    arm.instant()
    replay = ArmReplay(arm, API)
    ext = f"{CLUSTER}/providers/Microsoft.KubernetesConfiguration/extensions/auto"
    replay.send("PUT", ext, {"properties": {"extensionType": "azure-vote"}})
    status, _, body = replay.send("PATCH", ext, {"properties": {"version": "2.0.0"}})
    assert status == 400 and body["error"]["code"] == "InvalidParameter"
    status, _, body = replay.send(
        "PATCH", ext, {"properties": {"version": "2.0.0", "autoUpgradeMinorVersion": False}}
    )
    assert status == 202 and body["properties"]["version"] == "2.0.0"
