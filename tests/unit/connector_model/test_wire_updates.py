"""Updates keep what they do not restate (PUT over a stored linker and PATCH alike), and identity options the
connector does not carry out are refused, never dropped."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from connector.model import DeleteOrUpdateBehavior, SecretKind, ServicePrincipalAuth
from connector.validation import RequestValidationError
from connector.vocabulary import ClientType
from connector.wire import parse_linker, parse_patch

from .conftest import (
    IDENTITY_CLIENT_ID,
    KEYVAULT_ID,
    LINKER_ID,
    RAW_PASSWORD,
    SECRET_BODY,
    SUBSCRIPTION,
    WORKLOAD_IDENTITY_BODY,
    body,
)

PREVIEW = "2024-07-01-preview"
SP_CLIENT_ID = "3c1a7d2e-9b8f-4e6a-8c5d-2f1e0a9b8c7d"
SP_PRINCIPAL_ID = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"


def _stored_with_configuration() -> Any:
    raw = body(WORKLOAD_IDENTITY_BODY)
    raw["properties"]["configurationInfo"] = {
        "customizedKeys": {"AZURE_STORAGEBLOB_CLIENTID": "BLOB_CLIENT_ID"},
        "deleteOrUpdateBehavior": "ForcedCleanup",
    }
    return parse_linker(LINKER_ID, raw, PREVIEW)


def _update(existing: Any, raw: dict[str, Any], method: str) -> Any:
    if method == "PUT":
        return parse_linker(LINKER_ID, raw, PREVIEW, existing=existing)
    return parse_patch(existing, raw, PREVIEW)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_the_cli_update_body_keeps_configuration_it_does_not_resend(method: str) -> None:
    existing = _stored_with_configuration()
    # az aks connection update: configurationInfo names only an empty configurationStore.
    update = body(WORKLOAD_IDENTITY_BODY)
    update["properties"]["clientType"] = "dotnet"
    update["properties"]["configurationInfo"] = {"configurationStore": {}}

    updated = _update(existing, update, method)

    assert updated.client_type is ClientType.DOTNET
    assert updated.customized_keys == {"AZURE_STORAGEBLOB_CLIENTID": "BLOB_CLIENT_ID"}
    assert updated.delete_or_update_behavior is DeleteOrUpdateBehavior.FORCED_CLEANUP


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_what_a_body_names_replaces_the_stored_value(method: str) -> None:
    existing = _stored_with_configuration()
    update = body(WORKLOAD_IDENTITY_BODY)
    update["properties"]["configurationInfo"] = {
        "customizedKeys": {"AZURE_STORAGEBLOB_RESOURCEENDPOINT": "BLOB_URL"},
        "deleteOrUpdateBehavior": "Default",
    }

    updated = _update(existing, update, method)

    # A customized key map is one choice: the new one replaces the old whole.
    assert updated.customized_keys == {"AZURE_STORAGEBLOB_RESOURCEENDPOINT": "BLOB_URL"}
    assert updated.delete_or_update_behavior is DeleteOrUpdateBehavior.DEFAULT


def test_a_put_leaving_out_client_type_and_scope_keeps_them() -> None:
    raw = body(SECRET_BODY)
    raw["properties"].update({"clientType": "java", "scope": "apps"})
    existing = parse_linker(LINKER_ID, raw, PREVIEW)
    update = body(SECRET_BODY)
    del update["properties"]["clientType"], update["properties"]["scope"]

    updated = parse_linker(LINKER_ID, update, PREVIEW, existing=existing)

    assert (updated.client_type, updated.namespace) == (ClientType.JAVA, "apps")


def test_a_new_linker_still_defaults_what_the_body_leaves_out() -> None:
    raw = body(SECRET_BODY)
    del raw["properties"]["clientType"], raw["properties"]["scope"]

    created = parse_linker(LINKER_ID, raw, PREVIEW)

    assert (created.client_type, created.namespace) == (ClientType.NONE, "default")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_service_principal_update_without_its_secret_keeps_the_stored_secret(method: str) -> None:
    raw = body(SECRET_BODY)
    raw["properties"]["authInfo"] = {
        "authType": "servicePrincipalSecret",
        "clientId": SP_CLIENT_ID,
        "principalId": SP_PRINCIPAL_ID,
        "secret": RAW_PASSWORD,
    }
    existing = parse_linker(LINKER_ID, raw, PREVIEW)
    update = body(SECRET_BODY)
    update["properties"]["authInfo"] = {
        "authType": "servicePrincipalSecret",
        "clientId": SP_CLIENT_ID,
        "principalId": SP_PRINCIPAL_ID,
    }
    update["properties"]["clientType"] = "dotnet"

    updated = _update(existing, update, method)

    assert isinstance(updated.auth, ServicePrincipalAuth)
    assert isinstance(updated.auth.secret, SecretStr)
    assert updated.auth.secret.get_secret_value() == RAW_PASSWORD


def test_another_target_keeps_none_of_the_old_targets_resource_properties() -> None:
    raw = body(WORKLOAD_IDENTITY_BODY)
    raw["properties"]["targetService"] = {
        "type": "AzureResource",
        "id": KEYVAULT_ID,
        "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": True},
    }
    existing = parse_linker(LINKER_ID, raw, PREVIEW)

    moved = parse_patch(existing, {"properties": body(WORKLOAD_IDENTITY_BODY)["properties"]}, PREVIEW)

    assert moved.target_kind == "storage-blob"
    assert moved.key_vault_csi is False
    assert moved.auth.client_id == IDENTITY_CLIENT_ID  # type: ignore[union-attr]


def test_another_secret_type_keeps_none_of_the_old_secret() -> None:
    raw = body(SECRET_BODY)
    raw["properties"]["authInfo"] = {
        "authType": "secret",
        "secretInfo": {"secretType": "rawValue", "value": RAW_PASSWORD},
    }
    existing = parse_linker(LINKER_ID, raw, PREVIEW)

    with pytest.raises(RequestValidationError) as refused:
        parse_patch(
            existing,
            {
                "properties": {
                    "authInfo": {
                        "authType": "secret",
                        "secretInfo": {"secretType": "keyVaultSecretReference"},
                    }
                }
            },
            PREVIEW,
        )

    assert "properties.authInfo.secretInfo.name" in {p.target for p in refused.value.problems}
    assert existing.auth.kind is SecretKind.RAW_VALUE  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("roles", ["Storage Blob Data Owner"]),
        ("userName", "aad_app_user"),
        ("deleteOrUpdateBehavior", "ForcedCleanup"),
    ],
)
def test_identity_options_the_connector_does_not_carry_out_are_refused(field: str, value: Any) -> None:
    raw = body(WORKLOAD_IDENTITY_BODY)
    raw["properties"]["authInfo"][field] = value

    with pytest.raises(RequestValidationError) as refused:
        parse_linker(LINKER_ID, raw, PREVIEW)

    assert refused.value.code == "InvalidRequestBody"
    assert [p.target for p in refused.value.problems] == [f"properties.authInfo.{field}"]


def test_identity_options_that_ask_nothing_pass() -> None:
    # What a GET-modify-PUT through the 1.2.0b3 models resends for a workload identity linker.
    raw = body(WORKLOAD_IDENTITY_BODY)
    raw["properties"]["authInfo"].update({"roles": [], "userName": None, "deleteOrUpdateBehavior": "Default"})

    connection = parse_linker(LINKER_ID, raw, PREVIEW)

    assert connection.auth.subscription_id == SUBSCRIPTION  # type: ignore[union-attr]
