"""Observe one cluster for reconciliation; the pure plan over the observation finds drift and only drift."""

from __future__ import annotations

from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.models import FederatedIdentityCredential
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import StorageAccountRegenerateKeyParameters
from kubernetes import client as k8s

from activities.cluster import read_cluster
from activities.extension import ensure_extension
from activities.identity import ensure_federated_credential, resolve_identity
from activities.kube_resources import apply_connection_resources
from activities.observe import observe_cluster
from activities.provider import register_provider
from activities.roles import delete_granted_role, ensure_role_assignment
from connector import naming, plan
from connector.model import ClusterRef, Connection, SecretAuth, WorkloadIdentityAuth
from connector.vocabulary import ClientType
from tests.activities.conftest import BLOB, CLUSTER_1, IDENTITY, RG, SUB, World

CLUSTER = ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-1")
BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def secret_connections(count: int) -> list[Connection]:
    return [
        Connection(
            linker_name=f"blob{i}",
            cluster=CLUSTER,
            target_id=BLOB,
            target_kind="storage-blob",
            auth=SecretAuth(),
            client_type=ClientType.PYTHON,
            namespace="apps",
        )
        for i in range(count)
    ]


def workload_connection(world: World) -> Connection:
    msi = world.arm.mgmt_client(ManagedServiceIdentityClient)
    client_id = str(msi.user_assigned_identities.get("rg-demo", "id-demo-workload").client_id)
    return Connection(
        linker_name="blobwi",
        cluster=CLUSTER,
        target_id=BLOB,
        target_kind="storage-blob",
        auth=WorkloadIdentityAuth(client_id=client_id, subscription_id=SUB, identity_resource_id=IDENTITY),
        client_type=ClientType.PYTHON,
        namespace="apps",
    )


def converge(world: World, connections: list[Connection]) -> None:
    """Do what the connect orchestration would, directly."""
    register_provider(SUB, clients=world.clients)
    world.arm.advance(60)
    ensure_extension(CLUSTER_1, clients=world.clients)
    world.arm.advance(300)
    issuer = str(read_cluster(CLUSTER_1, clients=world.clients)["oidcIssuerUrl"])
    for connection in connections:
        if isinstance(connection.auth, WorkloadIdentityAuth):
            identity = resolve_identity(
                connection.auth.client_id, SUB, connection.auth.identity_resource_id, clients=world.clients
            )
            account = naming.service_account_name(connection.auth.client_id)
            ensure_federated_credential(
                str(identity["id"]), CLUSTER_1, issuer, connection.namespace, account, clients=world.clients
            )
            ensure_role_assignment(
                BLOB, str(identity["principalId"]), BLOB_CONTRIBUTOR, clients=world.clients
            )
        apply_connection_resources(connection.to_stored(), clients=world.clients)


def observe(world: World, connections: list[Connection]) -> plan.ObservedCluster:
    data = observe_cluster(CLUSTER_1, [c.to_stored() for c in connections], clients=world.clients)
    return plan.ObservedCluster.from_dict(data)


def test_a_fresh_cluster_needs_everything(world: World) -> None:
    connections = [*secret_connections(2), workload_connection(world)]
    observed = observe(world, connections)
    assert observed.provider_registration_state == "NotRegistered"
    assert observed.extension_provisioning_state is None
    names = [a.name for a in plan.compute_plan(connections, observed)]
    assert names[:2] == ["RegisterProvider", "InstallExtension"]
    assert names.count("ApplySecret") == 3
    assert "CreateFederatedCredential" in names and "AssignRole" in names and "ApplyServiceAccount" in names


def test_a_converged_cluster_has_an_empty_plan_and_observing_writes_nothing(world: World) -> None:
    connections = [*secret_connections(2), workload_connection(world)]
    converge(world, connections)
    world.clear_journals()
    observed = observe(world, connections)
    assert plan.compute_plan(connections, observed) == ()
    assert world.writes() == []
    assert observed.extension_provisioning_state == "Succeeded"
    assert {s.name for s in observed.secrets} == {"sc-blob0-secret", "sc-blob1-secret", "sc-blobwi-secret"}


