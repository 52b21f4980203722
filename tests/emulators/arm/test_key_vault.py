# mypy: disable-error-code="union-attr"
# (SDK models type every field Optional; these tests assert on them.)
"""The Key Vault secrets data plane, driven by the official azure-keyvault-secrets client.

What is checked comes from the data-plane spec (Azure/azure-rest-api-specs,
specification/keyvault/data-plane/Microsoft.KeyVault/stable/7.6/secrets.json: SetSecret makes a new version,
GetSecret latest or by version, GetSecretVersions, GetSecrets, DeleteSecret soft-deletes, the name pattern
`^[0-9a-zA-Z-]+$`) and from how the client authenticates (the 401 challenge naming https://vault.azure.net).
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.secrets import ApiVersion, SecretClient
from azure.mgmt.keyvault import KeyVaultManagementClient

from tests.fixtures.arm import ArmHarness

VALUE = "kv-canary-7d1e0f"


class _RecordingCredential:
    """Hands out a token and remembers the scopes asked for."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("kv-token", int(time.time()) + 3600)


@pytest.fixture
def vault_url(arm: ArmHarness) -> str:
    arm.seed_demo()
    vault = arm.mgmt_client(KeyVaultManagementClient).vaults.get("rg-demo", "kv-demo-0001")
    return str(vault.properties.vault_uri)


def _client(arm: ArmHarness, url: str, credential: Any = None, **kwargs: Any) -> SecretClient:
    return SecretClient(
        url,
        credential or _RecordingCredential(),
        connection_verify=arm.ca_file,
        verify_challenge_resource=False,
        api_version=kwargs.pop("api_version", ApiVersion.V7_6),
        retry_total=0,
        **kwargs,
    )


def test_set_makes_a_new_version_and_get_reads_latest_or_by_version(arm: ArmHarness, vault_url: str) -> None:
    credential = _RecordingCredential()
    client = _client(arm, vault_url, credential)
    first = client.set_secret("conn-string", "one")
    second = client.set_secret("conn-string", "two", content_type="text/plain", tags={"owner": "sc"})

    assert first.properties.version != second.properties.version
    assert second.id == f"{vault_url}secrets/conn-string/{second.properties.version}"
    assert client.get_secret("conn-string").value == "two"
    assert client.get_secret("conn-string", first.properties.version).value == "one"
    assert second.properties.content_type == "text/plain" and second.properties.tags == {"owner": "sc"}
    assert second.properties.enabled is True
    versions = {p.version for p in client.list_properties_of_secret_versions("conn-string")}
    assert versions == {first.properties.version, second.properties.version}
    assert [p.name for p in client.list_properties_of_secrets()] == ["conn-string"]
    # The challenge made the client ask for a Key Vault token, not an ARM one.
    assert credential.scopes and set(credential.scopes) == {("https://vault.azure.net/.default",)}


def test_an_unauthenticated_request_gets_the_challenge(vault_url: str, arm: ArmHarness) -> None:
    request = urllib.request.Request(f"{vault_url}secrets/x?api-version=7.6", method="GET")

    context = ssl.create_default_context(cafile=arm.ca_file)
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, context=context, timeout=10)
    assert raised.value.code == 401
    challenge = raised.value.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer authorization="https://login.microsoftonline.com/')
    assert 'resource="https://vault.azure.net"' in challenge


@pytest.mark.parametrize("version", [ApiVersion.V7_4, ApiVersion.V7_5, ApiVersion.V7_6])
def test_the_spec_versions_are_served(arm: ArmHarness, vault_url: str, version: ApiVersion) -> None:
    client = _client(arm, vault_url, api_version=version)
    client.set_secret("versioned", "v")
    assert client.get_secret("versioned").value == "v"


def test_an_unknown_api_version_is_refused_with_bad_parameter(arm: ArmHarness, vault_url: str) -> None:
    client = _client(arm, vault_url, api_version=ApiVersion.V2016_10_01)
    with pytest.raises(HttpResponseError) as raised:
        client.set_secret("x", "v")
    assert raised.value.status_code == 400 and raised.value.error.code == "BadParameter"


def test_missing_secrets_and_bad_names(arm: ArmHarness, vault_url: str) -> None:
    client = _client(arm, vault_url)
    with pytest.raises(ResourceNotFoundError) as raised:
        client.get_secret("absent")
    assert raised.value.error.code == "SecretNotFound"
    with pytest.raises(HttpResponseError) as bad:
        client.set_secret("not_allowed", "v")
    assert bad.value.status_code == 400 and bad.value.error.code == "BadParameter"


def test_delete_is_soft_until_purged_and_recover_restores(arm: ArmHarness, vault_url: str) -> None:
    client = _client(arm, vault_url)
    client.set_secret("gone", "v1")
    deleted = client.begin_delete_secret("gone").result()
    assert deleted.recovery_id == f"{vault_url}deletedsecrets/gone"
    with pytest.raises(ResourceNotFoundError):
        client.get_secret("gone")
    with pytest.raises(ResourceExistsError) as taken:
        client.set_secret("gone", "v2")
    assert taken.value.status_code == 409
    client.begin_recover_deleted_secret("gone").result()
    assert client.get_secret("gone").value == "v1"
    client.begin_delete_secret("gone").result()
    client.purge_deleted_secret("gone")
    client.set_secret("gone", "fresh")
    assert len(list(client.list_properties_of_secret_versions("gone"))) == 1


def test_versions_page_with_next_links(arm: ArmHarness, vault_url: str) -> None:
    client = _client(arm, vault_url)
    made = {client.set_secret("paged", str(i)).properties.version for i in range(7)}
    listed = client.list_properties_of_secret_versions("paged", max_page_size=3)
    assert {p.version for p in listed} == made
    pages = [entry for entry in arm.admin.journal()["entries"] if entry["route"] == "kv/secretVersions"]
    assert len(pages) >= 3


def test_secret_values_never_reach_the_journal(arm: ArmHarness, vault_url: str) -> None:
    client = _client(arm, vault_url)
    client.set_secret("canary", VALUE)
    client.get_secret("canary")
    assert VALUE not in json.dumps(arm.admin.journal())
