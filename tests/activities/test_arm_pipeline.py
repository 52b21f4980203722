"""Every ARM client the activities use is built with our pipeline: the scope guard first, our bounded retry,
and no SDK auto-registration (a 409 MissingSubscriptionRegistration surfaces; nothing registers by itself)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from activities.clients import Clients
from connector.errors import ConnectorFailure
from tests.activities.conftest import SUB, World

NOT_REGISTERED = {
    "error": {
        "code": "MissingSubscriptionRegistration",
        "message": "The subscription is not registered to use namespace 'Microsoft.ContainerService'.",
    }
}

FOREIGN_SUB = "00000000-0000-0000-0000-0000000000ff"
FOREIGN_SCOPE = f"/subscriptions/{FOREIGN_SUB}/resourceGroups/rg-x"
ROLE = "11111111-1111-4111-8111-111111111111"

# One read per client kind: (in the demo subscription, in a subscription outside ALLOWED_SCOPES).
Read = Callable[[Clients, str], Any]
ARM_READS: dict[str, Read] = {
    "resources": lambda c, sub: c.resources(sub).resource_groups.get("rg-x"),
    "container_service": lambda c, sub: c.container_service(sub).managed_clusters.get("rg-x", "aks-x"),
    "extensions": lambda c, sub: c.extensions(sub).extensions.get(
        "rg-x", "Microsoft.ContainerService", "managedClusters", "aks-x", "sc-extension"
    ),
    "msi": lambda c, sub: c.msi(sub).user_assigned_identities.get("rg-x", "id-x"),
    "authorization": lambda c, sub: c.authorization(sub).role_assignments.get(
        f"/subscriptions/{sub}/resourceGroups/rg-x", ROLE
    ),
}


@pytest.mark.parametrize("kind", sorted(ARM_READS))
def test_every_arm_client_guards_scopes_and_never_registers_a_provider(world: World, kind: str) -> None:
    read = ARM_READS[kind]
    with pytest.raises(ConnectorFailure):
        read(world.clients, FOREIGN_SUB)
    assert world.arm_calls() == [], "the guard refused the call before it was sent"

    world.fault(".*", status=409, times=1, body=NOT_REGISTERED)
    with pytest.raises(HttpResponseError) as caught:
        read(world.clients, SUB)
    assert caught.value.status_code == 409
    calls = [e["method"] for e in world.arm_calls()]
    assert calls == ["GET"], "one read, no provider registration and no retry of the 409"
    assert world.waits == []
