"""The plan: a pure diff between what one cluster's connections want and what ARM and the cluster hold.

The observe step reads the cluster with a fixed number of calls and reports plain data (`ObservedCluster`);
`compute_plan` turns connections plus observation into an ordered tuple of actions, empty when nothing
drifted. Actions and observations carry ids, names and hashes only, and round-trip through JSON
(`to_dict` / `from_dict`) so they can cross the orchestration boundary.

The Secret's content depends on keys fetched at apply time (a storage key may have been regenerated), so
the plan cannot render it. The observe activity does: for each Secret it reports the hash of the Secret on
the cluster and the hash of the Secret rendered now from fresh values (`manifests.content_hash`). They
differ when a key was rotated, a value edited or a key deleted, and the plan then asks for ApplySecret.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from connector import manifests, naming, rbac, targets
from connector.model import Connection, WorkloadIdentityAuth

KUBERNETES_CONFIGURATION_PROVIDER = "Microsoft.KubernetesConfiguration"
EXTENSION_NAME = "sc-extension"
EXTENSION_TYPE = "microsoft.servicelinker.connection"
EXTENSION_RELEASE_NAMESPACE = "sc-system"
# Extension states from which only a (re)install converges; Creating/Updating are waited on instead.
_EXTENSION_NEEDS_INSTALL = frozenset({"failed", "canceled", "deleting"})


# --- Observed state --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObservedSecret:
    """A Secret the connector owns: its hash on the cluster and the hash of its content rendered now."""

    namespace: str
    name: str
    hash_on_cluster: str
    hash_rendered_now: str | None  # None: the observe step could not render it (treated as drift)
    linker_id: str | None = None  # from the ownership annotation


@dataclass(frozen=True)
class ObservedVaultSecrets:
    """A secret-store linker's side in Key Vault and the cluster, as keyed fingerprints and hashes only.

    `fingerprint_in_vault` covers the latest value of each of its vault secrets (None: one is missing or
    unreadable), `fingerprint_rendered_now` the values rendered now from fresh keys (None: could not render);
    both are HMACs under a key the observing activity holds, never plain hashes of a secret. The
    SecretProviderClass is compared by content hash, as Secrets are.
    """

    linker_id: str
    fingerprint_in_vault: str | None
    fingerprint_rendered_now: str | None
    provider_class_hash_on_cluster: str | None = None  # None: absent
    provider_class_hash_rendered_now: str | None = None  # None: could not render (treated as drift)

    @property
    def drifted(self) -> bool:
        """True when the vault or the SecretProviderClass differs from what the connection wants now."""
        return (
            self.fingerprint_rendered_now is None
            or self.fingerprint_in_vault != self.fingerprint_rendered_now
            or self.provider_class_hash_rendered_now is None
            or self.provider_class_hash_on_cluster != self.provider_class_hash_rendered_now
        )


@dataclass(frozen=True)
class ObservedServiceAccount:
    """A ServiceAccount the connector owns, with the content hash of what is on the cluster."""

    namespace: str
    name: str
    hash_on_cluster: str


@dataclass(frozen=True)
class ObservedIdentity:
    """A user-assigned identity as read from ARM (by client id)."""

    client_id: str
    resource_id: str
    principal_id: str
    tenant_id: str


@dataclass(frozen=True)
class ObservedFederatedCredential:
    """A federated identity credential on a user-assigned identity."""

    identity_client_id: str
    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...]


@dataclass(frozen=True)
class ObservedRoleAssignment:
    """A role assignment: scope, principal (object id) and role definition id."""

    scope: str
    principal_id: str
    role_definition_id: str


@dataclass(frozen=True)
class ObservationFailure:
    """A linker whose own resources could not be observed (its identity is gone, say): it is left out of the
    plan and fails with `error` (a ConnectorError dict), while the rest of the cluster is planned as usual."""

    linker_id: str
    error: Mapping[str, Any]


@dataclass(frozen=True)
class ObservedCluster:
    """Everything the plan needs to know about one cluster, as plain data."""

    cluster_id: str
    provider_registration_state: str = "NotRegistered"
    provisioning_state: str = "Succeeded"
    oidc_issuer_enabled: bool = False
    oidc_issuer_url: str | None = None
    workload_identity_enabled: bool = False
    key_vault_addon_enabled: bool = False
    key_vault_addon_client_id: str | None = None
    extension_provisioning_state: str | None = None  # None: the extension is not installed
    tenant_id: str | None = None
    secrets: tuple[ObservedSecret, ...] = ()
    vault_secrets: tuple[ObservedVaultSecrets, ...] = ()
    service_accounts: tuple[ObservedServiceAccount, ...] = ()
    identities: tuple[ObservedIdentity, ...] = ()
    federated_credentials: tuple[ObservedFederatedCredential, ...] = ()
    role_assignments: tuple[ObservedRoleAssignment, ...] = ()
    failures: tuple[ObservationFailure, ...] = ()

    def failed_linkers(self) -> set[str]:
        """The lower-cased ids of the linkers that could not be observed."""
        return {f.linker_id.lower() for f in self.failures}

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe data."""
        data: dict[str, Any] = _jsonable(self)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ObservedCluster:
        """The observation back from `to_dict()` data."""
        nested: dict[str, Any] = {
            "secrets": tuple(ObservedSecret(**item) for item in data.get("secrets", ())),
            "vault_secrets": tuple(ObservedVaultSecrets(**i) for i in data.get("vault_secrets", ())),
            "service_accounts": tuple(ObservedServiceAccount(**i) for i in data.get("service_accounts", ())),
            "identities": tuple(ObservedIdentity(**item) for item in data.get("identities", ())),
            "federated_credentials": tuple(
                ObservedFederatedCredential(**{**item, "audiences": tuple(item.get("audiences", ()))})
                for item in data.get("federated_credentials", ())
            ),
            "role_assignments": tuple(ObservedRoleAssignment(**i) for i in data.get("role_assignments", ())),
            "failures": tuple(ObservationFailure(**i) for i in data.get("failures", ())),
        }
        return cls(**{**data, **nested})


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    return value


