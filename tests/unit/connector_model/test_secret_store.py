"""The secret store's pure rules: which values go to the vault and under which names, what the parser
accepts, what the Secret keeps, and when the plan writes the vault (connector/secret_store.py)."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from connector import manifests, secret_store, targets
from connector.model import Connection
from connector.plan import (
    EnableKeyVaultAddon,
    ObservedCluster,
    ObservedSecret,
    ObservedVaultSecrets,
    StoreVaultSecrets,
    plan_for,
)
from connector.validation import RequestValidationError
from connector.wire import parse_linker, to_linker_body

from .conftest import BLOB_TARGET_ID, CLUSTER_ID, KEYVAULT_ID, LINKER_ID, SECRET_BODY, body

KEY = "AZURE_STORAGEBLOB_CONNECTIONSTRING"


def _stored(store: dict[str, Any], template: dict[str, Any] = SECRET_BODY) -> Connection:
    request = body(template)
    request["properties"]["secretStore"] = store
    return parse_linker(LINKER_ID, request, "2024-04-01")


def _values() -> targets.ResolvedValues:
    return targets.ResolvedValues(
        target_properties={},
        target_name="servicelinkerstorage",
        parts=targets.target_parts("storage-blob", BLOB_TARGET_ID) or {},
        secret="k3y==",
    )


def test_each_secret_value_gets_a_derived_vault_name() -> None:
    connection = _stored({"keyVaultId": KEYVAULT_ID})
    assert connection.secret_store is not None
    assert secret_store.vault_secret_names(connection) == {
        KEY: "sc-testconn-azure-storageblob-connectionstring"
    }
    assert secret_store.VAULT_SECRET_NAME.match(
        secret_store.derived_name("a" * 120, "spring.x.connection-string")
    )


def test_keyvaultsecretname_names_the_one_secret() -> None:
    connection = _stored({"keyVaultId": KEYVAULT_ID, "keyVaultSecretName": "blob-conn"})
    assert secret_store.vault_secret_names(connection) == {KEY: "blob-conn"}
    echoed = to_linker_body(connection, "2024-04-01")["properties"]["secretStore"]
    assert echoed == {"keyVaultId": KEYVAULT_ID, "keyVaultSecretName": "blob-conn"}


def test_the_kubernetes_secret_keeps_no_secret_value() -> None:
    connection = _stored({"keyVaultId": KEYVAULT_ID})
    data = manifests.build_secret(connection, _values())["data"]
    assert KEY not in data
    assert "k3y==" not in "".join(base64.b64decode(v).decode() for v in data.values())
    _, vault = secret_store.split(connection, manifests.render(connection, _values()))
    assert "k3y==" in vault["sc-testconn-azure-storageblob-connectionstring"]


@pytest.mark.parametrize(
    ("store", "code", "target"),
    [
        ({"keyVaultId": BLOB_TARGET_ID}, "InvalidTargetResourceId", "properties.secretStore.keyVaultId"),
        (
            {"keyVaultId": KEYVAULT_ID, "keyVaultSecretName": "no_underscores"},
            "InvalidFieldValue",
            "properties.secretStore.keyVaultSecretName",
        ),
        ({"keyVaultSecretName": "alone"}, "MissingRequiredField", "properties.secretStore.keyVaultId"),
    ],
)
def test_bad_secret_stores_are_refused(store: dict[str, Any], code: str, target: str) -> None:
    with pytest.raises(RequestValidationError) as raised:
        _stored(store)
    assert [(p.code, p.target) for p in raised.value.problems] == [(code, target)]


def test_a_store_on_a_connection_without_secrets_is_refused_not_dropped(wi_body: dict[str, Any]) -> None:
    with pytest.raises(RequestValidationError) as raised:
        _stored({"keyVaultId": KEYVAULT_ID}, wi_body)
    assert [p.target for p in raised.value.problems] == ["properties.secretStore.keyVaultId"]


def test_an_empty_store_is_no_store() -> None:
    assert _stored({}).secret_store is None


def _observed(vault: ObservedVaultSecrets | None, connection: Connection) -> ObservedCluster:
    secret = manifests.content_hash(manifests.build_secret(connection, _values()))
    return ObservedCluster(
        cluster_id=CLUSTER_ID,
        provider_registration_state="Registered",
        extension_provisioning_state="Succeeded",
        key_vault_addon_enabled=True,
        secrets=(ObservedSecret("default", "sc-testconn-secret", secret, secret, LINKER_ID),),
        vault_secrets=(vault,) if vault else (),
    )


@pytest.mark.parametrize(
    ("vault", "writes"),
    [
        (ObservedVaultSecrets(LINKER_ID, "f1", "f1", "p", "p"), False),
        (ObservedVaultSecrets(LINKER_ID, "f1", "f2", "p", "p"), True),  # a rotated key
        (ObservedVaultSecrets(LINKER_ID, None, "f2", "p", "p"), True),  # a vault secret missing
        (ObservedVaultSecrets(LINKER_ID, "f1", "f1", None, "p"), True),  # the SecretProviderClass missing
        (ObservedVaultSecrets(LINKER_ID, "f1", None, "p", "p"), True),  # could not render: drift
        (None, True),
    ],
)
def test_the_plan_writes_the_vault_only_on_drift(vault: ObservedVaultSecrets | None, writes: bool) -> None:
    connection = _stored({"keyVaultId": KEYVAULT_ID})
    planned = plan_for([connection], _observed(vault, connection))
    actions = [p.action for p in planned]
    assert actions == ([StoreVaultSecrets(LINKER_ID, KEYVAULT_ID)] if writes else [])
    if writes:
        assert planned[0].serves == (LINKER_ID,)
        round_trip = ObservedCluster.from_dict(_observed(vault, connection).to_dict())
        assert round_trip.vault_secrets == ((vault,) if vault else ())


def test_a_secret_store_enables_the_key_vault_add_on_it_is_read_through() -> None:
    connection = _stored({"keyVaultId": KEYVAULT_ID})
    observed = dataclasses.replace(_observed(None, connection), key_vault_addon_enabled=False)
    planned = plan_for([connection], observed)
    assert planned[0].action == EnableKeyVaultAddon(CLUSTER_ID)
    assert planned[0].serves == (LINKER_ID,)
