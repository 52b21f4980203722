"""The boundary between orchestrators and activities, as types: every activity's name, and the payloads of
the convergence path (plan -> perform -> stamp) and of a registry record.

Orchestrators call activities by these names (`flow.call(Activity.PLAN_CONNECTIONS, ...)`);
activities/durable.py registers each under the same name, and a test checks that both sides agree. Payloads
are JSON dicts on the wire: the TypedDicts say which keys each carries (ids, names and hashes only; never a
secret value).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NotRequired, TypedDict


class Activity(StrEnum):
    """Every Durable activity of the app, by the name it is registered and called under."""

    READ_PROVIDER = "read_provider"
    REGISTER_PROVIDER = "register_provider"
    READ_CLUSTER = "read_cluster"
    ENABLE_CLUSTER_FEATURES = "enable_cluster_features"
    READ_EXTENSION = "read_extension"
    ENSURE_EXTENSION = "ensure_extension"
    DELETE_EXTENSION = "delete_extension"
    RESOLVE_IDENTITY = "resolve_identity"
    ENSURE_FEDERATED_CREDENTIAL = "ensure_federated_credential"
    DELETE_FEDERATED_CREDENTIAL = "delete_federated_credential"
    ENSURE_ROLE_ASSIGNMENT = "ensure_role_assignment"
    DELETE_ROLE_ASSIGNMENT = "delete_role_assignment"
    APPLY_CONNECTION_RESOURCES = "apply_connection_resources"
    DELETE_CONNECTION_RESOURCES = "delete_connection_resources"
    PUBLISH_OUTCOME = "publish_outcome"
    OBSERVE_CLUSTER = "observe_cluster"
    DELETE_ORPHANS = "delete_orphans"
    COLLECT_DIAGNOSTICS = "collect_diagnostics"
    REGISTRY_GET = "registry_get"
    REGISTRY_PUT = "registry_put"
    REGISTRY_UPDATE_STATUS = "registry_update_status"
    REGISTRY_DELETE = "registry_delete"
    REGISTRY_SERVICE_ACCOUNT_USERS = "registry_service_account_users"
    REGISTRY_LINKERS_GRANTED = "registry_linkers_granted"
    PLAN_CONNECTIONS = "plan_connections"
    APPLY_LINKER = "apply_linker"
    CLUSTER_ORPHANS = "cluster_orphans"
    REGISTRY_CLUSTER_PAGE = "registry_cluster_page"
    REGISTRY_STAMP_RECONCILED = "registry_stamp_reconciled"
    STORE_VAULT_SECRETS = "store_vault_secrets"
    DELETE_VAULT_SECRETS = "delete_vault_secrets"


class PlanRequest(TypedDict):
    """`plan_connections` input: named linkers (connect), or one page of a cluster (reconcile)."""

    clusterId: str
    linkerIds: NotRequired[list[str]]
    continuation: NotRequired[dict[str, Any] | None]
    pageSize: NotRequired[int]
    passId: NotRequired[str | None]
    forceApply: NotRequired[bool]


class PlannedLinker(TypedDict):
    """A linker a plan covered: its id, generation and state as read (its grants, for a connect)."""

    linkerId: str
    generation: int | None
    provisioningState: str | None
    granted: NotRequired[dict[str, Any]]


class FailureGroup(TypedDict):
    """Linkers that could not be planned, sharing one error (`ConnectorError.to_dict()`)."""

    linkerIds: list[str]
    error: dict[str, Any]


class PlannedPageData(TypedDict):
    """`plan_connections` output: bounded by the page size whatever the number of connections."""

    linkers: list[PlannedLinker]
    planned: list[dict[str, Any]]  # connector.plan.Planned.to_dict()
    failures: list[FailureGroup]
    observed: dict[str, Any]  # ObservedCluster.to_dict() without object lists
    continuation: dict[str, Any] | None


class ApplyLinkerRequest(TypedDict):
    """`apply_linker` input: what the plan found drifted of one linker's Kubernetes resources."""

    linkerId: str
    secret: bool
    serviceAccount: bool
    tenantId: str | None
    addonClientId: NotRequired[str]
    passId: NotRequired[str]


class Stamp(TypedDict):
    """One record's outcome in a reconcile pass (`error`: an index into the request's `errors`)."""

    name: str
    generation: int | None
    previousState: str | None
    provisioningState: str
    lastReconcile: dict[str, Any]
    error: NotRequired[int]


class StampRequest(TypedDict):
    """`registry_stamp_reconciled` input: a page's stamps, each distinct error carried once."""

    clusterId: str
    stamps: list[Stamp]
    errors: list[dict[str, Any]]


class RegistryRecord(TypedDict, total=False):
    """A linker's registry record as activities/registry.py returns it (JSON-safe; `desired` holds a sealed
    token at most, never a secret value)."""

    linkerId: str
    clusterId: str
    name: str
    desired: dict[str, Any]
    desiredHash: str
    provisioningState: str
    generation: int
    lastOperation: dict[str, Any] | None
    lastError: dict[str, Any] | None
    lastReconcile: dict[str, Any] | None
    lastReconcileTime: str | None
    granted: dict[str, Any] | None
    systemData: dict[str, str] | None
    updatedAt: str | None
    etag: str | None
