"""Azurite over HTTPS with `--oauth basic` (the azurite_oauth fixture): the Tables SDK with a token credential
from the Entra stand-in reads and writes; a token for another audience is refused, as Azure Storage does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.data.tables import TableServiceClient
from azure.identity import ManagedIdentityCredential

from emulators.entra import EntraEmulator
from tests.fixtures.azurite import OAuthAzurite, azurite_oauth  # noqa: F401
from tests.fixtures.entra import entra_emulator  # noqa: F401


class _FixedToken:
    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken(self._token, 4102444800)


@pytest.fixture
def managed_identity(
    entra_emulator: EntraEmulator,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ManagedIdentityCredential]:
    for name, value in entra_emulator.managed_identity_environment().items():
        monkeypatch.setenv(name, value)
    yield ManagedIdentityCredential()


def test_a_managed_identity_token_reads_and_writes_tables(
    azurite_oauth: OAuthAzurite,  # noqa: F811
    managed_identity: ManagedIdentityCredential,
) -> None:
    service = TableServiceClient(
        azurite_oauth.table_service_uri, credential=managed_identity, connection_verify=azurite_oauth.ca_file
    )
    table = service.create_table(f"oauth{uuid.uuid4().hex[:10]}")
    table.create_entity({"PartitionKey": "p", "RowKey": "r", "Value": 1})
    assert [e["Value"] for e in table.list_entities()] == [1]


def test_a_token_for_another_audience_is_refused(
    azurite_oauth: OAuthAzurite,  # noqa: F811
    entra_emulator: EntraEmulator,  # noqa: F811
) -> None:
    wrong, _ = entra_emulator.issuer.issue(
        "https://servicebus.azure.net", entra_emulator.system_client_id, "x"
    )
    service = TableServiceClient(
        azurite_oauth.table_service_uri,
        credential=_FixedToken(wrong),
        connection_verify=azurite_oauth.ca_file,
    )
    with pytest.raises(ClientAuthenticationError):
        service.create_table(f"refused{uuid.uuid4().hex[:10]}")
