"""`connect` end to end: the real function_app under the Durable harness, on the emulators and Azurite."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from pydantic import SecretStr

from connector import naming
from connector.model import Connection, SecretAuth, SecretKind, secret_fingerprint
from connector.vocabulary import ClientType
from devhost.durable.harness import DurableHarness
from orchestrators.flow import READY_TIMEOUT_MESSAGE
from sealing import linker_context, seal
from tests.orchestrations.conftest import (
    BLOB,
    CLUSTER_1,
    CLUSTER_2,
    POLICY,
    POSTGRES_DB,
    REF_1,
    SUB,
    TENANT,
    Env,
    LinkedClock,
    Run,
    issued_keys,
    keyvault_csi_connection,
    register_provider_now,
    secret_connection,
    storage_key,
    workload_connection,
)

JOB_LOG_LINE = "ERROR sc-operator: cannot reach scaksextension.azurecr.io, exiting with code 1"


def _succeeded(env: Env, run: Run, linker_id: str) -> None:
    assert run.status["runtimeStatus"] == "Completed", run.status
    assert run.output == {
        "linkerId": linker_id,
        "provisioningState": "Succeeded",
        "error": None,
        "event": {"published": False, "reason": "SERVICEBUS_EVENTS_QUEUE is not set"},
    }
    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == "Succeeded" and not record["lastError"]


def test_first_secret_connection_registers_the_provider_installs_the_extension_and_writes_the_secret(
    env: Env,
) -> None:
    linker_id = env.put_connection(secret_connection())
    run = env.connect(linker_id)

    _succeeded(env, run, linker_id)
    secret = env.secret(naming.secret_name("blob1"))
    assert f"AccountKey={storage_key(env)}" in secret["AZURE_STORAGEBLOB_CONNECTIONSTRING"]
    writes = env.writes()
    register = f"POST /subscriptions/{SUB}/providers/Microsoft.KubernetesConfiguration/register"
    assert register in writes
    assert any(w.startswith("PUT") and w.endswith("/extensions/sc-extension") for w in writes)
    progress = {k: run.status["customStatus"][k] for k in ("step", "attempt", "detail")}
    assert progress == {"step": "done", "attempt": 0, "detail": "Succeeded"}
    # No key issued by ARM is anywhere in the orchestration's input, output, custom status or history.
    text = json.dumps(run.status)
    assert "historyEvents" in run.status and CLUSTER_1 in text
    assert not {k for k in issued_keys(env.arm) if k in text}


def test_workload_identity_enables_the_cluster_features_and_trusts_the_service_account(env: Env) -> None:
    connection = workload_connection(env)  # aks-demo-2: OIDC issuer and workload identity off
    client_id = connection.auth.client_id  # type: ignore[union-attr]
    linker_id = env.put_connection(connection)
    run = env.connect(linker_id)

    _succeeded(env, run, linker_id)
    cluster = env.arm.mgmt_client(ContainerServiceClient).managed_clusters.get("rg-demo", "aks-demo-2")
    assert cluster.oidc_issuer_profile.enabled and cluster.security_profile.workload_identity.enabled
    account_name = naming.service_account_name(client_id)
    account = env.core(CLUSTER_2).read_namespaced_service_account(account_name, "apps")
    assert account.metadata is not None and account.metadata.annotations is not None
    assert account.metadata.annotations["azure.workload.identity/client-id"] == client_id
    msi = env.arm.mgmt_client(ManagedServiceIdentityClient)
    credentials = list(msi.federated_identity_credentials.list("rg-demo", "id-demo-workload"))
    assert [(c.issuer, c.subject) for c in credentials] == [
        (cluster.oidc_issuer_profile.issuer_url, f"system:serviceaccount:apps:{account_name}")
    ]
    principal = msi.user_assigned_identities.get("rg-demo", "id-demo-workload").principal_id
    authz = env.arm.mgmt_client(AuthorizationManagementClient)
    roles = [
        a.role_definition_id.rsplit("/", 1)[-1]
        for a in authz.role_assignments.list_for_scope(BLOB, filter=f"principalId eq '{principal}'")
    ]
    assert "ba92f5b4-2d11-453d-a403-e96b0029c9fe" in roles  # Storage Blob Data Contributor
    assert (
        env.secret(naming.secret_name("blobwi"), "apps", CLUSTER_2)["AZURE_STORAGEBLOB_CLIENTID"] == client_id
    )


def test_key_vault_with_the_csi_driver_enables_the_add_on_and_writes_its_client_id(env: Env) -> None:
    linker_id = env.put_connection(keyvault_csi_connection())
    run = env.connect(linker_id)

    _succeeded(env, run, linker_id)
    cluster = env.arm.mgmt_client(ContainerServiceClient).managed_clusters.get("rg-demo", "aks-demo-1")
    addon = cluster.addon_profiles["azureKeyvaultSecretsProvider"]
    assert addon.enabled
    secret = env.secret(naming.secret_name("kvcsi"))
    assert secret == {
        "AZURE_KEYVAULT_TENANTID": TENANT,
        "AZURE_KEYVAULT_NAME": "kv-demo-0001",
        "AZURE_KEYVAULT_CLIENTID": addon.identity.client_id,
    }


def test_a_cluster_updating_for_20_minutes_is_waited_out_with_growing_waits_and_no_write(env: Env) -> None:
    register_provider_now(env)
    env.arm.admin.call("POST", "/arm/busy", {"resourceId": CLUSTER_1, "seconds": 1200})
    busy_from = env.arm.clock.now()
    env.clear_journals()
    linker_id = env.put_connection(secret_connection())
    run = env.connect(linker_id)

    _succeeded(env, run, linker_id)
    waits = run.waits()
    # Doubling from 5 s, capped at 160 s (the test policy), until the cluster is Succeeded 20 minutes later.
    assert waits[:8] == [5, 10, 20, 40, 80, 160, 160, 160]
    cluster_waits = waits[: next(i for i, total in enumerate(_running_sums(waits)) if total >= 1200) + 1]
    assert all(w <= 160 for w in cluster_waits) and sum(cluster_waits) >= 1200
    cluster_writes = [
        e
        for e in env.arm_calls()
        if e["method"] not in ("GET", "HEAD")
        and e["path"].lower().startswith(CLUSTER_1.lower())
        and not e["path"].lower().endswith("/listclusterusercredential")
    ]
    assert cluster_writes, "the extension is installed once the cluster is ready"
    assert min(e["time"] for e in cluster_writes) >= busy_from + 1200
    assert all(e["status"] != 409 for e in cluster_writes)


def _running_sums(values: list[float]) -> list[float]:
    total, sums = 0.0, []
    for value in values:
        total += value
        sums.append(total)
    return sums


def test_403_on_the_role_assignment_fails_at_once_naming_action_scope_and_mitigation(env: Env) -> None:
    action = "Microsoft.Authorization/roleAssignments/write"
    env.arm.admin.call("POST", "/arm/deny", {"action": action, "scope": BLOB, "method": "PUT"})
    linker_id = env.put_connection(workload_connection(env, cluster=REF_1))
    run = env.connect(linker_id)

    assert run.status["runtimeStatus"] == "Completed"
    output = run.output
    assert output["provisioningState"] == "Failed"
    error = output["error"]
    assert error["code"] == "AuthorizationFailed"
    assert error["action"] == action and error["scope"].lower() == BLOB.lower()
    assert action in error["mitigation"]
    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == "Failed"
    assert record["lastError"]["code"] == "AuthorizationFailed" and record["lastError"]["action"] == action
    assert record["lastError"]["mitigation"] == error["mitigation"]
    # At once: one attempt, no retry timer after it, and no Kubernetes resource written.
    role_puts = [e for e in env.arm_calls() if e["method"] == "PUT" and "/roleAssignments/" in e["path"]]
    assert len(role_puts) == 1
    assert not [e for e in env.kube_calls() if e["method"] == "PATCH" and "/secrets/" in e["path"]]


def test_a_failed_extension_install_fails_the_linker_with_the_sc_job_logs(env: Env) -> None:
    env.arm.admin.call(
        "POST",
        "/arm/install-failures",
        {"clusterId": CLUSTER_1, "logs": f"INFO sc-operator: start\n{JOB_LOG_LINE}\n"},
    )
    linker_id = env.put_connection(secret_connection())
    run = env.connect(linker_id)

    error = run.output["error"]
    assert run.output["provisioningState"] == "Failed"
    assert error["code"] == "ExtensionOperationFailed"
    assert READY_TIMEOUT_MESSAGE in error["message"]
    assert JOB_LOG_LINE in error["diagnostics"]["jobLogs"]["lines"]
    assert error["diagnostics"]["extension"]["provisioningState"] == "Failed"
    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == "Failed"
    assert JOB_LOG_LINE in record["lastError"]["diagnostics"]["jobLogs"]["lines"]
    assert "kubectl logs job/sc-job -n sc-system" in record["lastError"]["mitigation"]
    # No Secret was written for a connection whose extension never came up.
    assert not [e for e in env.kube_calls() if e["method"] == "PATCH" and "/secrets/" in e["path"]]


def test_throttling_waits_as_long_as_retry_after_asks_and_transient_failures_back_off(env: Env) -> None:
    register_provider_now(env)
    too_many = {"error": {"code": "TooManyRequests", "message": "Too many requests, retry later."}}
    env.arm.admin.add_fault(
        "/extensions/sc-extension",
        method="PUT",
        status=429,
        body=too_many,
        headers={"Retry-After": "90"},
        times=1,
    )
    env.kube_admin.add_fault("/secrets/", method="PATCH", status=500, times=2)
    linker_id = env.put_connection(secret_connection())
    run = env.connect(linker_id)

    _succeeded(env, run, linker_id)
    waits = run.waits()
    assert waits[0] == 90  # the throttled install, retried after Retry-After (longer than the backoff)
    assert waits[-2:] == [5, 10]  # the Secret's apply, retried with backoff after two 500s


def test_a_busy_answer_to_a_later_write_goes_back_to_waiting_for_the_cluster(env: Env) -> None:
    register_provider_now(env)
    busy = {
        "error": {"code": "OperationNotAllowed", "message": "Operation is not allowed: cluster is updating."}
    }
    env.arm.admin.add_fault("/extensions/sc-extension", method="PUT", status=409, body=busy, times=1)
    linker_id = env.put_connection(secret_connection())
    run = env.connect(linker_id)

    _succeeded(env, run, linker_id)
    calls = [
        (e["method"], e["status"], e["path"].rsplit("/", 1)[-1])
        for e in env.arm_calls()
        if e["path"].lower().startswith(CLUSTER_1.lower())
    ]
    refused = calls.index(("PUT", 409, "sc-extension"))
    installed = next(i for i, (method, status, _) in enumerate(calls) if method == "PUT" and status < 300)
    assert refused < installed
    assert ("GET", 200, "aks-demo-1") in calls[refused:installed]  # the cluster was checked again in between


def test_a_password_from_the_request_reaches_the_secret_and_nothing_else(env: Env) -> None:
    password = "Pg-p4ssw0rd-" + "7f3a9c1e"
    key = base64.b64decode(os.environ["SECRET_SEALING_KEY"])
    raw = Connection(
        linker_name="pg1",
        cluster=REF_1,
        target_id=POSTGRES_DB,
        target_kind="postgres-flexible",
        auth=SecretAuth(kind=SecretKind.RAW_VALUE, user_name="appuser", value=SecretStr(password)),
        client_type=ClientType.PYTHON,
        namespace="default",
    )
    token = seal(password, key, context=linker_context(raw.linker_id))
    sealed = raw.with_sealed_secret(token, secret_fingerprint(password, key))
    linker_id = env.put_connection(sealed)
    run = env.connect(linker_id)

    _succeeded(env, run, linker_id)
    assert any(password in value for value in env.secret(naming.secret_name("pg1")).values())
    assert password not in json.dumps(run.status)
    assert password not in json.dumps(env.record(linker_id))


def test_progress_is_published_as_custom_status_while_waiting(env: Env) -> None:
    register_provider_now(env)
    env.arm.admin.call("POST", "/arm/busy", {"resourceId": CLUSTER_1, "seconds": 600})
    linker_id = env.put_connection(secret_connection())

    async def scenario() -> list[Any]:
        async with DurableHarness(env.index, clock=LinkedClock(env.arm.clock)) as harness:
            await harness.client().start_new(
                "connect", "op-progress", {"linkerId": linker_id, "policy": POLICY}
            )
            seen = []
            for _ in range(3):
                await harness.advance(30)
                status = await harness.engine.get_status("op-progress")
                assert status is not None
                seen.append(status["customStatus"])
            return seen

    seen = asyncio.run(scenario())
    assert all(
        s["step"] == "waitForCluster" and s["detail"] == "cluster aks-demo-1 is Updating" for s in seen
    )
    assert [s["attempt"] for s in seen] == sorted(s["attempt"] for s in seen) and seen[-1]["attempt"] > 0


def test_an_extension_that_never_becomes_ready_times_out_with_diagnostics(env: Env) -> None:
    env.arm.admin.call("POST", "/arm/settings", {"extensionInstallSeconds": 86400})
    linker_id = env.put_connection(secret_connection())
    run = env.connect(linker_id, extensionReadyTimeoutSeconds=600)

    error = run.output["error"]
    assert run.output["provisioningState"] == "Failed"
    assert error["code"] == "OperationTimedOut" and error["category"] == "timedOut"
    assert error["message"].startswith(READY_TIMEOUT_MESSAGE)
    assert error["diagnostics"]["extension"]["provisioningState"] in ("Creating", "Installing", "Pending")
    record = env.record(linker_id)
    assert record is not None and record["lastError"]["code"] == "OperationTimedOut"
    # Growing polls, the last one shortened so that the final check falls on the 600 s budget exactly.
    assert run.waits()[-8:] == [5, 10, 20, 40, 80, 160, 160, 125]


def test_the_provider_arm_names_as_unregistered_is_the_one_registered(env: Env) -> None:
    # The federated-credential write answers that Microsoft.ManagedIdentity is not registered (once).
    message = (
        "The subscription is not registered to use namespace 'Microsoft.ManagedIdentity'. "
        "See https://aka.ms/rps-not-found for how to register subscriptions."
    )
    env.arm.admin.add_fault(
        r".*/federatedIdentityCredentials/.*",
        method="PUT",
        status=409,
        times=1,
        body={"error": {"code": "MissingSubscriptionRegistration", "message": message}},
    )
    linker_id = env.put_connection(workload_connection(env))
    run = env.connect(linker_id)

    assert run.output["provisioningState"] == "Succeeded", run.output
    # The emulator's subscription has it Registered already, so the provider step reads it and writes nothing;
    # what matters is which provider it looked at.
    provider_reads = {
        e["path"] for e in env.arm_calls() if e["method"] == "GET" and e["path"].count("/") == 4
    }
    assert f"/subscriptions/{SUB}/providers/Microsoft.ManagedIdentity" in provider_reads, provider_reads
