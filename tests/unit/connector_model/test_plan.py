"""The plan on hand-written observations: a fresh cluster, a converged one, and each single drift."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest

from connector import manifests, naming, targets
from connector.model import ClusterRef, Connection
from connector.plan import (
    Action,
    ApplySecret,
    ApplyServiceAccount,
    AssignRole,
    CreateFederatedCredential,
    EnableKeyVaultAddon,
    EnableWorkloadIdentity,
    InstallExtension,
    ObservationFailure,
    ObservedCluster,
    ObservedFederatedCredential,
    ObservedIdentity,
    ObservedRoleAssignment,
    ObservedSecret,
    ObservedServiceAccount,
    Planned,
    RegisterProvider,
    WaitForCluster,
    WaitForExtension,
    action_from_dict,
    compute_plan,
    plan_for,
)
from connector.wire import parse_linker

from .conftest import (
    BLOB_TARGET_ID,
    CLUSTER_ID,
    IDENTITY_CLIENT_ID,
    IDENTITY_PRINCIPAL_ID,
    KEYVAULT_ID,
    SECRET_BODY,
    SUBSCRIPTION,
    TENANT_ID,
    WORKLOAD_IDENTITY_BODY,
    body,
)

ISSUER = "https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/1b2c3d4e/"
IDENTITY_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ids"
    "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app"
)
ADDON_CLIENT_ID = "11111111-2222-3333-4444-555555555555"
BLOB_ROLE = (
    f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization"
    "/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe"
)


def _linker(name: str) -> str:
    return f"{CLUSTER_ID}/providers/Microsoft.ServiceLinker/linkers/{name}"


def _connections() -> list[Connection]:
    csi = body(WORKLOAD_IDENTITY_BODY)
    csi["properties"]["targetService"] = {
        "type": "AzureResource",
        "id": KEYVAULT_ID,
        "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": True},
    }
    csi["properties"]["authInfo"] = {"authType": "userAssignedIdentity"}
    secret = body(SECRET_BODY)
    secret["properties"]["scope"] = "apps"
    return [
        parse_linker(_linker("wiblob"), body(WORKLOAD_IDENTITY_BODY), "2024-04-01"),
        parse_linker(_linker("kvcsi"), csi, "2024-04-01"),
        parse_linker(_linker("blobsecret"), secret, "2024-04-01"),
    ]


CONNECTIONS = _connections()
WI = CONNECTIONS[0]
CLUSTER = WI.cluster
ACCOUNT = f"sc-account-{IDENTITY_CLIENT_ID}"
SUBJECT = f"system:serviceaccount:default:{ACCOUNT}"
CREDENTIAL = naming.federated_credential_name(CLUSTER, "default", ACCOUNT)
ROLE_ASSIGNMENT = naming.role_assignment_name(BLOB_TARGET_ID, IDENTITY_PRINCIPAL_ID, BLOB_ROLE)


def _service_account_hash() -> str:
    account = manifests.build_service_account(WI, TENANT_ID)
    assert account is not None
    return manifests.content_hash(account)


CONVERGED = ObservedCluster(
    cluster_id=CLUSTER_ID,
    provider_registration_state="Registered",
    provisioning_state="Succeeded",
    oidc_issuer_enabled=True,
    oidc_issuer_url=ISSUER,
    workload_identity_enabled=True,
    key_vault_addon_enabled=True,
    key_vault_addon_client_id=ADDON_CLIENT_ID,
    extension_provisioning_state="Succeeded",
    tenant_id=TENANT_ID,
    secrets=(
        ObservedSecret("default", "sc-wiblob-secret", "h-wi", "h-wi", _linker("wiblob")),
        ObservedSecret("default", "sc-kvcsi-secret", "h-kv", "h-kv", _linker("kvcsi")),
        ObservedSecret("apps", "sc-blobsecret-secret", "h-blob", "h-blob", _linker("blobsecret")),
    ),
    service_accounts=(ObservedServiceAccount("default", ACCOUNT, _service_account_hash()),),
    identities=(ObservedIdentity(IDENTITY_CLIENT_ID, IDENTITY_ID, IDENTITY_PRINCIPAL_ID, TENANT_ID),),
    federated_credentials=(
        ObservedFederatedCredential(
            IDENTITY_CLIENT_ID, CREDENTIAL, ISSUER, SUBJECT, ("api://AzureADTokenExchange",)
        ),
    ),
    role_assignments=(
        ObservedRoleAssignment(BLOB_TARGET_ID.lower(), IDENTITY_PRINCIPAL_ID.upper(), BLOB_ROLE),
    ),
)


def test_converged_cluster_needs_nothing() -> None:
    assert compute_plan(CONNECTIONS, CONVERGED) == ()


def test_fresh_cluster_gets_the_full_plan_in_order() -> None:
    plan = compute_plan(CONNECTIONS, ObservedCluster(cluster_id=CLUSTER_ID))

    assert plan == (
        RegisterProvider(subscription_id=SUBSCRIPTION),
        InstallExtension(cluster_id=CLUSTER_ID),
        EnableKeyVaultAddon(cluster_id=CLUSTER_ID),
        EnableWorkloadIdentity(cluster_id=CLUSTER_ID, enable_oidc_issuer=True, enable_workload_identity=True),
        CreateFederatedCredential(
            identity_client_id=IDENTITY_CLIENT_ID,
            identity_subscription_id=SUBSCRIPTION,
            identity_resource_id=None,
            credential_name=CREDENTIAL,
            issuer=None,
            subject=SUBJECT,
        ),
        AssignRole(
            scope=BLOB_TARGET_ID,
            identity_client_id=IDENTITY_CLIENT_ID,
            principal_id=None,
            role_definition_id=BLOB_ROLE,
            role_name="Storage Blob Data Contributor",
            assignment_name=None,
        ),
        ApplySecret(linker_id=_linker("blobsecret"), namespace="apps", secret_name="sc-blobsecret-secret"),
        ApplySecret(linker_id=_linker("kvcsi"), namespace="default", secret_name="sc-kvcsi-secret"),
        ApplySecret(linker_id=_linker("wiblob"), namespace="default", secret_name="sc-wiblob-secret"),
        ApplyServiceAccount(
            namespace="default", service_account_name=ACCOUNT, identity_client_id=IDENTITY_CLIENT_ID
        ),
    )


Drift = Callable[[ObservedCluster], ObservedCluster]


def _replace(**changes: object) -> Drift:
    return lambda observed: dataclasses.replace(observed, **changes)  # type: ignore[arg-type]


def _secret(index: int, **changes: object) -> Drift:
    def drift(observed: ObservedCluster) -> ObservedCluster:
        secrets = list(observed.secrets)
        secrets[index] = dataclasses.replace(secrets[index], **changes)  # type: ignore[arg-type]
        return dataclasses.replace(observed, secrets=tuple(secrets))

    return drift


def _without_secret(index: int) -> Drift:
    return lambda o: dataclasses.replace(o, secrets=tuple(s for i, s in enumerate(o.secrets) if i != index))


def _credential(**changes: object) -> Drift:
    return lambda o: dataclasses.replace(
        o,
        federated_credentials=(dataclasses.replace(o.federated_credentials[0], **changes),),  # type: ignore[arg-type]
    )


SINGLE_DRIFTS: list[tuple[str, Drift, Action]] = [
    (
        "provider unregistered",
        _replace(provider_registration_state="NotRegistered"),
        RegisterProvider(SUBSCRIPTION),
    ),
    (
        "provider unregistering",
        _replace(provider_registration_state="Unregistering"),
        RegisterProvider(SUBSCRIPTION),
    ),
    ("extension removed", _replace(extension_provisioning_state=None), InstallExtension(CLUSTER_ID)),
    ("extension failed", _replace(extension_provisioning_state="Failed"), InstallExtension(CLUSTER_ID)),
    ("Key Vault add-on disabled", _replace(key_vault_addon_enabled=False), EnableKeyVaultAddon(CLUSTER_ID)),
    (
        "OIDC issuer disabled",
        _replace(oidc_issuer_enabled=False, oidc_issuer_url=None),
        EnableWorkloadIdentity(CLUSTER_ID, enable_oidc_issuer=True, enable_workload_identity=False),
    ),
    (
        "workload identity disabled",
        _replace(workload_identity_enabled=False),
        EnableWorkloadIdentity(CLUSTER_ID, enable_oidc_issuer=False, enable_workload_identity=True),
    ),
    (
        "federated credential deleted",
        _replace(federated_credentials=()),
        CreateFederatedCredential(IDENTITY_CLIENT_ID, SUBSCRIPTION, IDENTITY_ID, CREDENTIAL, ISSUER, SUBJECT),
    ),
    (
        "federated credential trusts an old issuer",
        _credential(issuer="https://old.example/"),
        CreateFederatedCredential(IDENTITY_CLIENT_ID, SUBSCRIPTION, IDENTITY_ID, CREDENTIAL, ISSUER, SUBJECT),
    ),
    (
        # Entra matches the issuer exactly: without the AKS issuer's trailing slash no token is accepted.
        "federated credential trusts the issuer without its trailing slash",
        _credential(issuer=ISSUER.rstrip("/")),
        CreateFederatedCredential(IDENTITY_CLIENT_ID, SUBSCRIPTION, IDENTITY_ID, CREDENTIAL, ISSUER, SUBJECT),
    ),
    (
        "federated credential lost its audience",
        _credential(audiences=("api://other",)),
        CreateFederatedCredential(IDENTITY_CLIENT_ID, SUBSCRIPTION, IDENTITY_ID, CREDENTIAL, ISSUER, SUBJECT),
    ),
    (
        "role assignment removed",
        _replace(role_assignments=()),
        AssignRole(
            BLOB_TARGET_ID,
            IDENTITY_CLIENT_ID,
            IDENTITY_PRINCIPAL_ID,
            BLOB_ROLE,
            "Storage Blob Data Contributor",
            ROLE_ASSIGNMENT,
        ),
    ),
    (
        "Secret deleted",
        _without_secret(2),
        ApplySecret(_linker("blobsecret"), "apps", "sc-blobsecret-secret"),
    ),
    (
        "storage key regenerated",
        _secret(2, hash_rendered_now="h-blob-new-key"),
        ApplySecret(_linker("blobsecret"), "apps", "sc-blobsecret-secret"),
    ),
    (
        "Secret edited by hand",
        _secret(0, hash_on_cluster="h-edited"),
        ApplySecret(_linker("wiblob"), "default", "sc-wiblob-secret"),
    ),
    (
        "Secret content could not be rendered",
        _secret(1, hash_rendered_now=None),
        ApplySecret(_linker("kvcsi"), "default", "sc-kvcsi-secret"),
    ),
    (
        "ServiceAccount deleted",
        _replace(service_accounts=()),
        ApplyServiceAccount("default", ACCOUNT, IDENTITY_CLIENT_ID, TENANT_ID),
    ),
    (
        "ServiceAccount annotation edited",
        _replace(service_accounts=(ObservedServiceAccount("default", ACCOUNT, "h-edited"),)),
        ApplyServiceAccount("default", ACCOUNT, IDENTITY_CLIENT_ID, TENANT_ID),
    ),
]


@pytest.mark.parametrize(
    ("drift", "action"), [d[1:] for d in SINGLE_DRIFTS], ids=[d[0] for d in SINGLE_DRIFTS]
)
def test_each_single_drift_gives_exactly_its_repair(drift: Drift, action: Action) -> None:
    assert compute_plan(CONNECTIONS, drift(CONVERGED)) == (action,)


def test_an_extension_being_updated_is_waited_on_not_reinstalled() -> None:
    observed = dataclasses.replace(CONVERGED, extension_provisioning_state="Updating")
    assert compute_plan(CONNECTIONS, observed) == (WaitForExtension(cluster_id=CLUSTER_ID),)


def test_a_busy_cluster_is_waited_for_before_any_change_and_only_then() -> None:
    busy = dataclasses.replace(CONVERGED, provisioning_state="Updating")
    assert compute_plan(CONNECTIONS, busy) == ()
    drifted = dataclasses.replace(busy, secrets=())
    planned = compute_plan(CONNECTIONS, drifted)
    assert planned[0] == WaitForCluster(cluster_id=CLUSTER_ID)
    assert all(isinstance(a, ApplySecret) for a in planned[1:]) and planned[1:]


def test_the_service_account_names_the_identity_tenant_not_the_app_setting() -> None:
    other_setting = dataclasses.replace(CONVERGED, tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47")
    assert compute_plan(CONNECTIONS, other_setting) == ()


def test_actions_and_observations_round_trip_through_json() -> None:
    fresh_plan = compute_plan(CONNECTIONS, ObservedCluster(cluster_id=CLUSTER_ID))
    repairs = [action for _, _, action in SINGLE_DRIFTS]
    for action in (*fresh_plan, *repairs):
        data = json.loads(json.dumps(action.to_dict()))
        assert data["action"] == type(action).name
        assert action_from_dict(data) == action
    assert ObservedCluster.from_dict(json.loads(json.dumps(CONVERGED.to_dict()))) == CONVERGED
    with pytest.raises(ValueError):
        action_from_dict({"action": "DeleteEverything"})


def test_linkers_sharing_an_identity_share_one_service_account_and_credential() -> None:
    second = parse_linker(_linker("wiblob2"), body(WORKLOAD_IDENTITY_BODY), "2024-04-01")
    plan = compute_plan([WI, second], ObservedCluster(cluster_id=CLUSTER_ID, tenant_id=TENANT_ID))

    kinds = [type(action).name for action in plan]
    assert kinds.count("CreateFederatedCredential") == 1
    assert kinds.count("ApplyServiceAccount") == 1
    assert kinds.count("AssignRole") == 1
    assert kinds.count("ApplySecret") == 2


def test_every_role_of_the_target_is_assigned() -> None:
    request = body(WORKLOAD_IDENTITY_BODY)
    request["properties"]["targetService"]["id"] = KEYVAULT_ID
    vault = parse_linker(_linker("kvwi"), request, "2024-04-01")
    spec = targets.get_spec("keyvault")

    plan = compute_plan([vault], dataclasses.replace(CONVERGED, role_assignments=()))

    assigned = [action for action in plan if isinstance(action, AssignRole)]
    assert [a.role_name for a in assigned] == [role.name for role in spec.roles]
    assert all(a.scope == KEYVAULT_ID and a.principal_id == IDENTITY_PRINCIPAL_ID for a in assigned)


def test_no_connections_no_actions_and_foreign_connections_are_refused() -> None:
    assert compute_plan([], ObservedCluster(cluster_id=CLUSTER_ID)) == ()
    other = ClusterRef(subscription_id=SUBSCRIPTION, resource_group="rg", name="elsewhere")
    with pytest.raises(ValueError, match="not on cluster"):
        compute_plan([WI], ObservedCluster(cluster_id=other.id))


def test_a_role_granted_on_a_parent_scope_is_present_and_one_below_the_target_is_not() -> None:
    group_scope = CLUSTER_ID.split("/providers/")[0]
    container_scope = f"{BLOB_TARGET_ID}/containers/app"

    def with_blob_role_at(scope: str) -> ObservedCluster:
        return dataclasses.replace(
            CONVERGED, role_assignments=(ObservedRoleAssignment(scope, IDENTITY_PRINCIPAL_ID, BLOB_ROLE),)
        )

    # ensure_role_assignment accepts an inherited grant without writing; reconciliation must agree with it.
    assert compute_plan(CONNECTIONS, with_blob_role_at(group_scope)) == ()
    below = compute_plan(CONNECTIONS, with_blob_role_at(container_scope))
    assert [a.scope for a in below if isinstance(a, AssignRole)] == [BLOB_TARGET_ID]


def test_each_planned_action_names_the_linkers_it_serves_and_round_trips() -> None:
    planned = plan_for(CONNECTIONS, ObservedCluster(cluster_id=CLUSTER_ID))
    for item in planned:
        assert Planned.from_dict(json.loads(json.dumps(item.to_dict()))) == item
        if isinstance(item.action, ApplySecret):
            assert item.serves == (item.action.linker_id,)
        if isinstance(item.action, InstallExtension):
            assert len(item.serves) == len(CONNECTIONS)


def test_force_apply_adds_every_secret_not_planned_yet_and_skips_the_unobserved() -> None:
    unobserved = dataclasses.replace(
        CONVERGED, failures=(ObservationFailure(_linker("wiblob"), {"code": "IdentityNotFound"}),)
    )
    forced = [p.action for p in plan_for(CONNECTIONS, unobserved, force_apply=True)]
    applied = {a.linker_id for a in forced if isinstance(a, ApplySecret)}
    assert applied == {c.linker_id for c in CONNECTIONS} - {_linker("wiblob")}
