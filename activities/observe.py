"""Observe one cluster for reconciliation: what ARM and the cluster hold, as `connector.plan.ObservedCluster`.

Calls per cluster: one GET each for the extension and the cluster (the provider only when the extension is
missing: an installed extension implies a registered provider), and per namespace one label-selected list of
our Secrets (plus one of our ServiceAccounts where workload identity is used). Identity-side reads are per
distinct identity (one GET, one credential list) and per distinct target and principal (one role-assignment
list); rendering the Secrets as they should be now reads each distinct target once (GET, plus list-keys for
automatic keys). None of it grows with the number of connections that share a namespace, identity or target.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any, TypeVar

from kubernetes import client as k8s

from activities.clients import Clients, get_clients
from activities.cluster import read_cluster
from activities.extension import read_extension
from activities.failures import classified, to_failure
from activities.identity import list_federated_credentials, resolve_identity
from activities.kube_resources import REQUEST_TIMEOUT_SECONDS, with_kube
from activities.pass_cache import PassCache
from activities.provider import KUBERNETES_CONFIGURATION, read_provider
from activities.roles import list_role_assignments
from activities.target_values import TargetCache, resolve
from connector import manifests, naming, plan, targets
from connector.errors import ConnectorFailure
from connector.ids import parse_cluster
from connector.model import ClusterRef, Connection
from telemetry import log as log_record

_LOG = logging.getLogger(__name__)
T = TypeVar("T")


def _list_owned(clients: Clients, cluster: ClusterRef, kind: str, namespace: str) -> list[dict[str, Any]]:
    def call(api: k8s.ApiClient) -> list[dict[str, Any]]:
        core = k8s.CoreV1Api(api)
        lister: Callable[..., Any] = (
            core.list_namespaced_secret if kind == "Secret" else core.list_namespaced_service_account
        )
        response = lister(
            namespace,
            label_selector=naming.managed_by_selector(),
            _preload_content=False,
            _request_timeout=REQUEST_TIMEOUT_SECONDS,
        )
        items = json.loads(response.data).get("items") or []
        # List items carry no kind; the content hash includes it.
        return [{**item, "kind": kind} for item in items]

    return with_kube(clients, cluster, call)


def _hash_rendered_now(
    connection: Connection, clients: Clients, addon_client_id: str | None, cache: TargetCache
) -> str | None:
    try:
        values, kind = resolve(connection, clients, addon_client_id=addon_client_id, cache=cache)
        return manifests.content_hash(manifests.build_secret(connection, values, kind=kind))
    except Exception as exc:  # reported as drift: the apply that follows fails with the classified error
        log_record(
            logging.INFO,
            "cannot render now",
            linker_id=connection.linker_id,
            error_code=to_failure(exc).error.code,
        )
        return None


@classified
def observe_cluster(
    cluster_id: str, connections: list[dict[str, Any]], *, clients: Clients | None = None
) -> dict[str, Any]:
    """Read one cluster's state for the plan; returns `ObservedCluster.to_dict()` (ids, names, hashes)."""
    conns = [Connection.from_stored(c) for c in connections]
    return observe(parse_cluster(cluster_id), conns, clients=clients or get_clients()).to_dict()


def _fresh(key: Hashable, read: Callable[[], T]) -> T:
    return read()


def list_owned(
    ref: ClusterRef, kind: str, namespace: str, *, clients: Clients, cache: PassCache | None = None
) -> list[dict[str, Any]]:
    """Our Secrets or ServiceAccounts in a namespace (one label-selected list, once per pass)."""
    memo = cache.memo if cache is not None else _fresh
    return memo((kind, ref.id.lower(), namespace), partial(_list_owned, clients, ref, kind, namespace))


