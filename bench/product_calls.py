"""Calls per connection, per scenario: what one connect costs in ARM and Kubernetes requests and history.

Each scenario runs on a freshly started stack (fast demo seed: Microsoft.KubernetesConfiguration
NotRegistered, no extension, aks-demo-2 without OIDC issuer, workload identity or Key Vault add-on). The first
connection on aks-demo-2 is the *fresh cluster* row; a second one of the same kind on the same cluster, made
right after, is the *ready cluster* row. Counts come from the emulators' journals, cleared before each PUT;
history events are the connect orchestration's own (its instance id is the operation id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.mgmt.msi import ManagedServiceIdentityClient

from bench.product_create import BLOB, CLUSTERS, SUB, blob_body, put_and_wait
from bench.product_stack import Stack, arm_calls, kube_calls, product_stack, reads, writes
from bench.taskhub import TaskHub

KEY_VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-demo/providers/Microsoft.KeyVault/vaults/kv-demo-0001"
CLUSTER = CLUSTERS[1]  # aks-demo-2: every cluster-side feature starts off


@dataclass(frozen=True)
class CallCount:
    """One connect's calls."""

    scenario: str
    cluster: str  # "fresh" or "ready"
    arm_reads: int
    arm_writes: int
    kube_reads: int
    kube_writes: int
    history_events: int
    status: str


def _workload_identity_body(stack: Stack) -> dict[str, Any]:
    msi = stack.arm.mgmt_client(ManagedServiceIdentityClient)
    client_id = str(msi.user_assigned_identities.get("rg-demo", "id-demo-workload").client_id)
    return {
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "authInfo": {"authType": "userAssignedIdentity", "clientId": client_id, "subscriptionId": SUB},
            "clientType": "python",
            "scope": "default",
        }
    }


def _key_vault_csi_body(stack: Stack) -> dict[str, Any]:
    target = {
        "type": "AzureResource",
        "id": KEY_VAULT,
        "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": True},
    }
    return {
        "properties": {
            "targetService": target,
            "authInfo": {"authType": "userAssignedIdentity"},
            "clientType": "none",
            "scope": "default",
        }
    }


SCENARIOS: dict[str, Callable[[Stack], dict[str, Any]]] = {
    "secret": lambda stack: blob_body(),
    "workload identity": _workload_identity_body,
    "Key Vault CSI": _key_vault_csi_body,
}


def _one(
    stack: Stack, hub: TaskHub, scenario: str, cluster: str, name: str, body: dict[str, Any]
) -> CallCount:
    stack.clear_journals()
    operation_id = put_and_wait(stack, hub, CLUSTER, name, body)
    arm, kube = arm_calls(stack), kube_calls(stack)
    return CallCount(
        scenario,
        cluster,
        len(reads(arm)),
        len(writes(arm)),
        len(reads(kube)),
        len(writes(kube)),
        hub.history_length(operation_id),
        str(hub.status(operation_id)),
    )


def run(scenarios: list[str] | None = None) -> list[CallCount]:
    """Fresh and ready rows for each scenario, each scenario on its own stack."""
    counts = []
    for scenario in scenarios or list(SCENARIOS):
        with product_stack() as stack:
            hub = TaskHub(stack.store_path)
            body = SCENARIOS[scenario](stack)
            counts.append(_one(stack, hub, scenario, "fresh", "first", body))
            counts.append(_one(stack, hub, scenario, "ready", "second", body))
    return counts


def table(counts: list[CallCount]) -> str:
    """The counts as a Markdown table."""
    lines = [
        "| scenario | cluster | ARM reads | ARM writes | kube reads | kube writes | history events "
        "(bar <= 32 when ready) | orchestration |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in counts:
        mark = " (over)" if c.cluster == "ready" and c.history_events > 32 else ""
        lines.append(
            f"| {c.scenario} | {c.cluster} | {c.arm_reads} | {c.arm_writes} | {c.kube_reads} "
            f"| {c.kube_writes} | {c.history_events}{mark} | {c.status} |"
        )
    return "\n".join(lines)
