"""Whole flows: calls per connection on the happy path, the Entra kubeconfig path, the Durable interface."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from kubernetes import client as k8s

from activities.clients import AKS_SERVER_SCOPE, Clients, kube_client_from_kubeconfig
from activities.extension import ensure_extension, read_extension
from activities.kube_resources import apply_connection_resources
from activities.provider import register_provider
from connector.errors import Category, parse_failure_text
from connector.model import ClusterRef, Connection, SecretAuth
from connector.vocabulary import ClientType
from tests.activities.conftest import BLOB, CLUSTER_1, IDENTITY, SUB, World, make_settings

CLUSTER = ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-1")
BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def secret_connection(name: str) -> Connection:
    return Connection(
        linker_name=name,
        cluster=CLUSTER,
        target_id=BLOB,
        target_kind="storage-blob",
        auth=SecretAuth(),
        client_type=ClientType.PYTHON,
        namespace="default",
    )


def ready_cluster_with_extension(world: World) -> None:
    register_provider(SUB, clients=world.clients)
    world.arm.advance(60)
    ensure_extension(CLUSTER_1, clients=world.clients)
    world.arm.advance(300)
    world.clear_journals()


def calls(world: World) -> list[str]:
    return [f"{e['method']} {e['route']}" for e in world.all_calls()]


def test_secret_auth_on_a_ready_cluster_with_the_extension_takes_five_calls(world: World) -> None:
    """The README's figure: extension check, target properties, list keys, cluster credential, apply."""
    ready_cluster_with_extension(world)
    fresh = Clients(make_settings(world.arm), sleeper=world.waits.append)  # a new process: empty caches
    assert read_extension(CLUSTER_1, clients=fresh)["provisioningState"] == "Succeeded"
    apply_connection_resources(secret_connection("conn1").to_stored(), clients=fresh)
    first = calls(world)
    assert len(first) == 5, first
    assert [c.split(" ")[0] for c in first] == ["GET", "GET", "POST", "POST", "PATCH"]

    # A second connection on the same cluster reuses the cached Kubernetes client: four calls.
    world.clear_journals()
    read_extension(CLUSTER_1, clients=fresh)
    apply_connection_resources(secret_connection("conn2").to_stored(), clients=fresh)
    assert len(calls(world)) == 4


def test_workload_identity_on_a_ready_cluster_takes_eleven_calls(world: World) -> None:
    """Extension, cluster, identity, credential list+put, role list+put, target, kubeconfig, 2 applies."""
    from azure.mgmt.msi import ManagedServiceIdentityClient

    from activities.cluster import read_cluster
    from activities.identity import ensure_federated_credential, resolve_identity
    from activities.roles import ensure_role_assignment
    from connector.model import WorkloadIdentityAuth

    msi = world.arm.mgmt_client(ManagedServiceIdentityClient)
    client_id = str(msi.user_assigned_identities.get("rg-demo", "id-demo-workload").client_id)
    ready_cluster_with_extension(world)
    fresh = Clients(make_settings(world.arm), sleeper=world.waits.append)
    read_extension(CLUSTER_1, clients=fresh)
    issuer = str(read_cluster(CLUSTER_1, clients=fresh)["oidcIssuerUrl"])
    identity = resolve_identity(client_id, SUB, IDENTITY, clients=fresh)
    account = f"sc-account-{client_id}"
    ensure_federated_credential(IDENTITY, CLUSTER_1, issuer, "default", account, clients=fresh)
    ensure_role_assignment(BLOB, str(identity["principalId"]), BLOB_CONTRIBUTOR, clients=fresh)
    connection = secret_connection("wiconn").model_copy(
        update={
            "auth": WorkloadIdentityAuth(
                client_id=client_id, subscription_id=SUB, identity_resource_id=IDENTITY
            )
        }
    )
    apply_connection_resources(connection.to_stored(), clients=fresh)
    assert len(calls(world)) == 11, calls(world)
    assert len(world.writes()) == 4  # credential, role assignment, ServiceAccount, Secret


# ---- Entra-enabled clusters: a bearer token for the AKS server app, not kubelogin ------------------------


class ScopedCredential:
    """Hands out one token for the AKS server application scope only, counting requests."""

    def __init__(self, token: str, lifetime: int) -> None:
        self.token, self.lifetime, self.requests = token, lifetime, 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        assert scopes == (AKS_SERVER_SCOPE,), scopes
        self.requests += 1
        return AccessToken(self.token, int(time.time()) + self.lifetime)


