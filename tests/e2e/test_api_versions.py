"""Today's `az aks connection` (api-version 2024-07-01-preview) and its update body work as sent."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import CLUSTER, E2E, blob_secret_body

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"


@pytest.mark.parametrize("api_version", ["2022-11-01-preview", "2023-04-01-preview", "2024-07-01-preview"])
def test_a_put_at_a_preview_api_version_succeeds_and_reads_back(e2e: E2E, api_version: str) -> None:
    name = "cli" + api_version.replace("-", "")[:8]
    body = blob_secret_body()
    body["properties"]["configurationInfo"] = {"customizedKeys": {}, "deleteOrUpdateBehavior": "Default"}

    status, headers, answer = e2e.http("PUT", f"{LINKERS}/{name}?api-version={api_version}", body)

    assert status == 201, answer
    # The operation is polled at the api-version the client used, as ARM's Azure-AsyncOperation URLs are.
    assert headers["Azure-AsyncOperation"].endswith(f"?api-version={api_version}")
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"
    linker = e2e.http("GET", f"{LINKERS}/{name}?api-version={api_version}")[2]
    assert linker["properties"]["provisioningState"] == "Succeeded"
    # The default behaviour and no customized keys read back as null, as Azure answers them (azure-cli's
    # recorded GET at 2024-07-01-preview), not as invented values.
    assert linker["properties"]["configurationInfo"]["deleteOrUpdateBehavior"] is None
    assert linker["properties"]["configurationInfo"]["customizedKeys"] is None


def test_the_cli_update_body_for_secret_auth_succeeds_and_changes_only_what_it_names(e2e: E2E) -> None:
    version = "2024-07-01-preview"
    created = e2e.http("PUT", f"{LINKERS}/cliupdate?api-version={version}", blob_secret_body())
    assert e2e.wait_operation(created[1]["Azure-AsyncOperation"])["status"] == "Succeeded"
    secret_before = e2e.kube_secret(CLUSTER, "default", "sc-cliupdate-secret")
    update = blob_secret_body(client_type="dotnet")
    update["properties"]["authInfo"] = {"authType": "secret", "secretInfo": {"secretType": "rawValue"}}

    status, headers, answer = e2e.http("PUT", f"{LINKERS}/cliupdate?api-version={version}", update)

    assert status == 201, answer
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"
    secret_after = e2e.kube_secret(CLUSTER, "default", "sc-cliupdate-secret")
    assert secret_before and secret_after
    # Same account key, now under the .NET client's key names.
    assert set(secret_before.values()) == set(secret_after.values())