# --- Actions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One step of a plan; `to_dict()` carries the action's name under "action"."""

    name: ClassVar[str] = "Action"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe data, with the action's name."""
        return {"action": self.name, **_jsonable(self)}


@dataclass(frozen=True)
class RegisterProvider(Action):
    """Register a resource provider on the cluster's subscription and wait until Registered."""

    name: ClassVar[str] = "RegisterProvider"
    subscription_id: str
    namespace: str = KUBERNETES_CONFIGURATION_PROVIDER


@dataclass(frozen=True)
class WaitForCluster(Action):
    """Wait until the cluster's provisioningState is Succeeded before changing anything on it."""

    name: ClassVar[str] = "WaitForCluster"
    cluster_id: str


@dataclass(frozen=True)
class WaitForExtension(Action):
    """Wait until sc-extension, being installed or updated, is Succeeded."""

    name: ClassVar[str] = "WaitForExtension"
    cluster_id: str


@dataclass(frozen=True)
class InstallExtension(Action):
    """Install (or reinstall) the Service Connector cluster extension."""

    name: ClassVar[str] = "InstallExtension"
    cluster_id: str
    extension_name: str = EXTENSION_NAME
    extension_type: str = EXTENSION_TYPE
    release_namespace: str = EXTENSION_RELEASE_NAMESPACE


@dataclass(frozen=True)
class EnableKeyVaultAddon(Action):
    """Enable the azureKeyvaultSecretsProvider add-on (Key Vault through the CSI driver)."""

    name: ClassVar[str] = "EnableKeyVaultAddon"
    cluster_id: str


