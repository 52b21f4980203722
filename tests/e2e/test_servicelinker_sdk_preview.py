"""The az CLI's SDK, azure-mgmt-servicelinker 1.2.0b3 (api-version 2024-07-01-preview), drives every linker
operation the product serves, unchanged, from its side virtualenv (tests/e2e/sdk_preview).

1.2.0b3 adds dry-run, generateConfigurations, listDaprConfigurations and configurationNames operations; the
product serves none of them (they are not AKS linker operations), so the seven linker operations run here.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.conftest import BLOB, CLUSTER, E2E, IDENTITY, POSTGRES_DB, STORAGE, SUB
from tests.e2e.sdk_preview.harness import run_steps

PASSWORD = "Pg-" + uuid.uuid4().hex  # a value that must survive updates that do not restate it


def _run(e2e: E2E, *steps: dict[str, Any]) -> list[Any]:
    return run_steps(e2e.url, e2e.key, [{"resourceUri": CLUSTER, **step} for step in steps])


def _value(result: dict[str, Any]) -> Any:
    assert result["ok"], result
    return result["value"]


def _blob_secret(client_type: str = "python") -> dict[str, Any]:
    # The model's attribute names, as `az aks connection create` builds its parameters.
    return {
        "target_service": {"type": "AzureResource", "id": BLOB},
        "auth_info": {"auth_type": "secret"},
        "client_type": client_type,
        "scope": "default",
    }


def _storage_key(e2e: E2E) -> str:
    state = e2e.arm.emulator.state
    with state.lock:
        resource = next(r for k, r in state.resources.items() if k.lower() == STORAGE.lower())
        return str(next(iter(resource.secrets.values())))


def test_every_linker_operation_with_the_cli_sdk(e2e: E2E) -> None:
    created, fetched, configurations, validated = (
        _value(r)
        for r in _run(
            e2e,
            {"op": "create", "name": "blobconn", "parameters": _blob_secret()},
            {"op": "get", "name": "blobconn"},
            {"op": "list_configurations", "name": "blobconn"},
            {"op": "validate", "name": "blobconn"},
        )
    )

    assert created["provisioning_state"] == "Succeeded"
    secret = e2e.kube_secret(CLUSTER, "default", "sc-blobconn-secret")
    assert secret is not None
    assert _storage_key(e2e) in secret["AZURE_STORAGEBLOB_CONNECTIONSTRING"]
    assert fetched["target_service"]["id"] == BLOB
    assert fetched["auth_info"]["auth_type"] == "secret"
    assert fetched["scope"] == "default" and fetched["client_type"] == "python"
    assert [c["name"] for c in configurations["configurations"]] == ["AZURE_STORAGEBLOB_CONNECTIONSTRING"]
    assert validated["is_connection_available"] is True
    assert {d["result"] for d in validated["validation_detail"]} == {"success"}

    patched, deleted, after = _run(
        e2e,
        {"op": "update", "name": "blobconn", "parameters": {"client_type": "dotnet"}},
        {"op": "delete", "name": "blobconn"},
        {"op": "get", "name": "blobconn"},
    )

    assert _value(patched)["provisioning_state"] == "Succeeded"
    assert _value(patched)["client_type"] == "dotnet"
    assert deleted == {"ok": True, "value": None}
    assert (after["ok"], after["status"]) == (False, 404)
    # Delete keeps the Kubernetes resources by default, as Service Connector does.
    assert e2e.kube_secret(CLUSTER, "default", "sc-blobconn-secret") is not None


def test_list_follows_next_link_through_the_cli_sdk_pager(e2e: E2E) -> None:
    names = ["alpha", "bravo", "charlie", "delta", "echo"]
    results = _run(e2e, *({"op": "create", "name": n, "parameters": _blob_secret()} for n in names))
    assert all(_value(r)["provisioning_state"] == "Succeeded" for r in results)

    (pages,) = _run(e2e, {"op": "list"})

    assert _value(pages) == [["alpha", "bravo"], ["charlie", "delta"], ["echo"]]  # LIST_PAGE_SIZE is 2


def test_a_get_modify_put_keeps_the_stored_password(e2e: E2E) -> None:
    body = {
        "target_service": {"type": "AzureResource", "id": POSTGRES_DB},
        "auth_info": {
            "auth_type": "secret",
            "name": "appuser",
            "secret_info": {"secret_type": "rawValue", "value": PASSWORD},
        },
        "client_type": "python",
        "scope": "default",
    }
    created, fetched, updated = _run(
        e2e,
        {"op": "create", "name": "pgconn", "parameters": body},
        {"op": "get", "name": "pgconn"},
        {"op": "get_modify_put", "name": "pgconn", "changes": {"client_type": "django"}},
    )

    assert _value(created)["provisioning_state"] == "Succeeded"
    # The GET never returns the value, so the PUT that follows cannot restate it.
    assert "value" not in (_value(fetched)["auth_info"].get("secret_info") or {})
    assert _value(updated)["provisioning_state"] == "Succeeded"
    assert _value(updated)["client_type"] == "django"
    secret = e2e.kube_secret(CLUSTER, "default", "sc-pgconn-secret")
    assert secret is not None and secret.get("AZURE_POSTGRESQL_PASSWORD") == PASSWORD, secret


def test_a_patch_keeps_the_configuration_it_does_not_name(e2e: E2E) -> None:
    body = {
        **_blob_secret(),
        "configuration_info": {
            "customized_keys": {"AZURE_STORAGEBLOB_CONNECTIONSTRING": "BLOB_CS"},
            "delete_or_update_behavior": "ForcedCleanup",
        },
    }
    created, patched, configurations = _run(
        e2e,
        {"op": "create", "name": "cfgconn", "parameters": body},
        # As the CLI shapes its update: configurationInfo named, with nothing set in it.
        {
            "op": "update",
            "name": "cfgconn",
            "parameters": {"client_type": "dotnet", "configuration_info": {}},
        },
        {"op": "list_configurations", "name": "cfgconn"},
    )

    assert _value(created)["provisioning_state"] == "Succeeded"
    assert _value(patched)["client_type"] == "dotnet"
    assert [c["name"] for c in _value(configurations)["configurations"]] == ["BLOB_CS"]
    secret = e2e.kube_secret(CLUSTER, "default", "sc-cfgconn-secret")
    assert secret is not None and _storage_key(e2e) in secret["BLOB_CS"]

    (deleted,) = _run(e2e, {"op": "delete", "name": "cfgconn"})

    # ForcedCleanup survived the PATCH: the delete removes the Secret.
    assert deleted == {"ok": True, "value": None}
    assert e2e.kube_secret(CLUSTER, "default", "sc-cfgconn-secret") is None


def test_workload_identity_and_its_update_through_the_cli_sdk(e2e: E2E) -> None:
    client_id = _identity_client_id(e2e)
    body = {
        "target_service": {"type": "AzureResource", "id": BLOB},
        "auth_info": {"auth_type": "userAssignedIdentity", "client_id": client_id, "subscription_id": SUB},
        "client_type": "python",
        "scope": "apps",
    }
    created, configurations, updated, validated = _run(
        e2e,
        {"op": "create", "name": "wiconn", "parameters": body},
        {"op": "list_configurations", "name": "wiconn"},
        {"op": "get_modify_put", "name": "wiconn", "changes": {"client_type": "dotnet"}},
        {"op": "validate", "name": "wiconn"},
    )

    assert _value(created)["provisioning_state"] == "Succeeded"
    values = {c["name"]: c.get("value") for c in _value(configurations)["configurations"]}
    assert values["AZURE_STORAGEBLOB_CLIENTID"] == client_id
    assert _value(updated)["client_type"] == "dotnet"
    assert _value(updated)["auth_info"]["client_id"] == client_id
    assert _value(validated)["is_connection_available"] is True


def _identity_client_id(e2e: E2E) -> str:
    from azure.mgmt.msi import ManagedServiceIdentityClient

    msi = e2e.arm.mgmt_client(ManagedServiceIdentityClient)
    return str(msi.user_assigned_identities.get("rg-demo", IDENTITY.rsplit("/", 1)[1]).client_id)