def test_observe_calls_do_not_grow_with_connections_sharing_namespace_and_target(world: World) -> None:
    few = [*secret_connections(2), workload_connection(world)]
    many = [*secret_connections(8), workload_connection(world)]
    converge(world, many)
    world.clear_journals()
    observe(world, few)
    calls_few = [(e["method"], e["route"]) for e in world.all_calls()]
    world.clear_journals()
    observe(world, many)
    calls_many = [(e["method"], e["route"]) for e in world.all_calls()]
    assert calls_many == calls_few
    # extension, cluster, Secrets list, ServiceAccounts list, identity, credentials, role assignments,
    # target properties and its keys: nine reads for the whole cluster.
    assert len(calls_many) == 9


def test_drift_is_found_rotated_key_and_deleted_secret(world: World) -> None:
    connections = secret_connections(2)
    converge(world, connections)
    storage = world.arm.mgmt_client(StorageManagementClient)
    storage.storage_accounts.regenerate_key(
        "rg-demo", "stdemo0001", StorageAccountRegenerateKeyParameters(key_name="key1")
    )
    actions = plan.compute_plan(connections, observe(world, connections))
    assert sorted(a.to_dict()["secret_name"] for a in actions) == ["sc-blob0-secret", "sc-blob1-secret"]

    for connection in connections:
        apply_connection_resources(connection.to_stored(), clients=world.clients)
    assert plan.compute_plan(connections, observe(world, connections)) == ()

    core = k8s.CoreV1Api(world.arm.kube.client_for(world.kube_key(CLUSTER_1)))
    core.delete_namespaced_secret("sc-blob1-secret", "apps")
    actions = plan.compute_plan(connections, observe(world, connections))
    assert [a.to_dict() for a in actions] == [
        {
            "action": "ApplySecret",
            "linker_id": connections[1].linker_id,
            "namespace": "apps",
            "secret_name": "sc-blob1-secret",
        }
    ]


def test_a_role_inherited_from_the_resource_group_is_no_drift(world: World) -> None:
    connection = workload_connection(world)
    converge(world, [connection])
    assert isinstance(connection.auth, WorkloadIdentityAuth)
    identity = resolve_identity(connection.auth.client_id, SUB, IDENTITY, clients=world.clients)
    principal, clients = str(identity["principalId"]), world.clients
    # The grant moves up to the resource group: the identity keeps its access to the blob service.
    assert ensure_role_assignment(RG, principal, BLOB_CONTRIBUTOR, clients=clients)["action"] == "create"
    assert delete_granted_role(BLOB, principal, BLOB_CONTRIBUTOR, clients=clients)["deleted"]
    assert ensure_role_assignment(BLOB, principal, BLOB_CONTRIBUTOR, clients=clients)["action"] == "none"
    world.clear_journals()

    observed = observe(world, [connection])

    assert plan.compute_plan([connection], observed) == ()
    assert world.writes() == []


def test_a_credential_whose_issuer_lost_its_trailing_slash_is_drift_and_is_repaired(world: World) -> None:
    connection = workload_connection(world)
    converge(world, [connection])
    assert isinstance(connection.auth, WorkloadIdentityAuth)
    issuer = str(read_cluster(CLUSTER_1, clients=world.clients)["oidcIssuerUrl"])
    assert issuer.endswith("/")
    account = naming.service_account_name(connection.auth.client_id)
    name = naming.federated_credential_name(CLUSTER, connection.namespace, account)
    msi = world.arm.mgmt_client(ManagedServiceIdentityClient)
    # Entra compares issuers exactly: this credential no longer matches the cluster's tokens.
    msi.federated_identity_credentials.create_or_update(
        "rg-demo",
        "id-demo-workload",
        name,
        FederatedIdentityCredential(
            issuer=issuer.rstrip("/"),
            subject=naming.service_account_subject(connection.namespace, account),
            audiences=[naming.FEDERATED_CREDENTIAL_AUDIENCE],
        ),
    )

    drift = plan.compute_plan([connection], observe(world, [connection]))
    assert [a.name for a in drift] == ["CreateFederatedCredential"]

    repaired = ensure_federated_credential(
        IDENTITY, CLUSTER_1, issuer, connection.namespace, account, clients=world.clients
    )
    assert repaired["action"] == "update" and repaired["name"] == name
    assert plan.compute_plan([connection], observe(world, [connection])) == ()