@dataclass(frozen=True)
class EnableWorkloadIdentity(Action):
    """Enable the OIDC issuer and workload identity on the cluster (one managedCluster update)."""

    name: ClassVar[str] = "EnableWorkloadIdentity"
    cluster_id: str
    enable_oidc_issuer: bool = True
    enable_workload_identity: bool = True


@dataclass(frozen=True)
class CreateFederatedCredential(Action):
    """Create or update a federated credential on an identity for a ServiceAccount's tokens."""

    name: ClassVar[str] = "CreateFederatedCredential"
    identity_client_id: str
    identity_subscription_id: str
    identity_resource_id: str | None  # None: resolve from the client id at apply time
    credential_name: str
    issuer: str | None  # None: the OIDC issuer is being enabled; read its URL from the cluster at apply time
    subject: str
    audiences: tuple[str, ...] = (naming.FEDERATED_CREDENTIAL_AUDIENCE,)


@dataclass(frozen=True)
class AssignRole(Action):
    """Grant an identity a built-in role on the target."""

    name: ClassVar[str] = "AssignRole"
    scope: str
    identity_client_id: str
    principal_id: str | None  # None: resolve from the client id at apply time
    role_definition_id: str
    role_name: str
    assignment_name: str | None  # deterministic GUID; None until the principal is known


@dataclass(frozen=True)
class ApplySecret(Action):
    """Render (with freshly fetched values) and server-side apply a linker's Secret."""

    name: ClassVar[str] = "ApplySecret"
    linker_id: str
    namespace: str
    secret_name: str


@dataclass(frozen=True)
class StoreVaultSecrets(Action):
    """Write a secret-store linker's secret values into its vault (a new version only where the value
    differs) and server-side apply its SecretProviderClass."""

    name: ClassVar[str] = "StoreVaultSecrets"
    linker_id: str
    key_vault_id: str


@dataclass(frozen=True)
class ApplyServiceAccount(Action):
    """Server-side apply a workload-identity ServiceAccount."""

    name: ClassVar[str] = "ApplyServiceAccount"
    namespace: str
    service_account_name: str
    identity_client_id: str
    tenant_id: str | None = None  # the identity's tenant (service_account_tenant)


ACTION_TYPES: Mapping[str, type[Action]] = {
    cls.name: cls
    for cls in (
        WaitForCluster,
        RegisterProvider,
        InstallExtension,
        WaitForExtension,
        EnableKeyVaultAddon,
        EnableWorkloadIdentity,
        CreateFederatedCredential,
        AssignRole,
        StoreVaultSecrets,
        ApplySecret,
        ApplyServiceAccount,
    )
}


def action_from_dict(data: Mapping[str, Any]) -> Action:
    """The action back from `to_dict()` data; ValueError for an unknown action."""
    fields = dict(data)
    name = fields.pop("action", None)
    cls = ACTION_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown plan action {name!r}")
    if "audiences" in fields:
        fields["audiences"] = tuple(fields["audiences"])
    return cls(**fields)


# --- The diff --------------------------------------------------------------------------------------------


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def _identity(observed: ObservedCluster, client_id: str) -> ObservedIdentity | None:
    return next((i for i in observed.identities if _same(i.client_id, client_id)), None)


def _needs_provider(connections: Sequence[Connection], observed: ObservedCluster) -> Iterable[Action]:
    if observed.provider_registration_state.lower() != "registered":
        yield RegisterProvider(subscription_id=connections[0].cluster.subscription_id)


def _needs_extension(observed: ObservedCluster) -> Iterable[Action]:
    state = observed.extension_provisioning_state
    if state is None or state.lower() in _EXTENSION_NEEDS_INSTALL:
        yield InstallExtension(cluster_id=observed.cluster_id)
    elif state.lower() != "succeeded":
        yield WaitForExtension(cluster_id=observed.cluster_id)


