"""`validate`: check a linker on its cluster for real, and report it in validateLinker's result shape.

Unlike Service Connector's AKS validation (which always answers success), every item is a check of what is
on the cluster and in ARM now: one `observe_cluster` read for this connection, then `connector.plan` decides
what would have to change; each needed change is a failed item. Nothing is written.

Input {"linkerId", "operationId", "policy"}; output {"linkerId", "provisioningState": "Succeeded", "error":
None, "validation": {linkerName, isConnectionAvailable, reportStartTimeUtc, reportEndTimeUtc, sourceId,
targetId, authType, validationDetail: [{name, description, result, errorMessage, errorCode}]}} or
"provisioningState": "Failed" with the classified error when the cluster cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from connector import naming, plan
from connector.boundary import Activity
from connector.model import Connection
from orchestrators import bp
from orchestrators.flow import Flow, OrchestrationFailure
from orchestrators.policy import Policy
from telemetry import orchestration_episode

TARGET = "Target resource existence validated."
CLUSTER = "Cluster and sc-extension validated."
FEATURES = "Cluster features validated."
SECRET = "Configured connection information validated."
SERVICE_ACCOUNT = "Kubernetes ServiceAccount validated."
FEDERATED = "Federated identity credential validated."
ROLE = "Managed Identity permissions validated."


def _item(name: str, problem: str | None, code: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "description": None,
        "result": "failure" if problem else "success",
        "errorMessage": problem,
        "errorCode": code if problem else None,
    }


def _first(actions: Sequence[plan.Action], kind: type[plan.Action]) -> plan.Action | None:
    return next((a for a in actions if isinstance(a, kind)), None)


def validation_details(connection: Connection, observed: plan.ObservedCluster) -> list[dict[str, Any]]:
    """One item per check, from what the plan says would have to change (pure)."""
    actions = plan.compute_plan([connection], observed)
    secret_name = naming.secret_name(connection.linker_name)
    secret = next(
        (s for s in observed.secrets if s.namespace == connection.namespace and s.name == secret_name), None
    )
    target_problem = None
    if secret is not None and secret.hash_rendered_now is None:
        target_problem = f"The target {connection.target_id} could not be read to render the configuration."
    items = [_item(TARGET, target_problem, "TargetNotReadable")]
    cluster_problem = None
    if observed.provisioning_state.lower() != "succeeded":
        cluster_problem = f"The cluster is {observed.provisioning_state}, not Succeeded."
    elif _first(actions, plan.RegisterProvider) or _first(actions, plan.InstallExtension):
        state = observed.extension_provisioning_state or "not installed"
        cluster_problem = f"sc-extension is {state} (or Microsoft.KubernetesConfiguration is not registered)."
    items.append(_item(CLUSTER, cluster_problem, "ExtensionNotReady"))
    feature = _first(actions, plan.EnableKeyVaultAddon) or _first(actions, plan.EnableWorkloadIdentity)
    if connection.key_vault_csi or connection.is_workload_identity:
        problem = None
        if isinstance(feature, plan.EnableKeyVaultAddon):
            problem = "The azureKeyvaultSecretsProvider add-on is not enabled on the cluster."
        elif isinstance(feature, plan.EnableWorkloadIdentity):
            problem = "The OIDC issuer or workload identity is not enabled on the cluster."
        items.append(_item(FEATURES, problem, "ClusterFeatureDisabled"))
    secret_problem = None
    if secret is None:
        secret_problem = f"Secret {secret_name} is missing from namespace {connection.namespace}."
    elif _first(actions, plan.ApplySecret):
        secret_problem = f"Secret {secret_name} does not hold the expected keys and values."
    items.append(_item(SECRET, secret_problem, "SecretDrifted"))
    if connection.is_workload_identity:
        account = _first(actions, plan.ApplyServiceAccount)
        items.append(
            _item(
                SERVICE_ACCOUNT,
                f"ServiceAccount {account.service_account_name} is missing or not annotated "
                "with the identity."
                if isinstance(account, plan.ApplyServiceAccount)
                else None,
                "ServiceAccountDrifted",
            )
        )
        credential = _first(actions, plan.CreateFederatedCredential)
        items.append(
            _item(
                FEDERATED,
                f"No federated credential with the cluster's issuer and subject {credential.subject}."
                if isinstance(credential, plan.CreateFederatedCredential)
                else None,
                "FederatedCredentialMissing",
            )
        )
        role = _first(actions, plan.AssignRole)
        items.append(
            _item(
                ROLE,
                f"The identity lacks role '{role.role_name}' on {role.scope}."
                if isinstance(role, plan.AssignRole)
                else None,
                "RoleAssignmentMissing",
            )
        )
    return items


def validation_result(
    connection: Connection, details: list[dict[str, Any]], started: str, ended: str
) -> dict[str, Any]:
    """validateLinker's result properties."""
    return {
        "linkerName": connection.linker_name,
        "isConnectionAvailable": all(d["result"] == "success" for d in details),
        "reportStartTimeUtc": started,
        "reportEndTimeUtc": ended,
        "sourceId": connection.cluster.id,
        "targetId": connection.target_id,
        "authType": connection.auth_type.value,
        "validationDetail": details,
    }


def _now(context: df.DurableOrchestrationContext) -> str:
    moment: datetime = context.current_utc_datetime
    return moment.isoformat().replace("+00:00", "Z")


@bp.orchestration_trigger(context_name="context", orchestration="validate")
def validate_orchestrator(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Observe the linker's cluster and report each check (failed reads retried as in every workflow)."""
    return (yield from orchestration_episode(context, "validate", _validate_steps(context)))


def _validate_steps(
    context: df.DurableOrchestrationContext,
) -> Generator[Any, Any, dict[str, Any]]:
    """The steps of `validate`, run once per episode through `orchestration_episode`."""
    payload = context.get_input() or {}
    linker_id = payload.get("linkerId")
    # Reads only: a busy cluster is not waited for, and an unregistered provider is reported, not registered.
    flow = Flow(context, Policy.from_dict(payload.get("policy")))
    started = _now(context)
    try:
        flow.status("read_registry", 1, str(linker_id))
        record = yield from flow.call(
            Activity.REGISTRY_GET, {"linkerId": linker_id}, handle_busy=False, register_provider=False
        )
        if not record or not record.get("desired"):
            error = {
                "code": "ConnectionNotFound",
                "message": f"No connection {linker_id}.",
                "mitigation": "Create the linker first.",
                "category": "not_found",
            }
            return {"linkerId": linker_id, "provisioningState": "Failed", "error": error}
        connection = Connection.from_stored(record["desired"])
        flow.status(Activity.OBSERVE_CLUSTER, 1, connection.cluster.id)
        observed_data = yield from flow.call(
            Activity.OBSERVE_CLUSTER,
            {"clusterId": connection.cluster.id, "connections": [record["desired"]]},
            handle_busy=False,
            register_provider=False,
        )
    except OrchestrationFailure as failure:  # the activity's classified error, after its retries
        return {"linkerId": linker_id, "provisioningState": "Failed", "error": failure.error.to_dict()}
    details = validation_details(connection, plan.ObservedCluster.from_dict(observed_data))
    flow.status("done", 1, str(linker_id))
    return {
        "linkerId": linker_id,
        "provisioningState": "Succeeded",
        "error": None,
        "validation": validation_result(connection, details, started, _now(context)),
    }
