"""The Secret and ServiceAccount a connection puts in its namespace, and the hashes that detect drift."""

from __future__ import annotations

import base64
import copy
import re
from typing import Any

from connector import manifests, targets
from connector.model import Connection
from connector.targets import ResolvedValues
from connector.wire import parse_linker

from .conftest import (
    BLOB_TARGET_ID,
    IDENTITY_CLIENT_ID,
    KEYVAULT_ID,
    LINKER_ID,
    SECRET_BODY,
    TENANT_ID,
    WORKLOAD_IDENTITY_BODY,
    body,
)

ENDPOINT = "https://servicelinkerstorage.blob.core.windows.net/"
ACCOUNT_KEY = "c3RvcmFnZS1hY2NvdW50LWtleQ=="


def _values(secret: str | None = None, **extra: Any) -> ResolvedValues:
    match = targets.match_target_id(BLOB_TARGET_ID)
    assert match is not None
    return ResolvedValues(
        target_properties={"primaryEndpoints": {"blob": ENDPOINT}},
        target_name="servicelinkerstorage",
        parts=match.parts,
        secret=secret,
        **extra,
    )


def _decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {key: base64.b64decode(value).decode("utf-8") for key, value in secret["data"].items()}


def _workload_identity(customized: dict[str, str] | None = None) -> Connection:
    request = body(WORKLOAD_IDENTITY_BODY)
    request["properties"]["configurationInfo"] = {"customizedKeys": customized or {}}
    return parse_linker(LINKER_ID, request, "2024-04-01")


def test_workload_identity_secret_holds_endpoint_and_client_id_under_customized_names() -> None:
    connection = _workload_identity({"AZURE_STORAGEBLOB_CLIENTID": "BLOB_CLIENT_ID"})

    secret = manifests.build_secret(connection, _values())

    assert secret["apiVersion"] == "v1"
    assert secret["kind"] == "Secret"
    assert secret["type"] == "Opaque"
    assert secret["metadata"]["name"] == "sc-testconn-secret"
    assert secret["metadata"]["namespace"] == "default"
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aks-service-connector"
    assert secret["metadata"]["annotations"]["aks-service-connector/linker-id"] == LINKER_ID
    assert _decoded(secret) == {
        "AZURE_STORAGEBLOB_RESOURCEENDPOINT": ENDPOINT,
        "BLOB_CLIENT_ID": IDENTITY_CLIENT_ID,
    }


def test_secret_auth_secret_holds_the_connection_string_built_from_the_listed_key() -> None:
    connection = parse_linker(LINKER_ID, body(SECRET_BODY), "2024-04-01")

    secret = manifests.build_secret(connection, _values(secret=ACCOUNT_KEY))

    connection_string = _decoded(secret)["AZURE_STORAGEBLOB_CONNECTIONSTRING"]
    assert "AccountName=servicelinkerstorage" in connection_string
    assert f"AccountKey={ACCOUNT_KEY}" in connection_string
    assert manifests.service_account_name(connection) is None
    assert manifests.build_service_account(connection, TENANT_ID) is None


def test_workload_identity_service_account_carries_client_and_tenant_annotations() -> None:
    account = manifests.build_service_account(_workload_identity(), TENANT_ID)

    assert account is not None
    assert account["kind"] == "ServiceAccount"
    assert account["metadata"]["name"] == f"sc-account-{IDENTITY_CLIENT_ID}"
    assert account["metadata"]["namespace"] == "default"
    assert account["metadata"]["annotations"] == {
        "azure.workload.identity/client-id": IDENTITY_CLIENT_ID,
        "azure.workload.identity/tenant-id": TENANT_ID,
    }
    # The `azure.workload.identity/use` label is for pods; the account carries ownership only.
    assert account["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "aks-service-connector"}


def test_key_vault_csi_connection_gets_a_secret_but_no_service_account() -> None:
    request = body(WORKLOAD_IDENTITY_BODY)
    request["properties"]["targetService"] = {
        "type": "AzureResource",
        "id": KEYVAULT_ID,
        "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": True},
    }
    request["properties"]["authInfo"] = {"authType": "userAssignedIdentity"}
    connection = parse_linker(LINKER_ID, request, "2024-04-01")
    addon_client_id = "11111111-2222-3333-4444-555555555555"
    match = targets.match_target_id(KEYVAULT_ID)
    assert match is not None

    secret = manifests.build_secret(
        connection,
        ResolvedValues(
            target_properties={"vaultUri": "https://servicelinkervault.vault.azure.net/"},
            target_name="servicelinkervault",
            parts=match.parts,
            client_id=addon_client_id,
            tenant_id=TENANT_ID,
        ),
    )

    assert _decoded(secret) == {
        "AZURE_KEYVAULT_TENANTID": TENANT_ID,
        "AZURE_KEYVAULT_NAME": "servicelinkervault",
        "AZURE_KEYVAULT_CLIENTID": addon_client_id,
    }
    assert manifests.build_service_account(connection, TENANT_ID) is None


def _as_read_back(manifest: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server returns it: server fields, and labels others added."""
    observed = copy.deepcopy(manifest)
    observed["metadata"].update(
        uid="6d1f0c36-8a4e-4b7b-9d3e-0c0b7a1f2e11",
        resourceVersion="4711",
        creationTimestamp="2026-11-27T00:00:00Z",
        managedFields=[{"manager": "aks-service-connector", "operation": "Apply"}],
    )
    observed["metadata"]["labels"]["team"] = "payments"
    observed["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    return observed


def test_content_hash_matches_the_object_read_back_and_changes_with_the_content() -> None:
    connection = parse_linker(LINKER_ID, body(SECRET_BODY), "2024-04-01")
    rendered = manifests.build_secret(connection, _values(secret=ACCOUNT_KEY))
    digest = manifests.content_hash(rendered)

    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert manifests.content_hash(_as_read_back(rendered)) == digest
    rotated = manifests.build_secret(connection, _values(secret="bmV3LWtleQ=="))
    assert manifests.content_hash(rotated) != digest
    missing_key = copy.deepcopy(rendered)
    missing_key["data"] = {}
    assert manifests.content_hash(missing_key) != digest
    unlabelled = copy.deepcopy(rendered)
    del unlabelled["metadata"]["labels"]["app.kubernetes.io/managed-by"]
    assert manifests.content_hash(unlabelled) != digest


def test_service_account_hash_sees_a_changed_client_id_annotation() -> None:
    account = manifests.build_service_account(_workload_identity(), TENANT_ID)
    assert account is not None
    digest = manifests.content_hash(account)
    assert manifests.content_hash(_as_read_back(account)) == digest
    edited = copy.deepcopy(account)
    edited["metadata"]["annotations"]["azure.workload.identity/client-id"] = "someone-else"
    assert manifests.content_hash(edited) != digest
