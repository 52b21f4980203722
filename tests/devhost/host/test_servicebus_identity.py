"""devhost reads a Service Bus trigger's identity-based connection as the Functions host does:
`<connection>__fullyQualifiedNamespace`, with `__credential=managedidentity` and `__clientId` for a
user-assigned identity; a credential it does not know stops the host at start."""

from __future__ import annotations

import pytest

from devhost.discovery import FunctionInfo
from devhost.servicebus import resolve_source
from devhost.settings import SettingsError


def _trigger() -> FunctionInfo:
    return FunctionInfo(
        name="on_request",
        trigger_type="serviceBusTrigger",
        input_binding_name="msg",
        trigger={"type": "serviceBusTrigger", "name": "msg", "queueName": "q", "connection": "SB"},
        bindings=[],
        user_function=lambda msg: None,
    )


def test_a_user_assigned_identity_is_read_from_credential_and_client_id() -> None:
    source = resolve_source(
        _trigger(),
        {
            "SB__fullyQualifiedNamespace": "sb-prod.servicebus.windows.net",
            "SB__credential": "managedidentity",
            "SB__clientId": "11111111-2222-3333-4444-555555555555",
        },
    )
    assert (source.connection_string, source.namespace) == (None, "sb-prod.servicebus.windows.net")
    assert source.managed_identity and source.client_id == "11111111-2222-3333-4444-555555555555"


def test_the_namespace_alone_uses_the_default_credential_chain() -> None:
    source = resolve_source(_trigger(), {"SB__fullyQualifiedNamespace": "sb-prod.servicebus.windows.net"})
    assert not source.managed_identity and source.client_id is None


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"SB__credential": "clientsecret"}, "SB__credential"),
        ({"SB__clientId": "11111111-2222-3333-4444-555555555555"}, "SB__clientId"),
    ],
)
def test_identity_settings_it_cannot_use_stop_the_host(settings: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        resolve_source(_trigger(), {"SB__fullyQualifiedNamespace": "sb.servicebus.windows.net", **settings})
