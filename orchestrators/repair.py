"""Carry out a `connector.plan` on one cluster: each planned action becomes the activity calls it needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connector import plan
from connector.model import Connection, WorkloadIdentityAuth
from orchestrators.flow import Flow, Steps, subscription_of
from orchestrators.grouping import uses_service_account


class _Repair:
    """State shared by the actions of one plan: identities resolved and Kubernetes resources applied."""

    def __init__(self, flow: Flow, connections: Sequence[Connection], observed: plan.ObservedCluster) -> None:
        self.flow = flow
        self.connections = sorted(connections, key=lambda c: c.linker_id.lower())
        self.observed = observed
        self.cluster: dict[str, Any] | None = None  # a fresh summary, after a feature change
        self.identities: dict[str, dict[str, Any]] = {}
        self.applied: set[str] = set()
        self.features_done = False

    def _with_identity(self, client_id: str) -> Connection | None:
        return next(
            (
                c
                for c in self.connections
                if isinstance(c.auth, WorkloadIdentityAuth) and c.auth.client_id.lower() == client_id.lower()
            ),
            None,
        )

    def identity(self, client_id: str, resource_id: str | None = None) -> Steps:
        """The identity's id and principal id (resolved once per plan)."""
        key = client_id.lower()
        if key not in self.identities:
            owner = self._with_identity(client_id)
            auth = owner.auth if owner and isinstance(owner.auth, WorkloadIdentityAuth) else None
            subscription = (auth.subscription_id if auth else "") or subscription_of(self.flow.cluster_id)
            self.identities[key] = yield from self.flow.call(
                "resolve_identity",
                {
                    "clientId": client_id,
                    "subscriptionId": subscription,
                    "identityResourceId": resource_id or (auth.identity_resource_id if auth else None),
                },
            )
        return self.identities[key]

    def issuer(self) -> Steps:
        """The cluster's OIDC issuer URL (read again after the issuer was enabled)."""
        if self.cluster is None and self.observed.oidc_issuer_enabled and self.observed.oidc_issuer_url:
            return self.observed.oidc_issuer_url
        if self.cluster is None:
            self.cluster = yield from self.flow.wait_for_cluster()
        return self.cluster.get("oidcIssuerUrl")

    def features(self, actions: Sequence[plan.Action]) -> Steps:
        """One cluster update for every feature the plan enables, then wait for Succeeded."""
        if self.features_done:
            return
        self.features_done = True
        key_vault = any(isinstance(a, plan.EnableKeyVaultAddon) for a in actions)
        workload = any(isinstance(a, plan.EnableWorkloadIdentity) for a in actions)
        self.flow.status("features", 0, self.flow.cluster_name)
        self.cluster = yield from self.flow.enable_cluster_features(
            key_vault_addon=key_vault, workload_identity=workload
        )

    def apply(self, connection: Connection) -> Steps:
        """Apply a connection's Secret (and ServiceAccount) once per plan."""
        key = connection.linker_id.lower()
        if key in self.applied:
            return
        self.applied.add(key)
        self.flow.status("resources", 0, connection.linker_name)
        payload: dict[str, Any] = {"connection": connection.to_stored()}
        addon = (self.cluster or {}).get("keyVaultAddonClientId") or self.observed.key_vault_addon_client_id
        if connection.key_vault_csi and addon:
            payload["addonClientId"] = addon
        yield from self.flow.call("apply_connection_resources", payload)


def perform(
    flow: Flow,
    connections: Sequence[Connection],
    observed: plan.ObservedCluster,
    actions: Sequence[plan.Action],
) -> Steps:
    """Run the planned actions in the plan's order (provider, extension, features, identity, resources)."""
    repair = _Repair(flow, connections, observed)
    by_linker = {c.linker_id.lower(): c for c in repair.connections}
    for action in actions:
        if isinstance(action, plan.RegisterProvider):
            yield from flow.ensure_provider(action.subscription_id, action.namespace)
        elif isinstance(action, plan.InstallExtension):
            flow.status("extension", 0, "installing sc-extension")
            yield from flow.call("ensure_extension", {"clusterId": flow.cluster_id, "reinstallFailed": True})
            yield from flow.wait_for_extension()
        elif isinstance(action, plan.EnableKeyVaultAddon | plan.EnableWorkloadIdentity):
            yield from repair.features(actions)
        elif isinstance(action, plan.CreateFederatedCredential):
            identity = yield from repair.identity(action.identity_client_id, action.identity_resource_id)
            issuer = action.issuer or (yield from repair.issuer())
            _, _, rest = action.subject.partition("system:serviceaccount:")
            namespace, _, account = rest.partition(":")
            flow.status("identity", 0, action.credential_name)
            yield from flow.call(
                "ensure_federated_credential",
                {
                    "identityId": identity["id"],
                    "clusterId": flow.cluster_id,
                    "issuerUrl": issuer,
                    "namespace": namespace,
                    "serviceAccount": account,
                },
            )
        elif isinstance(action, plan.AssignRole):
            principal = action.principal_id
            if not principal:
                principal = (yield from repair.identity(action.identity_client_id))["principalId"]
            flow.status("role", 0, f"{action.role_name} on {action.scope}")
            yield from flow.call(
                "ensure_role_assignment",
                {
                    "scope": action.scope,
                    "principalId": principal,
                    "roleGuid": action.role_definition_id.rstrip("/").rsplit("/", 1)[-1],
                },
            )
        elif isinstance(action, plan.ApplySecret):
            if action.linker_id.lower() in by_linker:
                yield from repair.apply(by_linker[action.linker_id.lower()])
        elif isinstance(action, plan.ApplyServiceAccount):
            owner = next(
                (
                    c
                    for c in repair.connections
                    if uses_service_account(c, action.namespace, action.identity_client_id)
                ),
                None,
            )
            if owner is not None:
                yield from repair.apply(owner)
