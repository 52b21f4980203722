"""No confused deputy: every resource a request names or implies must lie inside ALLOWED_SCOPES.

A second subscription, outside the instance's scopes, holds a storage account and an identity that are real
(the ARM emulator would answer for them). Requests on an allowed cluster that point at them are refused with
403 AuthorizationFailed naming the field, over HTTP and Service Bus, and nothing reaches ARM or the cluster.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage

from tests.e2e.conftest import API, BLOB, CLUSTER, E2E, SUB
from tests.e2e.test_servicebus import _events, _queue_drained

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
FOREIGN_SUB = "00000000-0000-0000-0000-0000000000ff"
FOREIGN_RG = f"/subscriptions/{FOREIGN_SUB}/resourceGroups/rg-foreign"
FOREIGN_BLOB = f"{FOREIGN_RG}/providers/Microsoft.Storage/storageAccounts/stforeign01/blobServices/default"
FOREIGN_VAULT = f"{FOREIGN_RG}/providers/Microsoft.KeyVault/vaults/kv-foreign-01"


@pytest.fixture
def foreign(e2e: E2E) -> str:
    """A subscription outside ALLOWED_SCOPES: a storage account, a vault and an identity; its client id."""
    e2e.arm.seed(
        {
            "subscriptions": [
                {
                    "id": FOREIGN_SUB,
                    "resourceGroups": [
                        {
                            "name": "rg-foreign",
                            "identities": [{"name": "id-foreign"}],
                            "targets": [
                                {"type": "Microsoft.Storage/storageAccounts", "name": "stforeign01"},
                                {"type": "Microsoft.KeyVault/vaults", "name": "kv-foreign-01"},
                            ],
                        }
                    ],
                }
            ]
        }
    )
    identity = e2e.arm.emulator.state.get(
        f"{FOREIGN_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-foreign"
    )
    assert identity is not None
    e2e.arm.admin.clear_journal()
    return str(identity.properties["clientId"])


def _body(target: str = BLOB, auth: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "properties": {
            "targetService": {"type": "AzureResource", "id": target},
            "authInfo": auth or {"authType": "secret"},
            "clientType": "python",
            "scope": "default",
        }
    }


def _foreign_calls(e2e: E2E) -> list[str]:
    return [
        f"{e['method']} {e['path']}"
        for e in e2e.arm.admin.journal()["entries"]
        if FOREIGN_SUB in e["path"].lower()
    ]


def _assert_refused(response: tuple[int, dict[str, str], Any], field: str, resource: str) -> None:
    status, _, body = response
    assert status == 403, body
    assert body["error"]["code"] == "AuthorizationFailed"
    assert body["error"]["target"] == field
    assert resource in body["error"]["message"]
    assert "ALLOWED_SCOPES" in body["error"]["message"]


def test_a_target_in_another_subscription_is_refused_before_any_call(e2e: E2E, foreign: str) -> None:
    response = e2e.http("PUT", f"{LINKERS}/foreignblob?api-version={API}", _body(FOREIGN_BLOB))

    _assert_refused(response, "properties.targetService.id", FOREIGN_BLOB)
    assert e2e.arm.admin.journal()["entries"] == []  # not even the cluster was read
    assert e2e.http("GET", f"{LINKERS}/foreignblob?api-version={API}")[0] == 404


def test_a_workload_identity_in_another_subscription_is_refused(e2e: E2E, foreign: str) -> None:
    auth = {"authType": "userAssignedIdentity", "clientId": foreign, "subscriptionId": FOREIGN_SUB}

    response = e2e.http("PUT", f"{LINKERS}/foreignwi?api-version={API}", _body(auth=auth))

    _assert_refused(response, "properties.authInfo.subscriptionId", f"/subscriptions/{FOREIGN_SUB}")
    assert _foreign_calls(e2e) == []
    assert e2e.arm.admin.journal()["entries"] == []


def test_a_secret_store_in_another_subscription_is_refused(e2e: E2E, foreign: str) -> None:
    body = _body(
        auth={
            "authType": "secret",
            "secretInfo": {"secretType": "keyVaultSecretReference", "name": "db-password"},
        }
    )
    body["properties"]["secretStore"] = {"keyVaultId": FOREIGN_VAULT}

    response = e2e.http("PUT", f"{LINKERS}/foreignstore?api-version=2024-04-01", body)

    _assert_refused(response, "properties.secretStore.keyVaultId", FOREIGN_VAULT)
    assert e2e.arm.admin.journal()["entries"] == []


def test_a_secret_store_the_connector_would_not_use_is_refused_not_dropped(e2e: E2E) -> None:
    # Workload identity has no secret value to store: the vault would be dropped, so it is refused.
    body = _body(
        auth={
            "authType": "userAssignedIdentity",
            "clientId": "00000000-0000-4000-8000-00000000c11d",
            "subscriptionId": SUB,
        }
    )
    vault = BLOB.split("/providers/")[0] + "/providers/Microsoft.KeyVault/vaults/kv-demo-0001"
    body["properties"]["secretStore"] = {"keyVaultId": vault}

    status, _, error = e2e.http("PUT", f"{LINKERS}/droppedstore?api-version=2024-04-01", body)

    assert status == 400
    assert error["error"]["target"] == "properties.secretStore.keyVaultId"
    assert e2e.http("GET", f"{LINKERS}/droppedstore?api-version={API}")[0] == 404


def test_a_patch_cannot_move_the_target_out_of_scope(e2e: E2E, foreign: str) -> None:
    created = e2e.http("PUT", f"{LINKERS}/patched?api-version={API}", _body())
    assert created[0] == 201
    e2e.wait_operation(created[1]["Azure-AsyncOperation"])
    e2e.arm.admin.clear_journal()

    patch = {"properties": {"targetService": {"type": "AzureResource", "id": FOREIGN_BLOB}}}
    response = e2e.http("PATCH", f"{LINKERS}/patched?api-version={API}", patch)

    _assert_refused(response, "properties.targetService.id", FOREIGN_BLOB)
    linker = e2e.http("GET", f"{LINKERS}/patched?api-version={API}")[2]
    assert linker["properties"]["targetService"]["id"].lower() == BLOB.lower()
    assert _foreign_calls(e2e) == []


@pytest.mark.servicebus
def test_a_queue_message_naming_a_foreign_target_is_rejected_once(e2e: E2E, foreign: str) -> None:
    message = {"id": f"{LINKERS}/sbforeign", **_body(FOREIGN_BLOB)}
    with (
        ServiceBusClient.from_connection_string(e2e.servicebus.connection_string) as client,
        client.get_queue_sender(e2e.requests_queue) as sender,
    ):
        sender.send_messages(
            ServiceBusMessage(
                json.dumps(message).encode(), message_id="msg-foreign", content_type="application/json"
            )
        )

    [event] = _events(e2e, 1)

    assert event["type"] == "ConnectionRequestRejected"
    assert event["code"] == "AuthorizationFailed"
    assert event["target"] == "properties.targetService.id"
    _queue_drained(e2e)
    assert e2e.servicebus.dead_letter_count(e2e.requests_queue) == 0
    assert _foreign_calls(e2e) == []
    assert e2e.http("GET", f"{LINKERS}/sbforeign?api-version={API}")[0] == 404


def test_the_allowed_subscription_still_works(e2e: E2E, foreign: str) -> None:
    created = e2e.http("PUT", f"{LINKERS}/inscope?api-version={API}", _body())
    assert created[0] == 201
    assert e2e.wait_operation(created[1]["Azure-AsyncOperation"])["status"] == "Succeeded"
    assert _foreign_calls(e2e) == []