def observe(
    ref: ClusterRef, conns: list[Connection], *, clients: Clients, cache: PassCache | None = None
) -> plan.ObservedCluster:
    """Read one cluster's state for the plan. With a pass's `cache`, what this pass read already (the cluster,
    its extension, a namespace's list, an identity, a target) is not read again."""
    memo = cache.memo if cache is not None else _fresh
    extension = memo(("extension", ref.id.lower()), lambda: read_extension(ref.id, clients=clients))
    cluster = memo(("cluster", ref.id.lower()), lambda: read_cluster(ref.id, clients=clients))
    provider_state = (
        "Registered"
        if extension["present"]
        else read_provider(ref.subscription_id, KUBERNETES_CONFIGURATION, clients=clients)[
            "registrationState"
        ]
    )
    targets_cache = cache.targets if cache is not None else TargetCache()
    addon_client_id = cluster["keyVaultAddonClientId"]
    secrets: list[plan.ObservedSecret] = []
    accounts: list[plan.ObservedServiceAccount] = []
    by_secret = {(c.namespace, naming.secret_name(c.linker_name)): c for c in conns}
    wi = plan.workload_identities(conns)
    for namespace in sorted({c.namespace for c in conns}):
        for item in list_owned(ref, "Secret", namespace, clients=clients, cache=cache):
            meta = item.get("metadata", {})
            owner = by_secret.get((namespace, meta.get("name")))
            if owner is None:
                # Another page's (or nobody's: cluster_orphans reports those). Not hashed here, or a page
                # of 40 in a namespace of 10,000 Secrets would hash all 10,000 for every page.
                continue
            secrets.append(
                plan.ObservedSecret(
                    namespace=namespace,
                    name=str(meta.get("name")),
                    hash_on_cluster=manifests.content_hash(item),
                    hash_rendered_now=_hash_rendered_now(owner, clients, addon_client_id, targets_cache),
                    linker_id=(meta.get("annotations") or {}).get(naming.LINKER_ID_ANNOTATION),
                )
            )
        if any(c.namespace == namespace for c, _ in wi):
            for item in list_owned(ref, "ServiceAccount", namespace, clients=clients, cache=cache):
                meta = item.get("metadata", {})
                accounts.append(
                    plan.ObservedServiceAccount(
                        namespace=namespace,
                        name=str(meta.get("name")),
                        hash_on_cluster=manifests.content_hash(item),
                    )
                )
    identities: dict[str, plan.ObservedIdentity] = {}
    credentials: list[plan.ObservedFederatedCredential] = []
    assignments: list[plan.ObservedRoleAssignment] = []
    seen_scopes: set[tuple[str, str]] = set()
    failures: list[plan.ObservationFailure] = []
    unobservable: dict[str, dict[str, Any]] = {}  # identity client id -> why it could not be read
    for connection, auth in wi:
        key = auth.client_id.lower()
        if key in unobservable:
            failures.append(plan.ObservationFailure(connection.linker_id, unobservable[key]))
            continue
        if key not in identities:
            try:
                found = memo(
                    ("identity", key),
                    partial(
                        resolve_identity,
                        auth.client_id,
                        auth.subscription_id or ref.subscription_id,
                        auth.identity_resource_id,
                        clients=clients,
                    ),
                )
            except ConnectorFailure as failure:
                if failure.error.retryable:
                    raise  # a passing fault: the whole observation is retried
                # This identity's linkers fail with the reason; the rest of the cluster is still planned.
                unobservable[key] = failure.error.to_dict()
                failures.append(plan.ObservationFailure(connection.linker_id, unobservable[key]))
                continue
            identities[key] = plan.ObservedIdentity(
                client_id=auth.client_id,
                resource_id=str(found["id"]),
                principal_id=str(found["principalId"]),
                tenant_id=str(found["tenantId"]),
            )
            listed_credentials = memo(
                ("credentials", key), partial(list_federated_credentials, str(found["id"]), clients=clients)
            )
            for cred in listed_credentials:
                credentials.append(
                    plan.ObservedFederatedCredential(
                        identity_client_id=auth.client_id,
                        name=str(cred["name"]),
                        issuer=str(cred["issuer"]),
                        subject=str(cred["subject"]),
                        audiences=tuple(cred["audiences"]),
                    )
                )
        match = targets.match_target_id(connection.target_id)
        if match is None or match.spec.role is None:
            continue
        principal = identities[key].principal_id
        scope_key = (connection.target_id.lower(), principal.lower())
        if scope_key in seen_scopes:
            continue
        seen_scopes.add(scope_key)
        listed_assignments = memo(
            ("roles", *scope_key),
            partial(list_role_assignments, connection.target_id, principal, clients=clients),
        )
        for assignment in listed_assignments:
            assignments.append(
                plan.ObservedRoleAssignment(
                    scope=str(assignment["scope"]),
                    principal_id=str(assignment["principalId"]),
                    role_definition_id=str(assignment["roleDefinitionId"]),
                )
            )
    observed = plan.ObservedCluster(
        cluster_id=ref.id,
        provider_registration_state=str(provider_state),
        provisioning_state=str(cluster["provisioningState"]),
        oidc_issuer_enabled=bool(cluster["oidcIssuerEnabled"]),
        oidc_issuer_url=cluster["oidcIssuerUrl"],
        workload_identity_enabled=bool(cluster["workloadIdentityEnabled"]),
        key_vault_addon_enabled=bool(cluster["keyVaultAddonEnabled"]),
        key_vault_addon_client_id=addon_client_id,
        extension_provisioning_state=extension["provisioningState"] if extension["present"] else None,
        tenant_id=clients.settings.tenant_id or None,
        secrets=tuple(secrets),
        service_accounts=tuple(accounts),
        identities=tuple(identities.values()),
        federated_credentials=tuple(credentials),
        role_assignments=tuple(assignments),
        failures=tuple(failures),
    )
    return observed
