"""With only identity-based settings (no connection strings), the product keeps its registry in Table
Storage (Azurite over HTTPS with OAuth) and sends its outcome events to Service Bus with Entra tokens from
the managed identity endpoint; settings that are present but not understood stop the app at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient

from tests.e2e.conftest import API, CLUSTER, E2E, REPO, blob_secret_body
from tests.fixtures.azurite import OAuthAzurite
from tests.fixtures.entra import ProductApplication

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
IDENTITY_ONLY = pytest.mark.parametrize("connections", ["identity"], indirect=True)


def _events(e2e: E2E, timeout: float = 20) -> list[dict[str, Any]]:
    with (
        ServiceBusClient.from_connection_string(e2e.servicebus.connection_string) as client,
        client.get_queue_receiver(e2e.events_queue, max_wait_time=1) as receiver,
    ):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = receiver.receive_messages(max_message_count=10, max_wait_time=1)
            if messages:
                return [json.loads(b"".join(bytes(p) for p in m.body)) for m in messages]
    return []


@IDENTITY_ONLY
def test_a_connection_with_identity_based_storage_and_service_bus(
    e2e: E2E, entra_product: ProductApplication, azurite_oauth: OAuthAzurite
) -> None:
    entra_emulator = entra_product.emulator  # the stand-in the e2e fixture points the product at
    assert "AzureWebJobsStorage" not in os.environ and "SERVICEBUS_CONNECTION" not in os.environ
    storage_identity = dict(os.environ)["AzureWebJobsStorage__clientId"]
    grants_before = len(entra_emulator.grants())
    puts_before = len(e2e.servicebus.put_tokens())

    status, headers, body = e2e.http("PUT", f"{LINKERS}/idconn?api-version={API}", blob_secret_body())
    assert status == 201, body
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"

    # The outcome event went out on a token the broker verified, for the identity DefaultAzureCredential finds
    # first: the client secret the environment names (the e2e default), else the managed identity.
    assert [(e["type"], e["provisioningState"]) for e in _events(e2e)] == [
        ("ConnectionOperationCompleted", "Succeeded")
    ]
    app_identity = (
        os.environ["AZURE_CLIENT_ID"]
        if os.environ.get("AZURE_CLIENT_SECRET")
        else entra_emulator.system_client_id
    )
    jwt_puts = [p for p in e2e.servicebus.put_tokens()[puts_before:] if p.token_type == "jwt"]
    assert jwt_puts and all(p.granted and p.client_id == app_identity for p in jwt_puts)
    # The registry was reached with tokens for the user-assigned identity that __clientId names.
    grants = entra_emulator.grants()[grants_before:]
    assert {(g.resource, g.client_id) for g in grants} >= {("https://storage.azure.com", storage_identity)}
    # ... and holds the record, in the OAuth Azurite (read back here with its account key).
    assert e2e.storage == azurite_oauth.instance.connection_string
    assert [e["LinkerName"] for e in e2e.registry().list_entities()] == ["idconn"]


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("AzureWebJobsStorage__credential", "clientsecret", "AzureWebJobsStorage__credential"),
        ("AzureWebJobsStorage__blobServiceUri", "https://st.blob.core.windows.net", "__tableServiceUri"),
        ("SERVICEBUS_CONNECTION__credential", "managedidentity", "__fullyQualifiedNamespace"),
    ],
)
def test_settings_present_but_not_understood_stop_the_app_at_start(
    setting: str, value: str, named: str
) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AzureWebJobsStorage", "SERVICEBUS_CONN"))
    }
    env[setting] = value
    started = subprocess.run(
        [sys.executable, "-c", "import function_app"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "ConnectionSettingError" in started.stderr and named in started.stderr
