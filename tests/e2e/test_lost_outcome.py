"""An operation that completed but whose last registry write was lost (the store crashed after it) still ends:
reading the linker or the operation settles the record from the operation's output."""

from __future__ import annotations

from activities import registry
from tests.e2e.conftest import API, CLUSTER, E2E, blob_secret_body

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"


def test_a_lost_succeeded_write_is_taken_from_the_completed_operation(e2e: E2E) -> None:
    status, headers, _ = e2e.http("PUT", f"{LINKERS}/lostwrite?api-version={API}", blob_secret_body())
    assert status == 201
    assert e2e.wait_operation(headers["Azure-AsyncOperation"])["status"] == "Succeeded"
    linker_id = f"{LINKERS}/lostwrite"
    # As if the store lost the orchestration's last write: the record reads Accepted again.
    registry.update_status(linker_id, "Accepted")

    linker = e2e.http("GET", f"{LINKERS}/lostwrite?api-version={API}")[2]

    assert linker["properties"]["provisioningState"] == "Succeeded"
    assert registry.get_record(linker_id)["provisioningState"] == "Succeeded"  # type: ignore[index]