def service_account_tenant(connection: Connection, observed: ObservedCluster) -> str | None:
    """The tenant a workload-identity ServiceAccount names: the identity's own, as ARM reports it.

    The app's AZURE_TENANT_ID (observed.tenant_id) serves only while the identity could not be read: the
    connector may run in another tenant than the identities it wires.
    """
    auth = connection.workload_identity
    identity = _identity(observed, auth.client_id) if auth is not None else None
    return identity.tenant_id if identity else observed.tenant_id


def _reads_vault_through_csi(connection: Connection) -> bool:
    """Key Vault with the CSI driver, or a secret store in Key Vault (mounted by the same add-on)."""
    return connection.key_vault_csi or connection.secret_store is not None


def _needs_cluster_features(connections: Sequence[Connection], observed: ObservedCluster) -> Iterable[Action]:
    if any(_reads_vault_through_csi(c) for c in connections) and not observed.key_vault_addon_enabled:
        yield EnableKeyVaultAddon(cluster_id=observed.cluster_id)
    if any(c.is_workload_identity for c in connections) and not (
        observed.oidc_issuer_enabled and observed.workload_identity_enabled
    ):
        yield EnableWorkloadIdentity(
            cluster_id=observed.cluster_id,
            enable_oidc_issuer=not observed.oidc_issuer_enabled,
            enable_workload_identity=not observed.workload_identity_enabled,
        )


def workload_identities(connections: Iterable[Connection]) -> list[tuple[Connection, WorkloadIdentityAuth]]:
    """The workload-identity connections, each with its identity (what observation and plan look at)."""
    return [(c, auth) for c in connections if (auth := c.workload_identity) is not None]


def _needs_federated_credentials(
    connections: Sequence[Connection], observed: ObservedCluster
) -> Iterable[Action]:
    issuer = observed.oidc_issuer_url if observed.oidc_issuer_enabled else None
    seen: set[tuple[str, str]] = set()
    for connection, auth in workload_identities(connections):
        key = (auth.client_id.lower(), connection.namespace)
        if key in seen:
            # Linkers sharing an identity and a namespace share the ServiceAccount and its credential.
            continue
        seen.add(key)
        account = naming.service_account_name(auth.client_id)
        subject = naming.service_account_subject(connection.namespace, account)
        present = any(
            _same(fc.identity_client_id, auth.client_id)
            # While the OIDC issuer is off its URL is unknown: any credential for the subject will do until
            # it is back on (AKS keeps the URL); the next observation compares issuers again.
            and naming.credential_trusts(
                fc.issuer, fc.subject, fc.audiences, wanted_issuer=issuer, wanted_subject=subject
            )
            for fc in observed.federated_credentials
        )
        if present:
            continue
        identity = _identity(observed, auth.client_id)
        yield CreateFederatedCredential(
            identity_client_id=auth.client_id,
            identity_subscription_id=auth.subscription_id,
            identity_resource_id=identity.resource_id if identity else auth.identity_resource_id,
            credential_name=naming.federated_credential_name(
                connection.cluster, connection.namespace, account
            ),
            issuer=issuer,
            subject=subject,
        )


def _needs_roles(connections: Sequence[Connection], observed: ObservedCluster) -> Iterable[Action]:
    seen: set[tuple[str, str, str]] = set()
    for connection, auth in workload_identities(connections):
        match = targets.match_target_id(connection.target_id)
        if match is None:
            continue
        for role in match.spec.roles:
            key = (connection.target_id.lower(), auth.client_id.lower(), role.guid.lower())
            if key in seen:
                continue
            seen.add(key)
            yield from _needs_role(connection, auth, role, match, observed)


