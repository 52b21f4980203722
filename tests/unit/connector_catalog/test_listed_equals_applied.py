"""listConfigurations names exactly what the Secret holds, for every target kind x auth mode x client type.

The catalog is enumerated, not copied: for each combination it offers, the Secret is built the way the
activity builds it (`connector.manifests.build_secret`, values resolved as from ARM and the request) and the
list is produced the way the API produces it (`triggers.configurations.list_configurations`). The names, and
their order, must be the same; credential values are never listed.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from connector import manifests, targets
from connector.model import (
    ClusterRef,
    Connection,
    SecretAuth,
    SecretKind,
    ServicePrincipalAuth,
    WorkloadIdentityAuth,
)
from connector.vocabulary import AuthType, ClientType
from triggers.configurations import list_configurations

SUB = "00000000-0000-0000-0000-000000000001"
CLUSTER = ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-1")
TENANT = "7e57c0de-0000-4000-8000-000000000001"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "c2VjcmV0LXZhbHVlLTAwMDE="
# Endpoints of the targets named by endpoint, as Learn's examples write them.
ENDPOINTS = {
    "ConfluentBootstrapServer": "pkc-4r297.eastus.azure.confluent.cloud:9092",
    "ConfluentSchemaRegistry": "https://psrc-gq7pv.westus2.azure.confluent.cloud",
}


def _target(spec: targets.TargetSpec) -> str:
    if spec.id_pattern is None:
        return ENDPOINTS[spec.service_type]
    return spec.id_pattern.pattern.format(
        subscription=SUB, resourceGroup="rg-demo", name="target0001", database="appdb"
    )


def _auth(spec: targets.TargetSpec, mode: str) -> Any:
    if mode in (AuthType.USER_ASSIGNED_IDENTITY.value, targets.CSI):
        return WorkloadIdentityAuth(client_id="" if mode == targets.CSI else CLIENT_ID, subscription_id=SUB)
    if mode == AuthType.SERVICE_PRINCIPAL_SECRET.value:
        return ServicePrincipalAuth(client_id=CLIENT_ID, principal_id=CLIENT_ID, sealed_secret="sealed")
    assert spec.secret_source is not None
    if spec.secret_source.from_request:
        return SecretAuth(kind=SecretKind.RAW_VALUE, user_name="appuser", sealed_secret="sealed")
    return SecretAuth(kind=SecretKind.AUTO)


def _combinations() -> list[tuple[str, str, ClientType]]:
    found = []
    for spec in targets.all_specs():
        for mode in targets.auth_modes(spec.kind):
            for client in sorted(spec.client_types):
                try:
                    targets.configuration_items(spec.kind, mode, client)
                except targets.CatalogError:
                    continue  # the catalog refuses the combination; nothing is applied or listed
                found.append((spec.kind, mode, client))
    return found


def _connection(kind: str, mode: str, client: ClientType, renamed: dict[str, str]) -> Connection:
    spec = targets.get_spec(kind)
    return Connection(
        linker_name="conn1",
        cluster=CLUSTER,
        target_id=_target(spec),
        target_kind=kind,
        key_vault_csi=mode == targets.CSI,
        auth=_auth(spec, mode),
        client_type=client,
        customized_keys=renamed,
    )


def _applied(connection: Connection) -> dict[str, str]:
    """The Secret's data as the activity writes it: values resolved with every secret present."""
    parts = targets.target_parts(connection.target_kind, connection.target_id)
    assert parts is not None
    values = targets.ResolvedValues(
        target_properties={},
        target_name=parts.get("name", ""),
        parts=parts,
        secret=SECRET,
        user_name="appuser",
        client_id=CLIENT_ID,
        client_secret=SECRET,
        tenant_id=TENANT,
    )
    secret = manifests.build_secret(connection, values)
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


COMBINATIONS = _combinations()


def test_the_enumeration_covers_every_kind_and_the_confluent_and_csi_cases() -> None:
    assert {kind for kind, _, _ in COMBINATIONS} == {s.kind for s in targets.all_specs()}
    assert ("keyvault", targets.CSI, ClientType.PYTHON) in COMBINATIONS
    assert ("confluent-schema-registry", "secret", ClientType.SPRING_BOOT) in COMBINATIONS


@pytest.mark.parametrize(("kind", "mode", "client"), COMBINATIONS)
def test_listed_names_are_the_names_applied(kind: str, mode: str, client: ClientType) -> None:
    connection = _connection(kind, mode, client, {})

    applied = _applied(connection)
    listed = list_configurations(connection, TENANT)

    assert [item["name"] for item in listed] == list(applied)
    for item in listed:
        assert item["value"] is None or item["value"] == applied[item["name"]], item
        assert SECRET not in str(item["value"])


@pytest.mark.parametrize(("kind", "mode", "client"), COMBINATIONS[::7])
def test_customized_keys_rename_the_same_names_in_both(kind: str, mode: str, client: ClientType) -> None:
    first = targets.configuration_keys(kind, mode, client)[0]
    connection = _connection(kind, mode, client, {first: "MY_RENAMED_KEY"})

    applied = _applied(connection)
    listed = [item["name"] for item in list_configurations(connection, TENANT)]

    assert listed == list(applied)
    assert "MY_RENAMED_KEY" in listed and first not in listed


def test_key_vault_csi_lists_the_vault_name_and_tenant_though_the_add_on_identity_is_unknown_there() -> None:
    connection = _connection("keyvault", targets.CSI, ClientType.PYTHON, {})

    listed = {item["name"]: item["value"] for item in list_configurations(connection, TENANT)}

    assert listed == {
        "AZURE_KEYVAULT_TENANTID": TENANT,
        "AZURE_KEYVAULT_NAME": "target0001",
        "AZURE_KEYVAULT_CLIENTID": None,
    }
