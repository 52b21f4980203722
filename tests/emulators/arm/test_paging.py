"""Every ARM list the emulator serves is paged as ARM pages: `listPageSize` items, then a `nextLink` carrying
`$skipToken` and the request's other query parameters. The product's own list calls (identities by
subscription, federated credentials, role assignments) follow those links through the SDK pagers.

Shape per the common-types `nextLink` ("The URL to get the next set of results.") that every list response in
the specs (ManagedIdentity.json, extensions.json, authorization-RoleAssignmentsCalls.json, managedClusters)
use, with `x-ms-pageable` `nextLinkName: nextLink`; the token itself is opaque to clients.
"""

from __future__ import annotations

import urllib.parse
import uuid

import pytest
from azure.core.rest import HttpRequest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.models import Identity
from azure.mgmt.resource.resources import ResourceManagementClient

from activities.clients import Clients
from activities.identity import list_federated_credentials, resolve_identity
from activities.roles import list_role_assignments
from tests.activities.conftest import make_settings
from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness

RG = "rg-demo"
GROUP_ID = f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{RG}"
IDENTITY = "id-demo-workload"
IDENTITY_ID = f"{GROUP_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{IDENTITY}"
ISSUER = "https://eastus.oic.prod-aks.azure.com/tenant/issuer/"
# Reader, Contributor, Storage Blob Data Reader, Storage Blob Data Contributor (built-in role GUIDs).
ROLES = (
    "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
)
PAGE = 2


@pytest.fixture
def small_pages(arm: ArmHarness) -> ArmHarness:
    arm.seed_demo()
    arm.admin.call("POST", "/arm/settings", {"listPageSize": PAGE})
    return arm


def _list_requests(arm: ArmHarness, fragment: str) -> list[str]:
    """The paths of the GETs the emulator saw whose path ends with `fragment` (one per page read)."""
    entries = arm.admin.journal()["entries"]
    return [
        e["path"] for e in entries if e["method"] == "GET" and e["path"].lower().endswith(fragment.lower())
    ]


def test_a_list_answers_one_page_and_a_next_link_with_skip_token(small_pages: ArmHarness) -> None:
    msi = small_pages.mgmt_client(ManagedServiceIdentityClient)
    for i in range(3):
        msi.user_assigned_identities.create_or_update(RG, f"id-page-{i}", Identity(location="eastus"))
    client = small_pages.mgmt_client(ResourceManagementClient)
    path = f"{GROUP_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2024-11-30"
    first = client.send_request(HttpRequest("GET", path)).json()
    assert len(first["value"]) == PAGE
    link = urllib.parse.urlsplit(first["nextLink"])
    query = urllib.parse.parse_qs(link.query)
    assert query["api-version"] == ["2024-11-30"] and query["$skipToken"] == [str(PAGE)]
    names: list[str] = [v["name"] for v in first["value"]]
    while "nextLink" in (page := client.send_request(HttpRequest("GET", first["nextLink"])).json()):
        names += [v["name"] for v in page["value"]]
        first = page
    names += [v["name"] for v in page["value"]]
    assert sorted(names) == sorted([IDENTITY, "id-page-0", "id-page-1", "id-page-2"])
    assert len(set(names)) == len(names)


def test_a_bad_skip_token_is_an_arm_400(small_pages: ArmHarness) -> None:
    client = small_pages.mgmt_client(ResourceManagementClient)
    response = client.send_request(
        HttpRequest(
            "GET", f"/subscriptions/{DEMO_SUBSCRIPTION}/resourcegroups?api-version=2025-04-01&$skipToken=x"
        )
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidSkipToken"


def test_the_products_identity_lookup_follows_next_links(small_pages: ArmHarness) -> None:
    msi = small_pages.mgmt_client(ManagedServiceIdentityClient)
    last = None
    for i in range(4):
        last = msi.user_assigned_identities.create_or_update(RG, f"id-page-{i}", Identity(location="eastus"))
    assert last is not None
    clients = Clients(make_settings(small_pages), sleeper=lambda seconds: None)
    small_pages.admin.clear_journal()
    found = resolve_identity(str(last.client_id), DEMO_SUBSCRIPTION, clients=clients)
    assert found["id"].lower().endswith("/id-page-3")
    # Five identities at two a page: the one asked for is on the third page, reached through two nextLinks.
    assert len(_list_requests(small_pages, "/userAssignedIdentities")) == 3


def test_the_products_federated_credential_list_follows_next_links(small_pages: ArmHarness) -> None:
    msi = small_pages.mgmt_client(ManagedServiceIdentityClient)
    subjects = [f"system:serviceaccount:ns{i}:sc-account" for i in range(5)]
    for i, subject in enumerate(subjects):
        msi.federated_identity_credentials.create_or_update(
            RG,
            IDENTITY,
            f"fic-{i}",
            {
                "properties": {
                    "issuer": ISSUER,
                    "subject": subject,
                    "audiences": ["api://AzureADTokenExchange"],
                }
            },
        )
    clients = Clients(make_settings(small_pages), sleeper=lambda seconds: None)
    small_pages.admin.clear_journal()
    listed = list_federated_credentials(IDENTITY_ID, clients=clients)
    assert sorted(c["subject"] for c in listed) == sorted(subjects)
    assert len(_list_requests(small_pages, "/federatedIdentityCredentials")) == 3


def test_the_products_role_assignment_list_follows_next_links(small_pages: ArmHarness) -> None:
    msi = small_pages.mgmt_client(ManagedServiceIdentityClient)
    principal = str(msi.user_assigned_identities.get(RG, IDENTITY).principal_id)
    authz = small_pages.mgmt_client(AuthorizationManagementClient)
    scope = f"{GROUP_ID}/providers/Microsoft.Storage/storageAccounts/stdemo0001"
    names = set()
    for role in ROLES:
        params = RoleAssignmentCreateParameters(
            role_definition_id=f"/subscriptions/{DEMO_SUBSCRIPTION}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{role}",
            principal_id=principal,
            principal_type="ServicePrincipal",
        )
        names.add(str(authz.role_assignments.create(scope, str(uuid.uuid4()), params).name))
    clients = Clients(make_settings(small_pages), sleeper=lambda seconds: None)
    small_pages.admin.clear_journal()
    listed = list_role_assignments(scope, principal, clients=clients)
    assert {a["name"] for a in listed} >= names
    assert len(_list_requests(small_pages, "/roleAssignments")) == 2