def _needs_role(
    connection: Connection,
    auth: WorkloadIdentityAuth,
    role: targets.RoleSpec,
    match: targets.TargetMatch,
    observed: ObservedCluster,
) -> Iterable[Action]:
    subscription = match.parts.get("subscription", connection.cluster.subscription_id)
    role_definition_id = role.definition_id(subscription)
    identity = _identity(observed, auth.client_id)
    principal = identity.principal_id if identity else None
    present = principal is not None and any(
        # The rule ensure_role_assignment applies: the same role at the target or a parent scope.
        rbac.scope_covers(ra.scope, connection.target_id)
        and _same(ra.principal_id, principal)
        and rbac.same_role(ra.role_definition_id, role_definition_id)
        for ra in observed.role_assignments
    )
    if present:
        return
    yield AssignRole(
        scope=connection.target_id,
        identity_client_id=auth.client_id,
        principal_id=principal,
        role_definition_id=role_definition_id,
        role_name=role.name,
        assignment_name=(
            naming.role_assignment_name(connection.target_id, principal, role_definition_id)
            if principal
            else None
        ),
    )


def _needs_secrets(connections: Sequence[Connection], observed: ObservedCluster) -> Iterable[Action]:
    for connection in connections:
        name = naming.secret_name(connection.linker_name)
        found = next(
            (s for s in observed.secrets if s.namespace == connection.namespace and s.name == name),
            None,
        )
        if (
            found is None
            or found.hash_rendered_now is None
            or found.hash_rendered_now != found.hash_on_cluster
        ):
            yield ApplySecret(
                linker_id=connection.linker_id, namespace=connection.namespace, secret_name=name
            )


def _needs_vault_secrets(connections: Sequence[Connection], observed: ObservedCluster) -> Iterable[Action]:
    for connection in connections:
        if connection.secret_store is None:
            continue
        found = next(
            (v for v in observed.vault_secrets if v.linker_id.lower() == connection.linker_id.lower()), None
        )
        if found is None or found.drifted:
            yield StoreVaultSecrets(
                linker_id=connection.linker_id, key_vault_id=connection.secret_store.key_vault_id
            )


def _needs_service_accounts(connections: Sequence[Connection], observed: ObservedCluster) -> Iterable[Action]:
    seen: set[tuple[str, str]] = set()
    for connection, auth in workload_identities(connections):
        tenant_id = service_account_tenant(connection, observed)
        desired = manifests.build_service_account(connection, tenant_id)
        if desired is None:
            continue
        name = desired["metadata"]["name"]
        if (connection.namespace, name) in seen:
            continue
        seen.add((connection.namespace, name))
        found = next(
            (s for s in observed.service_accounts if s.namespace == connection.namespace and s.name == name),
            None,
        )
        if found is None or found.hash_on_cluster != manifests.content_hash(desired):
            yield ApplyServiceAccount(
                namespace=connection.namespace,
                service_account_name=name,
                identity_client_id=auth.client_id,
                tenant_id=tenant_id,
            )


def compute_plan(connections: Sequence[Connection], observed: ObservedCluster) -> tuple[Action, ...]:
    """The ordered actions that bring one cluster to what its connections want; empty when converged.

    Order: provider registration, extension, cluster features (Key Vault add-on, OIDC + workload identity),
    federated credentials, role assignments, Secrets, vault secrets (secret store), ServiceAccounts. When
    anything is to change and the cluster is not Succeeded (an upgrade or feature update runs), the plan first
    waits for it: AKS refuses writes meanwhile, and a Secret written then may be lost to the operation in
    progress.
    """
    for connection in connections:
        if not _same(connection.cluster.id, observed.cluster_id):
            raise ValueError(f"connection {connection.linker_id} is not on cluster {observed.cluster_id}")
    unobserved = observed.failed_linkers()
    ordered = sorted(
        (c for c in connections if c.linker_id.lower() not in unobserved), key=lambda c: c.linker_id.lower()
    )
    if not ordered:
        return ()
    changes = _changes(ordered, observed)
    if changes and observed.provisioning_state.lower() != "succeeded":
        return (WaitForCluster(cluster_id=observed.cluster_id), *changes)
    return changes