def entra_kubeconfig(world: World) -> tuple[dict[str, Any], str]:
    key = world.kube_key(CLUSTER_1)
    config = world.arm.kube.kubeconfig(key)
    token = config["users"][0]["user"].pop("token")
    config["users"][0]["user"]["exec"] = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "kubelogin",
        "args": ["get-token", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"],
    }
    return config, token


def test_entra_kubeconfig_uses_a_token_for_the_aks_server_app(world: World) -> None:
    config, token = entra_kubeconfig(world)
    credential = ScopedCredential(token, lifetime=3600)
    api = kube_client_from_kubeconfig(config, credential)
    core = k8s.CoreV1Api(api)
    core.list_namespace()
    core.list_namespace()
    assert credential.requests == 1  # cached while valid


def test_entra_token_is_refreshed_before_it_expires(world: World) -> None:
    config, token = entra_kubeconfig(world)
    credential = ScopedCredential(token, lifetime=60)  # inside the refresh margin: renewed on every call
    core = k8s.CoreV1Api(kube_client_from_kubeconfig(config, credential))
    core.list_namespace()
    core.list_namespace()
    assert credential.requests == 2


def test_a_wrong_entra_token_is_unauthorized(world: World) -> None:
    config, _ = entra_kubeconfig(world)
    core = k8s.CoreV1Api(kube_client_from_kubeconfig(config, ScopedCredential("wrong", 3600)))
    with pytest.raises(k8s.ApiException) as caught:
        core.list_namespace()
    assert caught.value.status == 401


# ---- the Durable interface ------------------------------------------------------------------------------


def test_every_activity_is_registered_with_its_payload_binding(durable: dict[str, Any]) -> None:
    from activities.durable import ACTIVITY_NAMES

    assert set(ACTIVITY_NAMES) == set(durable)  # connector.boundary.Activity names every registration
    assert all(durable[name].input_binding_name == "payload" for name in ACTIVITY_NAMES)


def test_activity_output_is_json_and_a_failure_parses_back(world: World, durable: dict[str, Any]) -> None:
    run = {name: info.user_function for name, info in durable.items()}
    state = run["read_cluster"](payload={"clusterId": CLUSTER_1})
    assert json.loads(json.dumps(state))["provisioningState"] == "Succeeded"

    with pytest.raises(Exception) as caught:
        run["ensure_extension"](payload={"clusterId": CLUSTER_1})
    # What the Durable host hands the orchestrator (reference durable-protocol.md §4).
    reason = f"Activity function 'ensure_extension' failed: {type(caught.value).__name__}: {caught.value}"
    details = json.dumps({"Message": str(caught.value), "ClassName": "Exception"})
    parsed = parse_failure_text(f"{reason} \n {details}")
    assert parsed is not None
    assert parsed.category is Category.PROVIDER_NOT_REGISTERED
    assert parsed.code == "MissingSubscriptionRegistration"


def test_bad_activity_input_is_invalid(durable: dict[str, Any]) -> None:
    with pytest.raises(Exception) as caught:
        durable["read_cluster"].user_function(payload={})
    parsed = parse_failure_text(str(caught.value))
    assert parsed is not None and parsed.code == "ActivityInputInvalid"
    with pytest.raises(Exception) as bad_id:
        durable["read_cluster"].user_function(payload={"clusterId": "/subscriptions/x/nothing"})
    invalid = parse_failure_text(str(bad_id.value))
    assert invalid is not None and invalid.category is Category.INVALID


def test_an_orchestrator_parses_the_failure_back_through_the_durable_engine(
    world: World, durable: Any
) -> None:
    """Through devhost's Durable engine: the activity's ConnectorFailure reaches the orchestrator as text."""
    import asyncio

    from devhost.discovery import index_app
    from devhost.durable.harness import DurableHarness
    from tests.activities import activities_app

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with DurableHarness(index_app(activities_app.app)) as hz:
            client = hz.client()
            failing = await client.start_new(
                "probe_activity",
                client_input={"name": "ensure_extension", "payload": {"clusterId": CLUSTER_1}},
            )
            working = await client.start_new(
                "probe_activity", client_input={"name": "read_cluster", "payload": {"clusterId": CLUSTER_1}}
            )
            return (await hz.wait_for(failing))["output"], (await hz.wait_for(working))["output"]

    failed, succeeded = asyncio.run(scenario())
    assert failed["error"]["category"] == "providerNotRegistered"
    assert failed["error"]["code"] == "MissingSubscriptionRegistration"
    assert "az provider register" in failed["error"]["mitigation"]
    assert succeeded["output"]["provisioningState"] == "Succeeded"
