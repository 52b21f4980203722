# mypy: disable-error-code="union-attr, index, operator, no-untyped-call"
# (SDK models type every field Optional and the kubernetes client is untyped; these tests assert on both.)
"""User-assigned identities and federated identity credentials through ManagedServiceIdentityClient.

Fields per specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/
ManagedIdentity.json.
"""

from __future__ import annotations

import threading

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.msi import ManagedServiceIdentityClient

from tests.fixtures.arm import ArmHarness

RG, IDENTITY = "rg-demo", "id-demo-workload"
ISSUER = "https://eastus.oic.prod-aks.azure.com/tenant/issuer/"
AUDIENCE = "api://AzureADTokenExchange"


def fic(subject: str, issuer: str = ISSUER, audiences: list[str] | None = None) -> dict:  # type: ignore[type-arg]
    return {
        "properties": {
            "issuer": issuer,
            "subject": subject,
            "audiences": [AUDIENCE] if audiences is None else audiences,
        }
    }


@pytest.fixture
def msi(arm: ArmHarness) -> ManagedServiceIdentityClient:
    arm.seed_demo()
    return arm.mgmt_client(ManagedServiceIdentityClient)


def test_identity_has_client_principal_and_tenant_ids(msi: ManagedServiceIdentityClient) -> None:
    identity = msi.user_assigned_identities.get(RG, IDENTITY)
    assert identity.client_id and identity.principal_id and identity.client_id != identity.principal_id
    assert identity.tenant_id == "7e57c0de-0000-4000-8000-000000000001"
    assert identity.type == "Microsoft.ManagedIdentity/userAssignedIdentities"


def test_identity_create_and_unknown_identity(msi: ManagedServiceIdentityClient) -> None:
    created = msi.user_assigned_identities.create_or_update(RG, "id-new", {"location": "eastus"})
    assert msi.user_assigned_identities.get(RG, "id-new").client_id == created.client_id
    with pytest.raises(ResourceNotFoundError) as err:
        msi.user_assigned_identities.get(RG, "id-missing")
    assert err.value.error.code == "ResourceNotFound"


def test_federated_credential_put_get_list_delete(msi: ManagedServiceIdentityClient) -> None:
    ops = msi.federated_identity_credentials
    subject = "system:serviceaccount:apps:sc-account-1"
    created = ops.create_or_update(RG, IDENTITY, "fic-apps", fic(subject))
    assert (created.issuer, created.subject, created.audiences) == (ISSUER, subject, [AUDIENCE])
    assert ops.get(RG, IDENTITY, "fic-apps").subject == subject
    assert [f.name for f in ops.list(RG, IDENTITY)] == ["fic-apps"]
    updated = ops.create_or_update(RG, IDENTITY, "fic-apps", fic(subject + "-b"))
    assert updated.subject == subject + "-b"
    ops.delete(RG, IDENTITY, "fic-apps")
    ops.delete(RG, IDENTITY, "fic-apps")  # absent: 204, tolerated
    with pytest.raises(ResourceNotFoundError):
        ops.get(RG, IDENTITY, "fic-apps")


@pytest.mark.parametrize(
    ("name", "body", "target"),
    [
        ("fic-ok", fic("s", issuer="http://insecure.example/"), "properties.issuer"),
        ("fic-ok", fic("s", issuer="not a url"), "properties.issuer"),
        ("fic-ok", fic("s", audiences=[AUDIENCE, "other"]), "properties.audiences"),
        ("fic-ok", fic("s", audiences=[]), "properties.audiences"),
        ("fic-ok", fic(""), "properties.subject"),
        ("-bad-start", fic("s"), "name"),
        ("ab", fic("s"), "name"),
    ],
)
def test_federated_credential_validation(
    msi: ManagedServiceIdentityClient,
    name: str,
    body: dict,  # type: ignore[type-arg]
    target: str,
) -> None:
    with pytest.raises(HttpResponseError) as err:
        msi.federated_identity_credentials.create_or_update(RG, IDENTITY, name, body)
    assert err.value.status_code == 400
    assert err.value.error.target == target


def test_same_issuer_and_subject_under_another_name_conflicts(msi: ManagedServiceIdentityClient) -> None:
    msi.federated_identity_credentials.create_or_update(RG, IDENTITY, "fic-one", fic("sub"))
    with pytest.raises(ResourceExistsError) as err:
        msi.federated_identity_credentials.create_or_update(RG, IDENTITY, "fic-two", fic("sub"))
    assert (
        err.value.error.message == "Issuer and subject combination already exists for this Managed Identity."
    )


def test_at_most_twenty_credentials_per_identity(msi: ManagedServiceIdentityClient) -> None:
    ops = msi.federated_identity_credentials
    for i in range(20):
        ops.create_or_update(RG, IDENTITY, f"fic-{i:02d}", fic(f"system:serviceaccount:ns:sa-{i}"))
    with pytest.raises(HttpResponseError) as err:
        ops.create_or_update(RG, IDENTITY, "fic-20", fic("system:serviceaccount:ns:sa-20"))
    assert err.value.status_code == 400
    assert "maximum of 20" in err.value.error.message
    ops.create_or_update(
        RG, IDENTITY, "fic-00", fic("system:serviceaccount:ns:sa-0-renamed")
    )  # update is fine
    assert len(list(ops.list(RG, IDENTITY))) == 20


def test_concurrent_writes_on_one_identity_get_409(
    arm: ArmHarness, msi: ManagedServiceIdentityClient
) -> None:
    arm.admin.call("POST", "/arm/settings", {"ficWriteLatencySeconds": 0.3})
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def write(name: str) -> None:
        start.wait()
        try:
            outcomes[name] = msi.federated_identity_credentials.create_or_update(
                RG, IDENTITY, name, fic(name)
            )
        except HttpResponseError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=write, args=(n,)) for n in ("fic-a", "fic-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    errors = [o for o in outcomes.values() if isinstance(o, HttpResponseError)]
    assert len(errors) == 1
    assert errors[0].status_code == 409
    assert errors[0].error.code == "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"
    assert (
        "Concurrent Federated Identity Credentials writes under the same managed identity are not supported"
        in errors[0].error.message
    )
    # Once the first write is done, the identity takes writes again.
    msi.federated_identity_credentials.create_or_update(RG, IDENTITY, "fic-c", fic("fic-c"))


def test_identities_are_listed_by_resource_group(msi: ManagedServiceIdentityClient) -> None:
    assert [i.name for i in msi.user_assigned_identities.list_by_resource_group(RG)] == [IDENTITY]


def test_identities_are_listed_by_subscription(msi: ManagedServiceIdentityClient) -> None:
    msi.user_assigned_identities.create_or_update(RG, "id-second", {"location": "eastus"})
    assert {i.name for i in msi.user_assigned_identities.list_by_subscription()} == {IDENTITY, "id-second"}