def _changes(ordered: Sequence[Connection], observed: ObservedCluster) -> tuple[Action, ...]:
    return (
        *_needs_provider(ordered, observed),
        *_needs_extension(observed),
        *_needs_cluster_features(ordered, observed),
        *_needs_federated_credentials(ordered, observed),
        *_needs_roles(ordered, observed),
        *_needs_secrets(ordered, observed),
        *_needs_vault_secrets(ordered, observed),
        *_needs_service_accounts(ordered, observed),
    )


# --- Who each action serves ------------------------------------------------------------------------------

# Actions that concern every connection of the cluster.
_CLUSTER_WIDE = (WaitForCluster, RegisterProvider, InstallExtension, WaitForExtension)


def workload_client_id(connection: Connection) -> str:
    """The lower-cased client id of a workload-identity connection ('' for any other auth)."""
    auth = connection.workload_identity
    return auth.client_id.lower() if auth is not None else ""


def uses_service_account(connection: Connection, namespace: str, client_id: str) -> bool:
    """True when the connection's workloads run as identity `client_id`'s ServiceAccount in `namespace`."""
    return (
        connection.is_workload_identity
        and connection.namespace == namespace
        and workload_client_id(connection) == client_id.lower()
    )


def linkers_served(action: Action, connections: Sequence[Connection]) -> set[str]:
    """The (lower-cased) ids of the linkers an action serves: a failure of the action fails exactly those."""
    ids = {c.linker_id.lower() for c in connections}
    if isinstance(action, _CLUSTER_WIDE):
        return ids
    if isinstance(action, EnableKeyVaultAddon):
        return {c.linker_id.lower() for c in connections if _reads_vault_through_csi(c)}
    if isinstance(action, EnableWorkloadIdentity):
        return {c.linker_id.lower() for c in connections if c.is_workload_identity}
    if isinstance(action, CreateFederatedCredential):
        return {
            c.linker_id.lower()
            for c in connections
            if workload_client_id(c) == action.identity_client_id.lower()
            and action.subject
            == naming.service_account_subject(c.namespace, naming.service_account_name(workload_client_id(c)))
        }
    if isinstance(action, AssignRole):
        return {
            c.linker_id.lower()
            for c in connections
            if workload_client_id(c) == action.identity_client_id.lower()
            and c.target_id.lower() == action.scope.lower()
        }
    if isinstance(action, ApplySecret | StoreVaultSecrets):
        return {action.linker_id.lower()} & ids
    if isinstance(action, ApplyServiceAccount):
        return {
            c.linker_id.lower()
            for c in connections
            if uses_service_account(c, action.namespace, action.identity_client_id)
        }
    return ids


@dataclass(frozen=True)
class Planned:
    """An action with the linkers it serves (ids as stored): all an orchestrator needs to carry it out and to
    attribute its failure, without the connections themselves (and their sealed secrets) in its history."""

    action: Action
    serves: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe data."""
        return {"action": self.action.to_dict(), "serves": list(self.serves)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Planned:
        """The planned action back from `to_dict()` data."""
        return cls(action_from_dict(data["action"]), tuple(str(i) for i in data.get("serves") or ()))


def plan_for(
    connections: Sequence[Connection], observed: ObservedCluster, *, force_apply: bool = False
) -> tuple[Planned, ...]:
    """`compute_plan` with the linkers each action serves; `force_apply` also re-applies every Secret that
    is not planned already (after the extension was reinstalled, say)."""
    actions = list(compute_plan(connections, observed))
    if force_apply:
        planned = {a.linker_id.lower() for a in actions if isinstance(a, ApplySecret)}
        planned |= observed.failed_linkers()  # not observed: not to be touched
        actions += [
            ApplySecret(c.linker_id, c.namespace, naming.secret_name(c.linker_name))
            for c in sorted(connections, key=lambda c: c.linker_id.lower())
            if c.linker_id.lower() not in planned
        ]
    by_id = {c.linker_id.lower(): c.linker_id for c in connections}
    return tuple(
        Planned(action, tuple(by_id[i] for i in sorted(linkers_served(action, connections))))
        for action in actions
    )
