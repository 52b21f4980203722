"""Secret hygiene: keys issued by the ARM emulator reach the cluster's Secrets and nothing else.

Every activity runs through its Durable registration (what the host calls), on success and failure paths,
with keys of every kind in play. Return values, exception texts (as the orchestrator would see them) and log
records (captured at DEBUG) are scanned for every key the emulator issued. The `world` fixture also scans the
log records of every other test in this folder.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client as k8s

from connector.model import (
    LINKER_PROVIDER_SEGMENT,
    ClusterRef,
    Connection,
    SecretAuth,
    SecretKind,
    WorkloadIdentityAuth,
)
from connector.vocabulary import ClientType
from sealing import linker_context, seal
from tests.activities.conftest import (
    CLUSTER_1,
    CLUSTER_2,
    IDENTITY,
    POSTGRES_DB,
    RG,
    SEALING_KEY,
    SUB,
    World,
    issued_keys,
    leaked_keys,
    log_texts,
)

CLUSTER = ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-1")
P = f"{RG}/providers"
SECRET_TARGETS = {
    "storage-blob": f"{P}/Microsoft.Storage/storageAccounts/stdemo0001/blobServices/default",
    "storage-queue": f"{P}/Microsoft.Storage/storageAccounts/stdemo0001/queueServices/default",
    "appconfig": f"{P}/Microsoft.AppConfiguration/configurationStores/appcs-demo-0001",
    "cosmos-sql": f"{P}/Microsoft.DocumentDB/databaseAccounts/cosmos-demo-0001/sqlDatabases/appdb",
    "redis": f"{P}/Microsoft.Cache/Redis/redis-demo-0001",
    "servicebus": f"{P}/Microsoft.ServiceBus/namespaces/sb-demo-0001",
    "eventhub": f"{P}/Microsoft.EventHub/namespaces/evhns-demo-0001",
    "cognitiveservices": f"{P}/Microsoft.CognitiveServices/accounts/oai-demo-0001",
}
RAW_PASSWORD = "Raw-P@ssw0rd-never-logged"


class Recorder:
    """Runs Durable activities by name and keeps every output and failure text."""

    def __init__(self, activities: dict[str, Any]) -> None:
        self.activities = activities
        self.texts: list[str] = []

    def __call__(self, name: str, payload: dict[str, Any], *, fails: bool = False) -> Any:
        function: Callable[..., Any] = self.activities[name].user_function
        try:
            result = function(payload=payload)
        except Exception as exc:
            # The text the Durable host builds for the orchestrator, and the exception as a log would show it.
            self.texts += [f"Activity function '{name}' failed: {type(exc).__name__}: {exc}", repr(exc)]
            if not fails:
                raise
            return None
        assert not fails, f"{name} was expected to fail"
        self.texts.append(json.dumps(result))
        return result


@pytest.fixture
def run(durable: dict[str, Any]) -> Recorder:
    return Recorder(durable)


def connection(kind: str, target: str, **auth: Any) -> dict[str, Any]:
    return Connection(
        linker_name=kind.replace("-", ""),
        cluster=CLUSTER,
        target_id=target,
        target_kind=kind,
        auth=auth.pop("auth", SecretAuth()),
        client_type=ClientType.PYTHON,
        namespace="apps",
    ).to_stored()


def cluster_secret_values(world: World) -> list[str]:
    core = k8s.CoreV1Api(world.arm.kube.client_for(world.kube_key(CLUSTER_1)))
    values = []
    for secret in core.list_namespaced_secret("apps").items:
        values += [base64.b64decode(v).decode() for v in (secret.data or {}).values()]
    return values


def test_no_issued_key_leaves_the_activities(
    world: World, run: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    run("register_provider", {"subscriptionId": SUB})
    world.arm.advance(60)
    run("ensure_extension", {"clusterId": CLUSTER_1})
    world.arm.advance(300)
    run("read_extension", {"clusterId": CLUSTER_1})
    cluster = run("read_cluster", {"clusterId": CLUSTER_1})
    run("enable_cluster_features", {"clusterId": CLUSTER_2, "workloadIdentity": True})

    stored = [connection(kind, target) for kind, target in SECRET_TARGETS.items()]
    for item in stored:
        run("apply_connection_resources", {"connection": item})
    password = Connection(
        linker_name="pg",
        cluster=CLUSTER,
        target_id=POSTGRES_DB,
        target_kind="postgres-flexible",
        auth=SecretAuth(
            kind=SecretKind.RAW_VALUE,
            user_name="app",
            sealed_secret=seal(
                RAW_PASSWORD, SEALING_KEY, context=linker_context(CLUSTER.id + LINKER_PROVIDER_SEGMENT + "pg")
            ),
            secret_fingerprint="f",
        ),
        client_type=ClientType.PYTHON,
        namespace="apps",
    ).to_stored()
    run("apply_connection_resources", {"connection": password})

    identity = run(
        "resolve_identity",
        {"clientId": "", "subscriptionId": SUB, "identityResourceId": IDENTITY},
        fails=True,
    )
    from azure.mgmt.msi import ManagedServiceIdentityClient

    client_id = str(
        world.arm.mgmt_client(ManagedServiceIdentityClient)
        .user_assigned_identities.get("rg-demo", "id-demo-workload")
        .client_id
    )
    identity = run(
        "resolve_identity", {"clientId": client_id, "subscriptionId": SUB, "identityResourceId": IDENTITY}
    )
    run(
        "ensure_federated_credential",
        {
            "identityId": IDENTITY,
            "clusterId": CLUSTER_1,
            "issuerUrl": cluster["oidcIssuerUrl"],
            "namespace": "apps",
            "serviceAccount": f"sc-account-{client_id}",
        },
    )
    run(
        "ensure_role_assignment",
        {
            "scope": SECRET_TARGETS["storage-blob"],
            "principalId": identity["principalId"],
            "roleGuid": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        },
    )
    wi = connection(
        "storage-blob",
        SECRET_TARGETS["storage-blob"],
        auth=WorkloadIdentityAuth(client_id=client_id, subscription_id=SUB, identity_resource_id=IDENTITY),
    )
    wi["linker_name"] = "blobwi"
    run("apply_connection_resources", {"connection": wi})
    run("observe_cluster", {"clusterId": CLUSTER_1, "connections": [*stored, password, wi]})
    run("collect_diagnostics", {"clusterId": CLUSTER_1})

    # Failure paths: a list-keys call that keeps failing, a forbidden Secret write, a target that is gone.
    world.fault("/listKeys", method="POST", status=500, times=10)
    run("apply_connection_resources", {"connection": stored[0]}, fails=True)
    world.arm.admin.clear_faults()
    world.kube_admin.add_fault("/secrets/", method="PATCH", status=403, times=1)
    run("apply_connection_resources", {"connection": stored[1]}, fails=True)
    gone = connection("redis", SECRET_TARGETS["redis"].replace("redis-demo-0001", "redis-gone"))
    run("apply_connection_resources", {"connection": gone}, fails=True)
    run("delete_connection_resources", {"connection": stored[0]})

    keys = issued_keys(world.arm)
    values = cluster_secret_values(world)
    # The keys were really in play: every secret-auth Secret on the cluster carries one.
    in_cluster = leaked_keys(keys, values)
    assert len(in_cluster) >= len(SECRET_TARGETS) - 1
    assert any(RAW_PASSWORD in v for v in values)

    logs = log_texts(caplog.records)
    assert any("listKeys" in text for text in logs), "DEBUG logging of the SDK calls was captured"
    assert leaked_keys(keys, run.texts) == set()
    assert leaked_keys(keys, logs) == set()
    assert not any(RAW_PASSWORD in text for text in run.texts + logs)


def test_the_scanner_finds_a_key_where_there_is_one(world: World) -> None:
    keys = issued_keys(world.arm)
    some_key = sorted(keys)[0]
    assert leaked_keys(keys, ["nothing here"]) == set()
    assert leaked_keys(keys, [f"AccountKey={some_key};"]) == {some_key}
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %s", (some_key,), None)
    assert leaked_keys(keys, log_texts([record])) == {some_key}
