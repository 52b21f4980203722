"""Resource provider registration (Microsoft.KubernetesConfiguration), done explicitly and observably."""

from __future__ import annotations

from typing import Any

from activities.clients import Clients, get_clients
from activities.failures import classified

# Re-exported: activities name the provider through this module (the constant itself lives in connector).
from connector.vocabulary import KUBERNETES_CONFIGURATION as KUBERNETES_CONFIGURATION

# States in which asking again would only repeat a write ARM is already carrying out.
_NO_WRITE_STATES = frozenset({"registered", "registering"})


def _state(clients: Clients, subscription_id: str, namespace: str) -> str:
    provider = clients.resources(subscription_id).providers.get(namespace)
    return str(provider.registration_state or "NotRegistered")


@classified
def read_provider(
    subscription_id: str, namespace: str = KUBERNETES_CONFIGURATION, *, clients: Clients | None = None
) -> dict[str, Any]:
    """One GET: the provider's registration state in a subscription."""
    clients = clients or get_clients()
    state = _state(clients, subscription_id, namespace)
    return {"subscriptionId": subscription_id, "namespace": namespace, "registrationState": state}


@classified
def register_provider(
    subscription_id: str, namespace: str = KUBERNETES_CONFIGURATION, *, clients: Clients | None = None
) -> dict[str, Any]:
    """Register the provider unless it is Registered or Registering already; return the state (no waiting)."""
    clients = clients or get_clients()
    state = _state(clients, subscription_id, namespace)
    registered_now = False
    if state.lower() not in _NO_WRITE_STATES:
        provider = clients.resources(subscription_id).providers.register(namespace)
        state = str(provider.registration_state or "Registering")
        registered_now = True
    return {
        "subscriptionId": subscription_id,
        "namespace": namespace,
        "registrationState": state,
        "registrationRequested": registered_now,
    }
