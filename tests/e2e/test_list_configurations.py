"""listConfigurations reports what the Secret holds: an Azure OpenAI account's keys are AZURE_OPENAI_*."""

from __future__ import annotations

from tests.e2e.conftest import API, CLUSTER, E2E, RG

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
OPENAI = f"{RG}/providers/Microsoft.CognitiveServices/accounts/oai-demo-0001"


def test_an_openai_account_lists_the_keys_its_secret_holds(e2e: E2E) -> None:
    body = {
        "properties": {
            "targetService": {"type": "AzureResource", "id": OPENAI},
            "authInfo": {"authType": "secret"},
            "clientType": "python",
            "scope": "default",
        }
    }
    status, headers, answer = e2e.http("PUT", f"{LINKERS}/oaiconn?api-version={API}", body)
    assert status == 201, answer
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"
    held = e2e.kube_secret(CLUSTER, "default", "sc-oaiconn-secret")
    assert held and all(name.startswith("AZURE_OPENAI_") for name in held), held

    listed = e2e.http("POST", f"{LINKERS}/oaiconn/listConfigurations?api-version={API}")[2]

    assert sorted(c["name"] for c in listed["configurations"]) == sorted(held)
