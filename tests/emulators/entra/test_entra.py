"""The Entra stand-in, driven by azure-identity (the official client): App Service managed identity (what a
Function App uses), client credentials through MSAL, and tokens in the v1 shape Azure Storage accepts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential

from emulators.entra import EntraEmulator, InvalidToken

STORAGE = "https://storage.azure.com"


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[EntraEmulator]:
    """A fresh stand-in, its managed identity endpoint in the environment as App Service sets it."""
    with EntraEmulator() as emulator:
        for name, value in emulator.managed_identity_environment().items():
            monkeypatch.setenv(name, value)
        for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT"):
            monkeypatch.delenv(name, raising=False)
        yield emulator


def test_default_credential_gets_a_system_assigned_token_storage_would_accept(entra: EntraEmulator) -> None:
    token = DefaultAzureCredential().get_token(f"{STORAGE}/.default")
    claims = entra.issuer.verify(token.token, STORAGE)
    # The checks Azurite's `--oauth basic` makes (issuer prefix, audience, lifetime claims), and the app's id.
    assert claims["iss"].startswith("https://sts.windows.net/") and claims["aud"] == STORAGE
    assert {"iat", "nbf", "exp"} <= set(claims) and claims["appid"] == entra.system_client_id
    assert [(g.grant, g.resource) for g in entra.grants()] == [("managed_identity", STORAGE)]


def test_a_user_assigned_identity_is_chosen_by_client_id(entra: EntraEmulator) -> None:
    client_id = entra.add_user_assigned_identity()
    token = ManagedIdentityCredential(client_id=client_id).get_token(f"{STORAGE}/.default")
    assert entra.issuer.verify(token.token)["appid"] == client_id
    with pytest.raises(ClientAuthenticationError):
        ManagedIdentityCredential(client_id="00000000-0000-0000-0000-00000000dead").get_token(
            f"{STORAGE}/.default"
        )


def test_the_identity_endpoint_refuses_a_caller_without_the_identity_header(entra: EntraEmulator) -> None:
    url = entra.managed_identity_environment()["IDENTITY_ENDPOINT"] + "?api-version=2019-08-01&resource=x"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)
    assert refused.value.code == 401
    assert entra.grants() == []


def test_a_token_is_verified_against_the_published_key_audience_and_signature(entra: EntraEmulator) -> None:
    token = ManagedIdentityCredential().get_token(f"{STORAGE}/.default").token
    with pytest.raises(InvalidToken, match="audience"):
        entra.issuer.verify(token, "https://servicebus.azure.net")
    header, claims, signature = token.split(".")
    with pytest.raises(InvalidToken, match="signature"):
        entra.issuer.verify(f"{header}.{claims}.{signature[::-1]}")
    with urllib.request.urlopen(f"{entra.url}/{entra.tenant_id}/v2.0/.well-known/openid-configuration") as r:
        metadata = json.load(r)
    with urllib.request.urlopen(metadata["jwks_uri"]) as r:
        assert [key["kid"] for key in json.load(r)["keys"]] == [json.loads(_unb64(header))["kid"]]


def test_client_credentials_through_msal_with_the_platform_errors() -> None:
    with EntraEmulator(tls=True) as entra:
        client_id, secret = entra.add_application()

        def credential(client_secret: str) -> ClientSecretCredential:
            return ClientSecretCredential(
                entra.tenant_id,
                client_id,
                client_secret,
                authority=entra.url,
                disable_instance_discovery=True,  # the public instance discovery is out of reach here
                connection_verify=entra.ca_file,
            )

        token = credential(secret).get_token("https://management.azure.com/.default")
        assert entra.issuer.verify(token.token, "https://management.azure.com")["appid"] == client_id
        with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
            credential("wrong").get_token("https://management.azure.com/.default")


def _unb64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
