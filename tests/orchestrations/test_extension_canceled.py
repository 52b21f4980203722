"""An extension install that Azure ends `Canceled` (a terminal provisioningState in the extension spec's
ProvisioningStateDefinition) fails the connection like a Failed one, with the state named and diagnostics."""

from __future__ import annotations

from orchestrators.flow import READY_TIMEOUT_MESSAGE
from tests.orchestrations.conftest import CLUSTER_1, Env, secret_connection


def test_a_canceled_extension_install_fails_the_linker_naming_canceled(env: Env) -> None:
    env.arm.admin.call(
        "POST",
        "/arm/install-failures",
        {"clusterId": CLUSTER_1, "outcome": "Canceled", "message": "The operation was canceled."},
    )
    linker_id = env.put_connection(secret_connection())
    run = env.connect(linker_id)

    assert run.output["provisioningState"] == "Failed"
    error = run.output["error"]
    assert READY_TIMEOUT_MESSAGE in error["message"]
    assert "the extension sc-extension is Canceled" in error["message"]
    assert error["diagnostics"]["extension"]["provisioningState"] == "Canceled"
    record = env.record(linker_id)
    assert record is not None and record["provisioningState"] == "Failed"
    assert "Canceled" in record["lastError"]["message"]
    # Failed at once on the Canceled state, not after the extension's whole wait budget.
    assert sum(run.waits()) < 120
    assert not [e for e in env.kube_calls() if e["method"] == "PATCH" and "/secrets/" in e["path"]]
