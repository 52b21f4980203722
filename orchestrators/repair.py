"""Carry out a `connector.plan` on one cluster: each planned action becomes the activity calls it needs.

`perform` is the one place where plans are carried out, for every workflow: `connect` (a plan for one
connection), `reconcile_cluster` and `reset_extension` (a plan for many). Each action belongs to the linkers
it serves (`grouping.linkers_affected`). With `isolate=True` a failing action fails only those linkers: their
remaining actions are skipped, everyone else's still run, and each failed linker gets its own error back.
Without it (one connection) the first failure raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connector import plan
from connector.errors import ConnectorError
from connector.model import Connection, WorkloadIdentityAuth
from orchestrators.flow import Flow, Steps, failure_of, subscription_of
from orchestrators.grouping import linkers_affected, uses_service_account


class _Repair:
    """State shared by the actions of one plan: identities resolved and Kubernetes resources applied."""

    def __init__(
        self,
        flow: Flow,
        connections: Sequence[Connection],
        observed: plan.ObservedCluster,
        actions: Sequence[plan.Action],
    ) -> None:
        self.flow = flow
        self.connections = sorted(connections, key=lambda c: c.linker_id.lower())
        self.by_linker = {c.linker_id.lower(): c for c in self.connections}
        self.observed = observed
        self.actions = actions
        self.cluster: dict[str, Any] | None = None  # a fresh summary, after a feature change
        self.identities: dict[str, dict[str, Any]] = {
            i.client_id.lower(): {"id": i.resource_id, "principalId": i.principal_id, "tenantId": i.tenant_id}
            for i in observed.identities
        }
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
        """The identity's id and principal id (observed, else resolved once per plan)."""
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

    def features(self) -> Steps:
        """One cluster update for every feature the plan enables, then wait for Succeeded."""
        if self.features_done:
            return
        self.features_done = True
        key_vault = any(isinstance(a, plan.EnableKeyVaultAddon) for a in self.actions)
        workload = any(isinstance(a, plan.EnableWorkloadIdentity) for a in self.actions)
        self.flow.status("features", 0, self.flow.cluster_name)
        self.cluster = yield from self.flow.enable_cluster_features(
            key_vault_addon=key_vault, workload_identity=workload
        )

    def apply(self, connection: Connection) -> Steps:
        """Write what the plan found drifted of a connection's Secret and ServiceAccount, once per plan."""
        key = connection.linker_id.lower()
        if key in self.applied:
            return
        self.applied.add(key)
        secret = any(isinstance(a, plan.ApplySecret) and a.linker_id.lower() == key for a in self.actions)
        account = next(
            (
                a
                for a in self.actions
                if isinstance(a, plan.ApplyServiceAccount)
                and uses_service_account(connection, a.namespace, a.identity_client_id)
            ),
            None,
        )
        self.flow.status("resources", 0, connection.linker_name)
        payload: dict[str, Any] = {
            "connection": connection.to_stored(),
            "secret": secret,
            "serviceAccount": account is not None,
            "tenantId": plan.service_account_tenant(connection, self.observed),
        }
        addon = (self.cluster or {}).get("keyVaultAddonClientId") or self.observed.key_vault_addon_client_id
        if connection.key_vault_csi and addon:
            payload["addonClientId"] = addon
        yield from self.flow.call("apply_connection_resources", payload)

    def service_account_owner(self, action: plan.ApplyServiceAccount, failed: set[str]) -> Connection | None:
        """A connection (not failed) whose workloads run as the action's ServiceAccount."""
        return next(
            (
                c
                for c in self.connections
                if c.linker_id.lower() not in failed
                and uses_service_account(c, action.namespace, action.identity_client_id)
            ),
            None,
        )

    def record_for(self, action: plan.Action, failed: set[str]) -> list[str]:
        """The linker ids an action's grant is recorded on (those it serves that have not failed)."""
        served = linkers_affected(action, self.connections) - failed
        return [self.by_linker[k].linker_id for k in sorted(served) if k in self.by_linker]


def _carry_out(repair: _Repair, action: plan.Action, failed: set[str]) -> Steps:
    flow = repair.flow
    if isinstance(action, plan.WaitForCluster):
        flow.status("cluster", 0, flow.cluster_name)
        repair.cluster = yield from flow.wait_for_cluster()
    elif isinstance(action, plan.RegisterProvider):
        yield from flow.ensure_provider(action.subscription_id, action.namespace)
    elif isinstance(action, plan.InstallExtension):
        flow.status("extension", 0, "installing sc-extension")
        yield from flow.call("ensure_extension", {"clusterId": flow.cluster_id, "reinstallFailed": True})
        yield from flow.wait_for_extension()
    elif isinstance(action, plan.WaitForExtension):
        flow.status("extension", 0, "waiting for sc-extension")
        yield from flow.wait_for_extension()
    elif isinstance(action, plan.EnableKeyVaultAddon | plan.EnableWorkloadIdentity):
        yield from repair.features()
    elif isinstance(action, plan.CreateFederatedCredential):
        identity = yield from repair.identity(action.identity_client_id, action.identity_resource_id)
        issuer = action.issuer or (yield from repair.issuer())
        _, _, rest = action.subject.partition("system:serviceaccount:")
        namespace, _, account = rest.partition(":")
        flow.status("identity", 0, action.credential_name)
        made = yield from flow.call(
            "ensure_federated_credential",
            {
                "identityId": identity["id"],
                "clusterId": flow.cluster_id,
                "issuerUrl": issuer,
                "namespace": namespace,
                "serviceAccount": account,
                "recordFor": repair.record_for(action, failed),
            },
        )
        flow.granted = made.get("granted", flow.granted)
    elif isinstance(action, plan.AssignRole):
        principal = action.principal_id
        if not principal:
            principal = (yield from repair.identity(action.identity_client_id))["principalId"]
        flow.status("role", 0, f"{action.role_name} on {action.scope}")
        granted = yield from flow.call(
            "ensure_role_assignment",
            {
                "scope": action.scope,
                "principalId": principal,
                "roleGuid": action.role_definition_id.rstrip("/").rsplit("/", 1)[-1],
                "recordFor": repair.record_for(action, failed),
            },
        )
        flow.granted = granted.get("granted", flow.granted)
    elif isinstance(action, plan.ApplySecret):
        if action.linker_id.lower() in repair.by_linker:
            yield from repair.apply(repair.by_linker[action.linker_id.lower()])
    elif isinstance(action, plan.ApplyServiceAccount):
        owner = repair.service_account_owner(action, failed)
        if owner is not None:
            yield from repair.apply(owner)


def perform(
    flow: Flow,
    connections: Sequence[Connection],
    observed: plan.ObservedCluster,
    actions: Sequence[plan.Action],
    *,
    isolate: bool = False,
) -> Steps:
    """Run the planned actions in the plan's order; the failed linkers (lower-cased ids) with their errors.

    Without `isolate`, the first failure raises. With it, a failure fails only the linkers its action serves,
    and the actions that serve no other linker are skipped.
    """
    repair = _Repair(flow, connections, observed, actions)
    errors: dict[str, ConnectorError] = {}
    for action in actions:
        served = linkers_affected(action, repair.connections)
        if isolate and served and served <= set(errors):
            continue  # every linker it would serve has failed already
        try:
            yield from _carry_out(repair, action, set(errors))
        except Exception as exc:
            if not isolate:
                raise
            error = failure_of(exc)
            for linker in served or set(repair.by_linker):
                errors.setdefault(linker, error)
    return errors
