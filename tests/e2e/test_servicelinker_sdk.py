"""The official azure-mgmt-servicelinker client drives the product unchanged (through DevHost)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.servicelinker.models import (
    AzureResource,
    LinkerPatch,
    LinkerResource,
    SecretAuthInfo,
    ServicePrincipalSecretAuthInfo,
    UserAssignedIdentityAuthInfo,
)

from tests.e2e.conftest import API, BLOB, CLUSTER, E2E, IDENTITY, POSTGRES_DB, STORAGE, SUB

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
PASSWORD = "Pg-" + uuid.uuid4().hex
SP_CLIENT_ID = str(uuid.uuid4())
SP_PRINCIPAL_ID = str(uuid.uuid4())
SP_SECRET = "sp-" + uuid.uuid4().hex
DIAGNOSTICS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/diagnostics"


def _blob_secret_linker() -> LinkerResource:
    return LinkerResource(
        target_service=AzureResource(id=BLOB),
        auth_info=SecretAuthInfo(),
        client_type="python",
        scope="default",
    )


def _storage_key(e2e: E2E) -> str:
    state = e2e.arm.emulator.state
    with state.lock:
        resource = next(r for k, r in state.resources.items() if k.lower() == STORAGE.lower())
        return str(next(iter(resource.secrets.values())))


def test_create_get_list_configurations_validate_delete(e2e: E2E) -> None:
    client = e2e.linker_client()

    created = client.linker.begin_create_or_update(CLUSTER, "blobconn", _blob_secret_linker()).result()

    assert created.provisioning_state == "Succeeded"
    secret = e2e.kube_secret(CLUSTER, "default", "sc-blobconn-secret")
    assert secret is not None
    connection_string = secret["AZURE_STORAGEBLOB_CONNECTIONSTRING"]
    assert "AccountName=stdemo0001" in connection_string
    assert _storage_key(e2e) in connection_string

    fetched = client.linker.get(CLUSTER, "blobconn")
    assert fetched.target_service.id == BLOB
    assert fetched.auth_info.auth_type == "secret"
    assert fetched.scope == "default"

    configurations = client.linker.list_configurations(CLUSTER, "blobconn")
    names = {c.name: c.value for c in configurations.configurations}
    assert names == {"AZURE_STORAGEBLOB_CONNECTIONSTRING": None}

    result = client.linker.begin_validate(CLUSTER, "blobconn").result()
    assert result.is_connection_available is True
    assert result.linker_name == "blobconn"
    assert {d.result for d in result.validation_detail} == {"success"}

    client.linker.begin_delete(CLUSTER, "blobconn").result()
    with pytest.raises(ResourceNotFoundError):
        client.linker.get(CLUSTER, "blobconn")
    # Delete keeps the Kubernetes resources by default, as Service Connector does.
    assert e2e.kube_secret(CLUSTER, "default", "sc-blobconn-secret") is not None


def test_update_through_patch_changes_the_secret(e2e: E2E) -> None:
    client = e2e.linker_client()
    client.linker.begin_create_or_update(CLUSTER, "patched", _blob_secret_linker()).result()

    updated = client.linker.begin_update(CLUSTER, "patched", LinkerPatch(client_type="dotnet")).result()

    assert updated.provisioning_state == "Succeeded"
    assert updated.client_type == "dotnet"
    secret = e2e.kube_secret(CLUSTER, "default", "sc-patched-secret")
    assert secret is not None and "AZURE_STORAGEBLOB_CONNECTIONSTRING" in secret


def test_list_pages_with_next_link(e2e: E2E) -> None:
    client = e2e.linker_client()
    pollers = [
        client.linker.begin_create_or_update(CLUSTER, name, _blob_secret_linker())
        for name in ("alpha", "bravo", "charlie")
    ]
    for poller in pollers:
        poller.result()

    pages = list(client.linker.list(CLUSTER).by_page())

    assert len(pages) == 2  # LIST_PAGE_SIZE is 2 in these tests
    names = [linker.name for page in pages for linker in page]
    assert names == ["alpha", "bravo", "charlie"]


def test_validate_reports_a_deleted_secret(e2e: E2E) -> None:
    client = e2e.linker_client()
    client.linker.begin_create_or_update(CLUSTER, "driftconn", _blob_secret_linker()).result()
    from kubernetes import client as k8s

    from emulators.arm import kube_key

    api = e2e.arm.kube.client_for(kube_key(CLUSTER))
    k8s.CoreV1Api(api).delete_namespaced_secret("sc-driftconn-secret", "default")

    result = client.linker.begin_validate(CLUSTER, "driftconn").result()

    assert result.is_connection_available is False
    failed = [d for d in result.validation_detail if d.result == "failure"]
    assert [d.name for d in failed] == ["Configured connection information validated."]
    assert "sc-driftconn-secret" in failed[0].error_message


def test_workload_identity_lists_non_secret_values(e2e: E2E) -> None:
    client = e2e.linker_client()
    identity = _identity(e2e)
    body = LinkerResource(
        target_service=AzureResource(id=BLOB),
        auth_info=UserAssignedIdentityAuthInfo(client_id=identity["clientId"], subscription_id=SUB),
        client_type="python",
        scope="apps",
    )

    created = client.linker.begin_create_or_update(CLUSTER, "wiconn", body).result()

    assert created.provisioning_state == "Succeeded"
    values = {c.name: c.value for c in client.linker.list_configurations(CLUSTER, "wiconn").configurations}
    assert values["AZURE_STORAGEBLOB_CLIENTID"] == identity["clientId"]
    assert values["AZURE_STORAGEBLOB_RESOURCEENDPOINT"] == "https://stdemo0001.blob.core.windows.net/"
    result = client.linker.begin_validate(CLUSTER, "wiconn").result()
    assert result.is_connection_available is True, [d.as_dict() for d in result.validation_detail]
    assert len(result.validation_detail) == 7


def test_a_failed_operation_raises_with_code_and_mitigation(e2e: E2E) -> None:
    client = e2e.linker_client()
    action = "Microsoft.Authorization/roleAssignments/write"
    e2e.arm.admin.call("POST", "/arm/deny", {"action": action, "scope": BLOB, "method": "PUT"})
    identity = _identity(e2e)
    body = LinkerResource(
        target_service=AzureResource(id=BLOB),
        auth_info=UserAssignedIdentityAuthInfo(client_id=identity["clientId"], subscription_id=SUB),
        client_type="python",
    )

    with pytest.raises(HttpResponseError) as raised:
        client.linker.begin_create_or_update(CLUSTER, "denied", body).result()

    assert raised.value.error is not None
    assert raised.value.error.code == "AuthorizationFailed"
    message = str(raised.value.error.message)
    assert "Mitigation:" in message
    assert action in message
    linker = client.linker.get(CLUSTER, "denied")
    assert linker.provisioning_state == "Failed"
    # The linker's schema has no place for the reason; the cluster's diagnostics keep it.
    status, _, body = e2e.http("GET", f"{DIAGNOSTICS}?api-version={API}")
    assert status == 200
    (denied,) = [c for c in body["connections"] if c["linkerId"].endswith("/linkers/denied")]
    assert denied["lastError"]["code"] == "AuthorizationFailed"
    assert action in denied["lastError"]["mitigation"]


def test_a_get_modify_put_keeps_the_password_and_what_2022_05_01_cannot_say(e2e: E2E) -> None:
    # Created by a newer client: a password and configurationInfo, which 2022-05-01 has no words for.
    body = {
        "properties": {
            "targetService": {"type": "AzureResource", "id": POSTGRES_DB},
            "authInfo": {
                "authType": "secret",
                "name": "appuser",
                "secretInfo": {"secretType": "rawValue", "value": PASSWORD},
            },
            "clientType": "nodejs",
            "scope": "default",
            "configurationInfo": {
                "customizedKeys": {"AZURE_POSTGRESQL_PASSWORD": "PGPASSWORD"},
                "deleteOrUpdateBehavior": "ForcedCleanup",
            },
        }
    }
    status, headers, _ = e2e.http("PUT", f"{LINKERS}/pgconn?api-version=2024-07-01-preview", body)
    assert status == 201
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"
    client = e2e.linker_client()

    linker = client.linker.get(CLUSTER, "pgconn")
    linker.client_type = "django"
    updated = client.linker.begin_create_or_update(CLUSTER, "pgconn", linker).result()

    assert updated.provisioning_state == "Succeeded"
    assert updated.client_type == "django"
    secret = e2e.kube_secret(CLUSTER, "default", "sc-pgconn-secret")
    assert secret is not None and secret["PGPASSWORD"] == PASSWORD, secret
    _, _, stored = e2e.http("GET", f"{LINKERS}/pgconn?api-version=2024-07-01-preview")
    assert stored["properties"]["configurationInfo"]["deleteOrUpdateBehavior"] == "ForcedCleanup"


def test_a_service_principal_update_keeps_its_secret(e2e: E2E) -> None:
    client = e2e.linker_client()
    body = LinkerResource(
        target_service=AzureResource(id=BLOB),
        auth_info=ServicePrincipalSecretAuthInfo(
            client_id=SP_CLIENT_ID, principal_id=SP_PRINCIPAL_ID, secret=SP_SECRET
        ),
        client_type="python",
    )
    client.linker.begin_create_or_update(CLUSTER, "spconn", body).result()

    linker = client.linker.get(CLUSTER, "spconn")
    linker.client_type = "dotnet"
    updated = client.linker.begin_create_or_update(CLUSTER, "spconn", linker).result()
    patched = client.linker.begin_update(CLUSTER, "spconn", LinkerPatch(client_type="java")).result()

    assert (updated.provisioning_state, patched.provisioning_state) == ("Succeeded", "Succeeded")
    assert patched.client_type == "java"
    secret = e2e.kube_secret(CLUSTER, "default", "sc-spconn-secret")
    assert secret is not None and secret["AZURE_STORAGEBLOB_CLIENTSECRET"] == SP_SECRET, secret


def _identity(e2e: E2E) -> dict[str, Any]:
    from azure.mgmt.msi import ManagedServiceIdentityClient

    msi = e2e.arm.mgmt_client(ManagedServiceIdentityClient)
    found = msi.user_assigned_identities.get("rg-demo", IDENTITY.rsplit("/", 1)[1])
    return {"clientId": found.client_id, "principalId": found.principal_id}
