"""The connection's Kubernetes resources on the kube emulator, with keys fetched from the ARM emulator."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import StorageAccountRegenerateKeyParameters
from kubernetes import client as k8s

from activities.clients import Clients
from activities.kube_resources import apply_connection_resources, delete_connection_resources
from connector.errors import Category, ConnectorFailure
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
    BLOB,
    CLUSTER_1,
    POSTGRES_DB,
    SEALING_KEY,
    STORAGE,
    SUB,
    World,
    make_settings,
)

CLUSTER = ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-1")


def blob_secret_connection(name: str = "blobconn", namespace: str = "apps", target: str = BLOB) -> Connection:
    """A storage-blob connection with automatic keys."""
    return Connection(
        linker_name=name,
        cluster=CLUSTER,
        target_id=target,
        target_kind="storage-blob",
        auth=SecretAuth(),
        client_type=ClientType.PYTHON,
        namespace=namespace,
    )


def storage_key(world: World, which: int = 0) -> str:
    storage = world.arm.mgmt_client(StorageManagementClient)
    listed = storage.storage_accounts.list_keys("rg-demo", "stdemo0001").as_dict()
    return str(listed["keys"][which]["value"])


def core(world: World) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(world.arm.kube.client_for(world.kube_key(CLUSTER_1)))


def secret_data(world: World, namespace: str, name: str) -> dict[str, str]:
    secret = core(world).read_namespaced_secret(name, namespace)
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


def test_secret_auth_writes_the_connection_string_and_returns_only_a_hash(world: World) -> None:
    result = apply_connection_resources(blob_secret_connection().to_stored(), clients=world.clients)
    key = storage_key(world)
    data = secret_data(world, "apps", "sc-blobconn-secret")
    assert list(data) == ["AZURE_STORAGEBLOB_CONNECTIONSTRING"]
    assert f"AccountName=stdemo0001;AccountKey={key}" in data["AZURE_STORAGEBLOB_CONNECTIONSTRING"]
    assert result["secret"]["name"] == "sc-blobconn-secret"
    assert len(result["secret"]["hash"]) == 64
    assert result["namespaceCreated"] is True
    assert key not in repr(result)
    stored: Any = core(world).read_namespaced_secret("sc-blobconn-secret", "apps")
    assert stored.metadata.labels["app.kubernetes.io/managed-by"] == "aks-service-connector"
    assert stored.metadata.managed_fields[0].manager == "aks-service-connector"


def test_applying_twice_keeps_resource_version_and_writes_nothing_new(world: World) -> None:
    stored = blob_secret_connection().to_stored()
    first = apply_connection_resources(stored, clients=world.clients)
    world.clear_journals()
    second = apply_connection_resources(stored, clients=world.clients)
    assert second["secret"]["resourceVersion"] == first["secret"]["resourceVersion"]
    assert second["secret"]["hash"] == first["secret"]["hash"]
    assert second["namespaceCreated"] is False
    kube_calls = [(e["method"], e["status"]) for e in world.kube_calls()]
    assert kube_calls == [("PATCH", 200)]  # one server-side apply that changes nothing


def test_a_rotated_key_is_written_on_the_next_apply(world: World) -> None:
    stored = blob_secret_connection().to_stored()
    first = apply_connection_resources(stored, clients=world.clients)
    storage = world.arm.mgmt_client(StorageManagementClient)
    storage.storage_accounts.regenerate_key(
        "rg-demo", "stdemo0001", StorageAccountRegenerateKeyParameters(key_name="key1")
    )
    second = apply_connection_resources(stored, clients=world.clients)
    assert second["secret"]["hash"] != first["secret"]["hash"]
    assert second["secret"]["resourceVersion"] != first["secret"]["resourceVersion"]
    assert (
        storage_key(world)
        in secret_data(world, "apps", "sc-blobconn-secret")["AZURE_STORAGEBLOB_CONNECTIONSTRING"]
    )


def test_missing_namespace_fails_clearly_when_creation_is_off(world: World) -> None:
    strict = Clients(make_settings(world.arm, create_missing_namespace=False), sleeper=world.waits.append)
    with pytest.raises(ConnectorFailure) as caught:
        apply_connection_resources(blob_secret_connection(namespace="nowhere").to_stored(), clients=strict)
    error = caught.value.error
    assert error.category is Category.NOT_FOUND
    assert error.code == "NamespaceNotFound"
    assert "'nowhere'" in error.message and "CREATE_MISSING_NAMESPACE" in error.message
    namespaces = [n.metadata.name for n in core(world).list_namespace().items if n.metadata]
    assert "nowhere" not in namespaces


def test_target_not_found(world: World) -> None:
    missing = f"{STORAGE.replace('stdemo0001', 'stmissing')}/blobServices/default"
    with pytest.raises(ConnectorFailure) as caught:
        apply_connection_resources(blob_secret_connection(target=missing).to_stored(), clients=world.clients)
    assert caught.value.error.category is Category.NOT_FOUND
    assert caught.value.error.code == "ResourceNotFound"
    assert [e["method"] for e in world.kube_calls()] == []


def test_raw_password_is_unsealed_only_inside_the_activity(world: World) -> None:
    linker_id = CLUSTER.id + LINKER_PROVIDER_SEGMENT + "pgconn"
    token = seal("S3cr3t-pa55", SEALING_KEY, context=linker_context(linker_id))
    connection = Connection(
        linker_name="pgconn",
        cluster=CLUSTER,
        target_id=POSTGRES_DB,
        target_kind="postgres-flexible",
        auth=SecretAuth(
            kind=SecretKind.RAW_VALUE, user_name="appuser", sealed_secret=token, secret_fingerprint="f"
        ),
        client_type=ClientType.PYTHON,
        namespace="apps",
    )
    stored = connection.to_stored()
    assert "S3cr3t-pa55" not in repr(stored)
    result = apply_connection_resources(stored, clients=world.clients)
    rendered = secret_data(world, "apps", "sc-pgconn-secret")["AZURE_POSTGRESQL_CONNECTIONSTRING"]
    assert "password=S3cr3t-pa55" in rendered and "user=appuser" in rendered and "dbname=appdb" in rendered
    assert "S3cr3t-pa55" not in repr(result)


def test_a_token_sealed_with_another_key_is_refused(world: World) -> None:
    connection = Connection(
        linker_name="pgconn",
        cluster=CLUSTER,
        target_id=POSTGRES_DB,
        target_kind="postgres-flexible",
        auth=SecretAuth(
            kind=SecretKind.RAW_VALUE,
            user_name="u",
            sealed_secret=seal("x", b"k" * 32),
            secret_fingerprint="f",
        ),
        client_type=ClientType.PYTHON,
    )
    with pytest.raises(ConnectorFailure) as caught:
        apply_connection_resources(connection.to_stored(), clients=world.clients)
    assert caught.value.error.code == "SealedSecretMismatch"


def _workload_connection(world: World) -> tuple[Connection, str]:
    from azure.mgmt.msi import ManagedServiceIdentityClient

    identity = world.arm.mgmt_client(ManagedServiceIdentityClient).user_assigned_identities.get(
        "rg-demo", "id-demo-workload"
    )
    client_id = str(identity.client_id)
    connection = Connection(
        linker_name="blobwi",
        cluster=CLUSTER,
        target_id=BLOB,
        target_kind="storage-blob",
        auth=WorkloadIdentityAuth(client_id=client_id, subscription_id=SUB),
        client_type=ClientType.PYTHON,
        namespace="apps",
    )
    return connection, client_id


def test_workload_identity_applies_service_account_and_identity_settings(world: World) -> None:
    connection, client_id = _workload_connection(world)
    world.clear_journals()
    result = apply_connection_resources(connection.to_stored(), clients=world.clients)
    assert result["serviceAccount"]["name"] == f"sc-account-{client_id}"
    account: Any = core(world).read_namespaced_service_account(f"sc-account-{client_id}", "apps")
    assert account.metadata.annotations["azure.workload.identity/client-id"] == client_id
    data = secret_data(world, "apps", "sc-blobwi-secret")
    assert data["AZURE_STORAGEBLOB_CLIENTID"] == client_id
    assert data["AZURE_STORAGEBLOB_RESOURCEENDPOINT"].startswith("https://stdemo0001.blob.")
    # No key is listed for identity-based auth.
    assert not any(e["path"].lower().endswith("/listkeys") for e in world.arm_calls())


def test_forced_cleanup_deletes_and_tolerates_absence(world: World) -> None:
    connection, _ = _workload_connection(world)
    stored: dict[str, Any] = connection.to_stored()
    apply_connection_resources(stored, clients=world.clients)
    first = delete_connection_resources(stored, delete_service_account=True, clients=world.clients)
    assert first["secret"]["deleted"] is True and first["serviceAccount"]["deleted"] is True
    second = delete_connection_resources(stored, delete_service_account=True, clients=world.clients)
    assert second["secret"]["deleted"] is False and second["serviceAccount"]["deleted"] is False
    assert (
        core(world).list_namespaced_secret("apps", label_selector="app.kubernetes.io/managed-by").items == []
    )


def test_a_rejected_kube_token_is_refreshed_once(world: World) -> None:
    """A 401 from the cluster (rotated credentials) drops the cached client and fetches a new kubeconfig."""
    stored = blob_secret_connection().to_stored()
    apply_connection_resources(stored, clients=world.clients)
    world.kube_admin.add_fault(
        "/secrets/sc-blobconn-secret",
        method="PATCH",
        status=401,
        times=1,
        body={
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        },
    )
    world.clear_journals()
    apply_connection_resources(stored, clients=world.clients)
    assert [e["status"] for e in world.kube_calls()] == [401, 200]
    assert sum(e["path"].lower().endswith("/listclusterusercredential") for e in world.arm_calls()) == 1


def test_kube_server_error_is_transient_and_forbidden_is_unauthorized(world: World) -> None:
    stored = blob_secret_connection().to_stored()
    world.kube_admin.add_fault("/secrets/", method="PATCH", status=500, times=1)
    with pytest.raises(ConnectorFailure) as transient:
        apply_connection_resources(stored, clients=world.clients)
    assert transient.value.error.category is Category.TRANSIENT
    world.kube_admin.add_fault(
        "/secrets/",
        method="PATCH",
        status=403,
        times=1,
        body={
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": "Forbidden",
            "code": 403,
            "message": 'secrets "sc-blobconn-secret" is forbidden: User "x" cannot patch resource "secrets"',
        },
    )
    with pytest.raises(ConnectorFailure) as forbidden:
        apply_connection_resources(stored, clients=world.clients)
    assert forbidden.value.error.category is Category.UNAUTHORIZED
    assert "cannot patch" in forbidden.value.error.message


def test_key_vault_csi_uses_the_add_on_identity(world: World) -> None:
    from activities.cluster import enable_cluster_features, read_cluster
    from tests.activities.conftest import CLUSTER_2, KEYVAULT

    connection = Connection(
        linker_name="kvcsi",
        cluster=ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-2"),
        target_id=KEYVAULT,
        target_kind="keyvault",
        key_vault_csi=True,
        auth=WorkloadIdentityAuth(client_id="", subscription_id=SUB),
        client_type=ClientType.PYTHON,
        namespace="apps",
    ).to_stored()
    with pytest.raises(ConnectorFailure) as caught:
        apply_connection_resources(connection, clients=world.clients)
    assert caught.value.error.code == "KeyVaultAddonNotEnabled"

    enable_cluster_features(CLUSTER_2, key_vault_addon=True, clients=world.clients)
    world.arm.advance(120)
    addon_client_id = read_cluster(CLUSTER_2, clients=world.clients)["keyVaultAddonClientId"]
    result = apply_connection_resources(connection, clients=world.clients)
    assert result["serviceAccount"] is None  # CSI uses the add-on identity: no ServiceAccount
    core2 = k8s.CoreV1Api(world.arm.kube.client_for(world.kube_key(CLUSTER_2)))
    secret: Any = core2.read_namespaced_secret("sc-kvcsi-secret", "apps")
    data = {k: base64.b64decode(v).decode() for k, v in secret.data.items()}
    assert data["AZURE_KEYVAULT_CLIENTID"] == addon_client_id
    assert data["AZURE_KEYVAULT_NAME"] == "kv-demo-0001"
    assert data["AZURE_KEYVAULT_TENANTID"]
