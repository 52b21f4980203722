"""Carry out a plan on one cluster: each planned action becomes the activity calls it needs.

`perform` is the one place where plans are carried out, for every workflow: `connect` (a plan for one
connection), `reconcile_cluster` and `reset_extension` (a page of many). A plan arrives as
`connector.plan.Planned` items (an action and the linkers it serves), computed inside the
`plan_connections` activity, so no connection or sealed secret passes through here. With `isolate=True` a
failing action fails only the linkers it serves: their remaining actions are skipped, everyone else's still
run, and each failed linker gets its own error back. Without it (one connection) the first failure raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connector import plan
from connector.boundary import Activity, ApplyLinkerRequest
from connector.errors import ConnectorError
from connector.ids import subscription_of
from orchestrators.flow import Flow, Steps, failure_of
from telemetry import reconcile_drift, reconcile_repair


class _Repair:
    """State shared by the actions of one plan: identities known, features enabled, linkers applied."""

    def __init__(
        self,
        flow: Flow,
        planned: Sequence[plan.Planned],
        observed: plan.ObservedCluster,
        pass_id: str | None,
    ) -> None:
        self.flow = flow
        self.pass_id = pass_id
        self.planned = planned
        self.observed = observed
        self.cluster: dict[str, Any] | None = None  # a fresh summary, after a feature change
        self.identities: dict[str, dict[str, Any]] = {
            i.client_id.lower(): {"id": i.resource_id, "principalId": i.principal_id, "tenantId": i.tenant_id}
            for i in observed.identities
        }
        self.applied: set[str] = set()
        self.features_done = False
        self.every_linker = sorted({i.lower() for p in planned for i in p.serves})

    def identity(self, client_id: str, subscription_id: str = "", resource_id: str | None = None) -> Steps:
        """The identity's id and principal id (as observed; else resolved once per plan)."""
        key = client_id.lower()
        if key not in self.identities:
            self.identities[key] = yield from self.flow.call(
                Activity.RESOLVE_IDENTITY,
                {
                    "clientId": client_id,
                    "subscriptionId": subscription_id or subscription_of(self.flow.cluster_id, default=""),
                    "identityResourceId": resource_id,
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
        actions = [p.action for p in self.planned]
        key_vault = any(isinstance(a, plan.EnableKeyVaultAddon) for a in actions)
        workload = any(isinstance(a, plan.EnableWorkloadIdentity) for a in actions)
        self.flow.status("features", 0, self.flow.cluster_name)
        self.cluster = yield from self.flow.enable_cluster_features(
            key_vault_addon=key_vault, workload_identity=workload
        )

    def account_owned_by(self, linker_id: str, failed: set[str]) -> plan.ApplyServiceAccount | None:
        """The ServiceAccount to write with this linker's resources: one whose first live linker it is."""
        for item in self.planned:
            owner = _owner(item, failed)
            if isinstance(item.action, plan.ApplyServiceAccount) and owner == linker_id.lower():
                return item.action
        return None

    def apply(self, linker_id: str, failed: set[str], *, secret: bool) -> Steps:
        """Write a linker's Secret (when drifted) and the ServiceAccount it owns (when drifted), once."""
        key = linker_id.lower()
        if key in self.applied:
            return
        self.applied.add(key)
        account = self.account_owned_by(linker_id, failed)
        self.flow.status("resources", 0, linker_id.rsplit("/", 1)[-1])
        payload: ApplyLinkerRequest = {
            "linkerId": linker_id,
            "secret": secret,
            "serviceAccount": account is not None,
            "tenantId": account.tenant_id if account is not None else None,
        }
        addon = (self.cluster or {}).get("keyVaultAddonClientId") or self.observed.key_vault_addon_client_id
        if addon:
            payload["addonClientId"] = addon
        if self.pass_id:
            payload["passId"] = self.pass_id
        yield from self.flow.call(Activity.APPLY_LINKER, payload)

    def store_in_vault(self, linker_id: str) -> Steps:
        """Write a secret-store linker's values into its vault (where they differ) and its
        SecretProviderClass; planned after the linker's Secret, whose apply creates a missing namespace."""
        self.flow.status("vault", 0, linker_id.rsplit("/", 1)[-1])
        payload: dict[str, Any] = {"linkerId": linker_id}
        addon = (self.cluster or {}).get("keyVaultAddonClientId") or self.observed.key_vault_addon_client_id
        if addon:
            payload["addonClientId"] = addon
        if self.pass_id:
            payload["passId"] = self.pass_id
        yield from self.flow.call(Activity.STORE_VAULT_SECRETS, payload)


def _owner(item: plan.Planned, failed: set[str]) -> str | None:
    return next((i.lower() for i in item.serves if i.lower() not in failed), None)


def _carry_out(repair: _Repair, item: plan.Planned, failed: set[str]) -> Steps:
    flow, action = repair.flow, item.action
    record_for = [i for i in item.serves if i.lower() not in failed]
    if isinstance(action, plan.WaitForCluster):
        flow.status("cluster", 0, flow.cluster_name)
        repair.cluster = yield from flow.wait_for_cluster()
    elif isinstance(action, plan.RegisterProvider):
        yield from flow.ensure_provider(action.subscription_id, action.namespace)
    elif isinstance(action, plan.InstallExtension):
        flow.status("extension", 0, "installing sc-extension")
        yield from flow.call(
            Activity.ENSURE_EXTENSION, {"clusterId": flow.cluster_id, "reinstallFailed": True}
        )
        yield from flow.wait_for_extension()
    elif isinstance(action, plan.WaitForExtension):
        flow.status("extension", 0, "waiting for sc-extension")
        yield from flow.wait_for_extension()
    elif isinstance(action, plan.EnableKeyVaultAddon | plan.EnableWorkloadIdentity):
        yield from repair.features()
    elif isinstance(action, plan.CreateFederatedCredential):
        identity = yield from repair.identity(
            action.identity_client_id, action.identity_subscription_id, action.identity_resource_id
        )
        issuer = action.issuer or (yield from repair.issuer())
        _, _, rest = action.subject.partition("system:serviceaccount:")
        namespace, _, account = rest.partition(":")
        flow.status("identity", 0, action.credential_name)
        made = yield from flow.call(
            Activity.ENSURE_FEDERATED_CREDENTIAL,
            {
                "identityId": identity["id"],
                "clusterId": flow.cluster_id,
                "issuerUrl": issuer,
                "namespace": namespace,
                "serviceAccount": account,
                "recordFor": record_for,
            },
        )
        flow.granted = made.get("granted", flow.granted)
    elif isinstance(action, plan.AssignRole):
        principal = action.principal_id
        if not principal:
            principal = (yield from repair.identity(action.identity_client_id))["principalId"]
        flow.status("role", 0, f"{action.role_name} on {action.scope}")
        granted = yield from flow.call(
            Activity.ENSURE_ROLE_ASSIGNMENT,
            {
                "scope": action.scope,
                "principalId": principal,
                "roleGuid": action.role_definition_id.rstrip("/").rsplit("/", 1)[-1],
                "recordFor": record_for,
            },
        )
        flow.granted = granted.get("granted", flow.granted)
    elif isinstance(action, plan.ApplySecret):
        yield from repair.apply(action.linker_id, failed, secret=True)
    elif isinstance(action, plan.StoreVaultSecrets):
        yield from repair.store_in_vault(action.linker_id)
    elif isinstance(action, plan.ApplyServiceAccount):
        owner = next((i for i in item.serves if i.lower() not in failed), None)
        if owner is not None:
            yield from repair.apply(owner, failed, secret=False)


def perform(
    flow: Flow,
    planned: Sequence[plan.Planned],
    observed: plan.ObservedCluster,
    *,
    isolate: bool = False,
    pass_id: str | None = None,
) -> Steps:
    """Run the planned actions in the plan's order; the failed linkers (lower-cased ids) with their errors.

    Without `isolate`, the first failure raises. With it, a failure fails only the linkers its action serves,
    and an action whose linkers have all failed already is skipped. `pass_id` lets the writes reuse the reads
    of a reconcile pass (a target's keys, read while planning).
    """
    repair = _Repair(flow, planned, observed, pass_id)
    errors: dict[str, ConnectorError] = {}
    for kind in sorted({item.action.name for item in planned}):
        reconcile_drift(flow.context, kind, sum(item.action.name == kind for item in planned))
    for item in planned:
        served = {i.lower() for i in item.serves}
        action = item.action.name
        if isolate and served and served <= set(errors):
            continue
        try:
            yield from _carry_out(repair, item, set(errors))
            reconcile_repair(flow.context, action, "succeeded")
        except Exception as exc:
            reconcile_repair(flow.context, action, "failed", failure_of(exc).code)
            if not isolate:
                raise
            error = failure_of(exc)
            for linker in served or set(repair.every_linker):
                errors.setdefault(linker, error)
    return errors


class PlannedPage:
    """What `plan_connections` returned, read back: the plan, the observation it needs, the linkers seen."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.linkers: list[dict[str, Any]] = list(data.get("linkers") or [])
        self.planned = [plan.Planned.from_dict(p) for p in data.get("planned") or []]
        self.observed = plan.ObservedCluster.from_dict(data.get("observed") or {"cluster_id": ""})
        self.failures: dict[str, ConnectorError] = {
            str(linker_id).lower(): ConnectorError.from_dict(group["error"])
            for group in data.get("failures") or []
            for linker_id in group.get("linkerIds") or []
        }
        self.continuation: dict[str, Any] | None = data.get("continuation")


def plan_linkers(flow: Flow, payload: dict[str, Any]) -> Steps:
    """Call `plan_connections` (reads, no writes) and read its answer as a PlannedPage."""
    flow.status("observe", 0, flow.cluster_name)
    data = yield from flow.call(Activity.PLAN_CONNECTIONS, {"clusterId": flow.cluster_id, **payload})
    return PlannedPage(data)
