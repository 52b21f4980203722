"""The request bodies today's `az aks connection create|update` sends at api-version 2024-07-01-preview
(tests/fixtures/cli_bodies, derived from the azure-cli sources and serialized by its SDK, 1.2.0b3).

Create reaches Succeeded. Update (the CLI PUTs; PATCH is tried with the same body too) changes only what the
body names and keeps the rest: the stored secret when the body names the secret without a value, and every
field the body leaves out (the CLI never resends `configurationInfo.deleteOrUpdateBehavior`, for one).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import BLOB, CLUSTER, E2E, IDENTITY, POSTGRES_DB, STORAGE, SUB
from tests.e2e.sdk_preview.harness import PREVIEW_API, run_steps

BODIES = Path(__file__).resolve().parents[1] / "fixtures" / "cli_bodies"
LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
PASSWORD = "Pg-" + uuid.uuid4().hex
NEW_PASSWORD = "Pg-" + uuid.uuid4().hex
SP_CLIENT_ID = str(uuid.uuid4())
SP_PRINCIPAL_ID = str(uuid.uuid4())
SP_SECRET = "sp-" + uuid.uuid4().hex


def _fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((BODIES / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in values:
        return values[value[1:-1]]
    return value


def _body(e2e: E2E, name: str) -> dict[str, Any]:
    values = {
        "BLOB": BLOB,
        "POSTGRES_DB": POSTGRES_DB,
        "SUBSCRIPTION": SUB,
        "IDENTITY_CLIENT_ID": _identity_client_id(e2e),
        "PASSWORD": PASSWORD,
        "NEW_PASSWORD": NEW_PASSWORD,
        "SP_CLIENT_ID": SP_CLIENT_ID,
        "SP_PRINCIPAL_ID": SP_PRINCIPAL_ID,
        "SP_SECRET": SP_SECRET,
    }
    body: dict[str, Any] = _fill(_fixture(name)["body"], values)
    return body


def _identity_client_id(e2e: E2E) -> str:
    from azure.mgmt.msi import ManagedServiceIdentityClient

    msi = e2e.arm.mgmt_client(ManagedServiceIdentityClient)
    return str(msi.user_assigned_identities.get("rg-demo", IDENTITY.rsplit("/", 1)[1]).client_id)


def _send(e2e: E2E, method: str, linker: str, body: dict[str, Any]) -> dict[str, Any]:
    status, headers, answer = e2e.http(method, f"{LINKERS}/{linker}?api-version={PREVIEW_API}", body)
    assert status == 201, answer
    final = e2e.wait_operation(headers["Azure-AsyncOperation"])
    assert final["status"] == "Succeeded", final
    return _get(e2e, linker)


def _get(e2e: E2E, linker: str) -> dict[str, Any]:
    status, _, answer = e2e.http("GET", f"{LINKERS}/{linker}?api-version={PREVIEW_API}")
    assert status == 200, answer
    properties: dict[str, Any] = answer["properties"]
    return properties


def _with_configuration(body: dict[str, Any], customized: dict[str, str]) -> dict[str, Any]:
    """The CLI's create body plus what a user set through the API that the CLI's update never resends."""
    created = json.loads(json.dumps(body))
    created["properties"]["configurationInfo"] = {
        "customizedKeys": customized,
        "deleteOrUpdateBehavior": "ForcedCleanup",
    }
    return created


def _storage_key(e2e: E2E) -> str:
    state = e2e.arm.emulator.state
    with state.lock:
        resource = next(r for k, r in state.resources.items() if k.lower() == STORAGE.lower())
        return str(next(iter(resource.secrets.values())))


def test_the_fixtures_are_what_the_cli_sdk_serializes(e2e: E2E) -> None:
    names = sorted(p.stem for p in BODIES.glob("*.json"))
    steps = [{"op": "serialize", "parameters": _fixture(n)["cliParameters"]} for n in names]

    results = run_steps(e2e.url, e2e.key, steps)

    assert len(names) == 8
    for name, result in zip(names, results, strict=True):
        assert result == {"ok": True, "value": _fixture(name)["body"]}, name


@pytest.mark.parametrize(
    "create", ["create_secret_auto", "create_workload_identity", "create_service_principal"]
)
def test_the_cli_create_body_reaches_succeeded(e2e: E2E, create: str) -> None:
    properties = _send(e2e, "PUT", "cliconn", _body(e2e, create))

    assert properties["provisioningState"] == "Succeeded"
    assert properties["targetService"]["id"] == BLOB
    secret = e2e.kube_secret(CLUSTER, "default", "sc-cliconn-secret")
    assert secret is not None and secret


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_secret_update_keeps_the_listed_key_and_what_it_does_not_name(e2e: E2E, method: str) -> None:
    customized = {"AZURE_STORAGEBLOB_CONNECTIONSTRING": "BLOB_CS"}
    _send(e2e, "PUT", "blobconn", _with_configuration(_body(e2e, "create_secret_auto"), customized))
    before = e2e.kube_secret(CLUSTER, "default", "sc-blobconn-secret")
    assert before is not None and _storage_key(e2e) in before["BLOB_CS"]

    properties = _send(e2e, method, "blobconn", _body(e2e, "update_secret_auto"))

    assert properties["clientType"] == "dotnet"
    assert properties["authInfo"]["authType"] == "secret"
    assert properties["configurationInfo"]["customizedKeys"] == customized
    assert properties["configurationInfo"]["deleteOrUpdateBehavior"] == "ForcedCleanup"
    after = e2e.kube_secret(CLUSTER, "default", "sc-blobconn-secret")
    assert after is not None and _storage_key(e2e) in after["BLOB_CS"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_password_update_changes_the_password_and_keeps_the_rest(e2e: E2E, method: str) -> None:
    customized = {"AZURE_POSTGRESQL_CONNECTIONSTRING": "PG_CS"}
    _send(e2e, "PUT", "pgconn", _with_configuration(_body(e2e, "create_secret_value"), customized))
    before = e2e.kube_secret(CLUSTER, "default", "sc-pgconn-secret")
    assert before is not None and f"password={PASSWORD}" in before["PG_CS"]

    properties = _send(e2e, method, "pgconn", _body(e2e, "update_secret_value"))

    assert properties["clientType"] == "python"
    assert properties["authInfo"]["name"] == "appuser"
    assert properties["configurationInfo"]["customizedKeys"] == customized
    assert properties["configurationInfo"]["deleteOrUpdateBehavior"] == "ForcedCleanup"
    after = e2e.kube_secret(CLUSTER, "default", "sc-pgconn-secret")
    assert after is not None and f"password={NEW_PASSWORD}" in after["PG_CS"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_password_named_without_a_value_keeps_the_stored_one(e2e: E2E, method: str) -> None:
    _send(e2e, "PUT", "pgconn", _body(e2e, "create_secret_value"))
    # What a client that read the linker back sends: the user, the secret's type, no value (never returned).
    body = _body(e2e, "update_secret_value")
    del body["properties"]["authInfo"]["secretInfo"]["value"]
    body["properties"]["clientType"] = "django"

    properties = _send(e2e, method, "pgconn", body)

    assert properties["clientType"] == "django"
    after = e2e.kube_secret(CLUSTER, "default", "sc-pgconn-secret")
    assert after is not None and after["AZURE_POSTGRESQL_PASSWORD"] == PASSWORD


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_workload_identity_update_keeps_the_identity_and_what_it_does_not_name(e2e: E2E, method: str) -> None:
    customized = {"AZURE_STORAGEBLOB_CLIENTID": "BLOB_CLIENT_ID"}
    _send(e2e, "PUT", "wiconn", _with_configuration(_body(e2e, "create_workload_identity"), customized))

    properties = _send(e2e, method, "wiconn", _body(e2e, "update_workload_identity"))

    assert properties["clientType"] == "dotnet"
    assert properties["authInfo"]["clientId"] == _identity_client_id(e2e)
    assert properties["configurationInfo"]["customizedKeys"] == customized
    assert properties["configurationInfo"]["deleteOrUpdateBehavior"] == "ForcedCleanup"
    after = e2e.kube_secret(CLUSTER, "default", "sc-wiconn-secret")
    assert after is not None and after["BLOB_CLIENT_ID"] == _identity_client_id(e2e)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_service_principal_update_keeps_the_stored_secret(e2e: E2E, method: str) -> None:
    customized = {"AZURE_STORAGEBLOB_CLIENTSECRET": "BLOB_SP_SECRET"}
    _send(e2e, "PUT", "spconn", _with_configuration(_body(e2e, "create_service_principal"), customized))
    before = e2e.kube_secret(CLUSTER, "default", "sc-spconn-secret")
    assert before is not None and before["BLOB_SP_SECRET"] == SP_SECRET

    properties = _send(e2e, method, "spconn", _body(e2e, "update_service_principal"))

    assert properties["clientType"] == "dotnet"
    assert properties["authInfo"]["clientId"] == SP_CLIENT_ID
    assert "secret" not in properties["authInfo"] or properties["authInfo"]["secret"] is None
    assert properties["configurationInfo"]["customizedKeys"] == customized
    assert properties["configurationInfo"]["deleteOrUpdateBehavior"] == "ForcedCleanup"
    after = e2e.kube_secret(CLUSTER, "default", "sc-spconn-secret")
    assert after is not None and after["BLOB_SP_SECRET"] == SP_SECRET
