# mypy: disable-error-code="union-attr, index"
# (SDK models type every field Optional and custom objects are untyped; these tests assert on them.)
"""Secret store in Key Vault (issue 11), through the HTTP API, read back with the official clients:
azure-keyvault-secrets for the vault, the kubernetes client for the cluster.

A connection with `secretStore.keyVaultId` puts the target's secret into that vault (never into a Kubernetes
Secret), mounts it through a SecretProviderClass, lists it as `configType: KeyVaultSecret`, writes a new
version only when the storage key was regenerated, needs a Key Vault CSI connection to the same vault, and
deletes its vault secrets only with ForcedCleanup.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.keyvault.secrets import ApiVersion, SecretClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import StorageAccountRegenerateKeyParameters
from kubernetes import client as k8s

from emulators.arm import kube_key
from tests.e2e.conftest import BLOB, CLUSTER, E2E, RG

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-demo-0001"
API = "2024-04-01"
SECRET_KEY = "AZURE_STORAGEBLOB_CONNECTIONSTRING"


def _finish(e2e: E2E, response: tuple[int, dict[str, str], Any], timeout: float = 60) -> dict[str, Any]:
    assert response[0] in (201, 202), response
    deadline = time.monotonic() + timeout
    url = response[1]["Azure-AsyncOperation"]
    while (body := e2e.http("GET", url)[2])["status"] in ("Accepted", "Deleting"):
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    return dict(body)


def _csi_linker(e2e: E2E, name: str = "kvcsi") -> None:
    body = {
        "properties": {
            "targetService": {
                "type": "AzureResource",
                "id": VAULT,
                "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": True},
            },
            "authInfo": {"authType": "userAssignedIdentity"},
            "clientType": "none",
            "scope": "default",
        }
    }
    assert _finish(e2e, e2e.http("PUT", f"{LINKERS}/{name}?api-version={API}", body))["status"] == "Succeeded"


def _stored_body(*, secret_name: str | None = None, forced_cleanup: bool = False) -> dict[str, Any]:
    store: dict[str, Any] = {"keyVaultId": VAULT}
    if secret_name:
        store["keyVaultSecretName"] = secret_name
    properties: dict[str, Any] = {
        "targetService": {"type": "AzureResource", "id": BLOB},
        "authInfo": {"authType": "secret"},
        "clientType": "python",
        "scope": "default",
        "secretStore": store,
    }
    if forced_cleanup:
        properties["configurationInfo"] = {"deleteOrUpdateBehavior": "ForcedCleanup"}
    return {"properties": properties}


def _create(e2e: E2E, name: str, **body: Any) -> dict[str, Any]:
    return _finish(e2e, e2e.http("PUT", f"{LINKERS}/{name}?api-version={API}", _stored_body(**body)))


def _vault(e2e: E2E) -> SecretClient:
    vault = e2e.arm.mgmt_client(KeyVaultManagementClient).vaults.get("rg-demo", "kv-demo-0001")
    return SecretClient(
        str(vault.properties.vault_uri),
        e2e.arm.credential,
        connection_verify=e2e.arm.ca_file,
        verify_challenge_resource=False,
        api_version=ApiVersion.V7_6,
    )


def _storage_key(e2e: E2E) -> str:
    listed = e2e.arm.mgmt_client(StorageManagementClient).storage_accounts.list_keys("rg-demo", "stdemo0001")
    return str(listed.as_dict()["keys"][0]["value"])


def _reconcile(e2e: E2E) -> dict[str, Any]:
    done = _finish(e2e, e2e.http("POST", "/api/reconcile"))
    assert done["status"] == "Succeeded", done
    return dict(done["properties"])


def _versions(client: SecretClient, name: str) -> int:
    return len(list(client.list_properties_of_secret_versions(name)))


def test_the_secret_goes_to_the_vault_not_to_a_kubernetes_secret(e2e: E2E) -> None:
    _csi_linker(e2e)
    assert _create(e2e, "blobkv")["status"] == "Succeeded"

    name = "sc-blobkv-azure-storageblob-connectionstring"
    stored = _vault(e2e).get_secret(name)
    assert stored.value is not None and f"AccountKey={_storage_key(e2e)}" in stored.value
    on_cluster = e2e.kube_secret(CLUSTER, "default", "sc-blobkv-secret") or {}
    assert SECRET_KEY not in on_cluster
    assert _storage_key(e2e) not in "".join(on_cluster.values())

    api = k8s.CustomObjectsApi(e2e.arm.kube.client_for(kube_key(CLUSTER)))
    group, plural = "secrets-store.csi.x-k8s.io", "secretproviderclasses"
    spc = api.get_namespaced_custom_object(group, "v1", "default", plural, "sc-blobkv-secretproviderclass")
    parameters = spc["spec"]["parameters"]
    assert parameters["keyvaultName"] == "kv-demo-0001"
    assert parameters["userAssignedIdentityID"]  # the add-on's identity, as for the CSI linker
    assert f"objectName: {name}" in parameters["objects"]
    assert f"objectAlias: {SECRET_KEY}" in parameters["objects"]

    status, _, listed = e2e.http("POST", f"{LINKERS}/blobkv/listConfigurations?api-version={API}")
    assert status == 200
    item = next(i for i in listed["configurations"] if i["name"] == SECRET_KEY)
    assert item["configType"] == "KeyVaultSecret" and not item["value"]

    linker = e2e.http("GET", f"{LINKERS}/blobkv?api-version={API}")[2]
    assert linker["properties"]["secretStore"]["keyVaultId"] == VAULT


def test_keyvaultsecretname_names_the_single_vault_secret(e2e: E2E) -> None:
    _csi_linker(e2e)
    assert _create(e2e, "blobnamed", secret_name="blob-conn")["status"] == "Succeeded"

    assert _vault(e2e).get_secret("blob-conn").value
    linker = e2e.http("GET", f"{LINKERS}/blobnamed?api-version={API}")[2]
    assert linker["properties"]["secretStore"]["keyVaultSecretName"] == "blob-conn"


def test_a_regenerated_key_makes_one_new_version_and_an_unchanged_key_none(e2e: E2E) -> None:
    _csi_linker(e2e)
    assert _create(e2e, "blobrot")["status"] == "Succeeded"
    client, name = _vault(e2e), "sc-blobrot-azure-storageblob-connectionstring"
    assert _versions(client, name) == 1

    quiet = _reconcile(e2e)
    assert (quiet["drifted"], quiet["repaired"]) == (0, 0)
    assert _versions(client, name) == 1

    e2e.arm.mgmt_client(StorageManagementClient).storage_accounts.regenerate_key(
        "rg-demo", "stdemo0001", StorageAccountRegenerateKeyParameters(key_name="key1")
    )
    assert _reconcile(e2e)["repaired"] == 1
    assert _versions(client, name) == 2
    assert f"AccountKey={_storage_key(e2e)}" in str(client.get_secret(name).value)

    assert _reconcile(e2e)["repaired"] == 0
    assert _versions(client, name) == 2


def test_without_a_key_vault_csi_connection_the_operation_fails_and_writes_nothing(e2e: E2E) -> None:
    done = _create(e2e, "blobnocsi")

    assert done["status"] == "Failed"
    assert done["error"]["code"] == "KeyVaultCsiConnectionMissing"
    assert "--enable-csi" in done["error"]["message"]
    with pytest.raises(ResourceNotFoundError):
        _vault(e2e).get_secret("sc-blobnocsi-azure-storageblob-connectionstring")


def test_delete_keeps_the_vault_secret_by_default_and_forced_cleanup_removes_it(e2e: E2E) -> None:
    _csi_linker(e2e)
    assert _create(e2e, "blobkept")["status"] == "Succeeded"
    assert _create(e2e, "blobdropped", forced_cleanup=True)["status"] == "Succeeded"

    for name in ("blobkept", "blobdropped"):
        deleted = e2e.http("DELETE", f"{LINKERS}/{name}?api-version={API}")
        assert _finish(e2e, deleted)["status"] == "Succeeded"

    client = _vault(e2e)
    assert client.get_secret("sc-blobkept-azure-storageblob-connectionstring").value
    with pytest.raises(ResourceNotFoundError):
        client.get_secret("sc-blobdropped-azure-storageblob-connectionstring")


@pytest.mark.parametrize(
    ("store", "target"),
    [
        ({"keyVaultId": VAULT, "keyVaultSecretName": "has_underscore"}, "keyVaultSecretName"),
        ({"keyVaultId": BLOB}, "keyVaultId"),
        ({"keyVaultSecretName": "lonely"}, "keyVaultId"),
    ],
)
def test_a_bad_secret_store_is_refused_and_changes_nothing(
    e2e: E2E, store: dict[str, Any], target: str
) -> None:
    body = _stored_body()
    body["properties"]["secretStore"] = store
    status, _, error = e2e.http("PUT", f"{LINKERS}/badstore?api-version={API}", body)

    assert status == 400
    assert error["error"]["target"] == f"properties.secretStore.{target}"
    assert e2e.http("GET", f"{LINKERS}/badstore?api-version={API}")[0] == 404


def test_a_deleted_secretproviderclass_is_applied_again_without_a_new_vault_version(e2e: E2E) -> None:
    _csi_linker(e2e)
    assert _create(e2e, "blobspc")["status"] == "Succeeded"
    client, name = _vault(e2e), "sc-blobspc-azure-storageblob-connectionstring"
    api = k8s.CustomObjectsApi(e2e.arm.kube.client_for(kube_key(CLUSTER)))
    group, plural, spc = (
        "secrets-store.csi.x-k8s.io",
        "secretproviderclasses",
        "sc-blobspc-secretproviderclass",
    )
    api.delete_namespaced_custom_object(group, "v1", "default", plural, spc)

    assert _reconcile(e2e)["repaired"] == 1
    assert (
        api.get_namespaced_custom_object(group, "v1", "default", plural, spc)["spec"]["provider"] == "azure"
    )
    assert _versions(client, name) == 1


def test_a_connection_made_again_after_forced_cleanup_recovers_its_soft_deleted_secret(e2e: E2E) -> None:
    _csi_linker(e2e)
    assert _create(e2e, "blobagain", forced_cleanup=True)["status"] == "Succeeded"
    deleted = e2e.http("DELETE", f"{LINKERS}/blobagain?api-version={API}")
    assert _finish(e2e, deleted)["status"] == "Succeeded"
    client, name = _vault(e2e), "sc-blobagain-azure-storageblob-connectionstring"
    assert client.get_deleted_secret(name).recovery_id  # soft-deleted: the name stays taken

    assert _create(e2e, "blobagain")["status"] == "Succeeded"
    assert f"AccountKey={_storage_key(e2e)}" in str(client.get_secret(name).value)


def test_moving_the_connection_moves_its_secretproviderclass_and_keeps_the_vault_secret(e2e: E2E) -> None:
    _csi_linker(e2e)
    assert _create(e2e, "blobmove")["status"] == "Succeeded"
    moved = _stored_body()
    moved["properties"]["scope"] = "apps"
    assert (
        _finish(e2e, e2e.http("PUT", f"{LINKERS}/blobmove?api-version={API}", moved))["status"] == "Succeeded"
    )

    api = k8s.CustomObjectsApi(e2e.arm.kube.client_for(kube_key(CLUSTER)))
    group, plural, spc = (
        "secrets-store.csi.x-k8s.io",
        "secretproviderclasses",
        "sc-blobmove-secretproviderclass",
    )
    assert api.get_namespaced_custom_object(group, "v1", "apps", plural, spc)
    with pytest.raises(k8s.ApiException) as gone:
        api.get_namespaced_custom_object(group, "v1", "default", plural, spc)
    assert gone.value.status == 404
    assert _versions(_vault(e2e), "sc-blobmove-azure-storageblob-connectionstring") == 1
