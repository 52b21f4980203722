"""The broker's claims-based security with Entra tokens: an identity-based client (a namespace and a token
credential, as `SERVICEBUS_CONNECTION__fullyQualifiedNamespace` gives) puts a `jwt` token on `$cbs`; with a
verifier the broker grants only valid tokens for https://servicebus.azure.net, and still grants SAS tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.core.credentials import AccessToken
from azure.identity import ManagedIdentityCredential
from azure.servicebus import ServiceBusClient, ServiceBusMessage
from azure.servicebus.exceptions import ServiceBusAuthenticationError

from emulators.entra import EntraEmulator
from emulators.servicebus import ServiceBusEmulator
from tests.emulators.servicebus.conftest import open_receiver, open_sender


class _ForgedCredential:
    """Hands out a token signed by another issuer (a second Entra stand-in)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken(self._token, 4102444800)


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[EntraEmulator]:
    with EntraEmulator() as emulator:
        for name, value in emulator.managed_identity_environment().items():
            monkeypatch.setenv(name, value)
        yield emulator


@pytest.fixture
def verifying_broker(
    servicebus_emulator: ServiceBusEmulator, entra: EntraEmulator
) -> Iterator[ServiceBusEmulator]:
    servicebus_emulator.trust_jwt(entra.issuer.verify)
    try:
        yield servicebus_emulator
    finally:
        servicebus_emulator.trust_jwt(None)


def _identity_client(broker: ServiceBusEmulator, credential: object) -> ServiceBusClient:
    # Plain AMQP on the emulator's port, as the SDK does for UseDevelopmentEmulator=true.
    return ServiceBusClient(f"{broker.host}:{broker.port}", credential, use_tls=False, retry_total=0)  # type: ignore[arg-type]


def test_an_identity_based_client_sends_and_receives_with_a_verified_token(
    verifying_broker: ServiceBusEmulator, entra: EntraEmulator, servicebus_queue: str
) -> None:
    before = len(verifying_broker.put_tokens())
    with _identity_client(verifying_broker, ManagedIdentityCredential()) as client:
        with open_sender(client, servicebus_queue) as sender:
            sender.send_messages(ServiceBusMessage("hello"))
        with open_receiver(client, servicebus_queue, max_wait_time=2) as receiver:
            received = receiver.receive_messages(max_wait_time=2)
            assert [str(m) for m in received] == ["hello"]
            receiver.complete_message(received[0])
    jwt_puts = [p for p in verifying_broker.put_tokens()[before:] if p.token_type == "jwt"]
    assert jwt_puts and all(p.granted and p.client_id == entra.system_client_id for p in jwt_puts)
    assert [g.resource for g in entra.grants()] == ["https://servicebus.azure.net"]


def test_a_token_from_another_issuer_is_refused_and_nothing_is_enqueued(
    verifying_broker: ServiceBusEmulator, servicebus_queue: str
) -> None:
    with EntraEmulator() as stranger:
        forged, _ = stranger.issuer.issue("https://servicebus.azure.net", "intruder", "intruder")
    with (
        _identity_client(verifying_broker, _ForgedCredential(forged)) as client,
        pytest.raises(ServiceBusAuthenticationError),
        open_sender(client, servicebus_queue) as sender,
    ):
        sender.send_messages(ServiceBusMessage("should not arrive"))
    assert verifying_broker.message_count(servicebus_queue) == 0
    assert verifying_broker.put_tokens()[-1].granted is False


def test_a_storage_token_is_not_a_service_bus_token(
    verifying_broker: ServiceBusEmulator, entra: EntraEmulator, servicebus_queue: str
) -> None:
    storage_token, _ = entra.issuer.issue("https://storage.azure.com", entra.system_client_id, "x")
    with (
        _identity_client(verifying_broker, _ForgedCredential(storage_token)) as client,
        pytest.raises(ServiceBusAuthenticationError),
        open_sender(client, servicebus_queue) as sender,
    ):
        sender.send_messages(ServiceBusMessage("wrong audience"))
    assert verifying_broker.message_count(servicebus_queue) == 0


def test_connection_string_clients_are_still_granted(
    verifying_broker: ServiceBusEmulator, servicebus_queue: str
) -> None:
    with (
        ServiceBusClient.from_connection_string(verifying_broker.connection_string) as client,
        open_sender(client, servicebus_queue) as sender,
    ):
        sender.send_messages(ServiceBusMessage("sas"))
    assert verifying_broker.message_count(servicebus_queue) == 1
    assert verifying_broker.put_tokens()[-1].token_type == "servicebus.windows.net:sastoken"
