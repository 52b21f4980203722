"""User-assigned identities and their federated credentials (workload identity)."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.msi.models import FederatedIdentityCredential

from activities.clients import Clients, get_clients
from activities.failures import arm_error, classified
from activities.jsonpath import wire
from activities.scope_guard import require_within
from connector import naming
from connector.errors import Category, ConnectorFailure, make_error
from connector.ids import IdentityRef, parse_cluster

FEDERATED_CREDENTIAL_LIMIT = 20
_CONCURRENT_WRITES = "concurrentfederatedidentitycredentialswritesforsinglemanagedidentity"
_LIMIT_CODES = frozenset(
    {"federatedidentitycredentialslimitexceeded", "federatedidentitycredentiallimitexceeded"}
)
_CONCURRENCY_RETRIES = 5
# Azure refuses overlapping credential writes on one identity; writes from this process are serialized here,
# and a collision with another process is retried a few times after a short wait.
_identity_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_identity_locks_guard = threading.Lock()


def _lock_for(identity_id: str) -> threading.Lock:
    with _identity_locks_guard:
        return _identity_locks[identity_id.lower()]


def _identity_summary(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    return {
        "id": body.get("id"),
        "clientId": props.get("clientId"),
        "principalId": props.get("principalId"),
        "tenantId": props.get("tenantId"),
    }


@classified
def resolve_identity(
    client_id: str,
    subscription_id: str,
    identity_resource_id: str | None = None,
    *,
    clients: Clients | None = None,
) -> dict[str, Any]:
    """The identity's id, client id, principal id and tenant: one GET by id, else one list by subscription."""
    clients = clients or get_clients()
    if identity_resource_id:
        ref = IdentityRef.parse(identity_resource_id)
        found = clients.msi(ref.subscription_id).user_assigned_identities.get(ref.resource_group, ref.name)
        summary = _identity_summary(wire(found))
        if client_id and str(summary["clientId"]).lower() != client_id.lower():
            raise ConnectorFailure(
                make_error(
                    Category.INVALID,
                    "IdentityClientIdMismatch",
                    f"The identity {identity_resource_id} has client id {summary['clientId']}, "
                    f"not {client_id}.",
                    resource=identity_resource_id,
                )
            )
        return summary
    for identity in clients.msi(subscription_id).user_assigned_identities.list_by_subscription():
        summary = _identity_summary(wire(identity))
        if str(summary["clientId"]).lower() == client_id.lower():
            # The subscription holds an allowed scope, but the identity may sit in a group outside it.
            require_within(str(summary["id"]), clients.settings.allowed_scopes, "The workload identity")
            return summary
    raise ConnectorFailure(
        make_error(
            Category.NOT_FOUND,
            "IdentityNotFound",
            f"No user-assigned identity with client id {client_id} in subscription {subscription_id}.",
            resource=f"/subscriptions/{subscription_id}",
        )
    )


def _credential_summary(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    return {
        "name": body.get("name"),
        "issuer": props.get("issuer"),
        "subject": props.get("subject"),
        "audiences": list(props.get("audiences") or []),
    }


def _list(clients: Clients, ref: IdentityRef) -> list[dict[str, Any]]:
    ops = clients.msi(ref.subscription_id).federated_identity_credentials
    return [_credential_summary(wire(c)) for c in ops.list(ref.resource_group, ref.name)]


@classified
def list_federated_credentials(identity_id: str, *, clients: Clients | None = None) -> list[dict[str, Any]]:
    """One list: every federated credential on an identity (name, issuer, subject, audiences)."""
    clients = clients or get_clients()
    return _list(clients, IdentityRef.parse(identity_id))


def _limit_error(identity_id: str, names: list[str]) -> ConnectorFailure:
    return ConnectorFailure(
        make_error(
            Category.INVALID,
            "FederatedIdentityCredentialLimitReached",
            f"The identity {identity_id} already has the maximum of {FEDERATED_CREDENTIAL_LIMIT} federated "
            f"identity credentials ({', '.join(sorted(names))}). Delete unused ones, or use another identity "
            "for this cluster and namespace.",
            resource=identity_id,
        )
    )


@classified
def ensure_federated_credential(
    identity_id: str,
    cluster_id: str,
    issuer_url: str,
    namespace: str,
    service_account: str,
    *,
    clients: Clients | None = None,
) -> dict[str, Any]:
    """Trust the cluster's ServiceAccount token on the identity; no write when an equivalent one exists.

    One list, then at most one PUT. The name is deterministic (cluster and subject), so a retry finds what an
    earlier attempt wrote; a credential with the same issuer and subject under another name is success.
    """
    clients = clients or get_clients()
    ref = IdentityRef.parse(identity_id)
    cluster = parse_cluster(cluster_id)
    if not issuer_url:
        raise ConnectorFailure(
            make_error(
                Category.INVALID,
                "OidcIssuerNotEnabled",
                f"The cluster {cluster.id} has no OIDC issuer URL; enable the OIDC issuer first.",
                resource=cluster.id,
            )
        )
    name = naming.federated_credential_name(cluster, namespace, service_account)
    subject = naming.service_account_subject(namespace, service_account)
    audiences = [naming.FEDERATED_CREDENTIAL_AUDIENCE]
    result = {
        "identityId": ref.id,
        "name": name,
        "issuer": issuer_url,
        "subject": subject,
        "audiences": audiences,
    }
    with _lock_for(ref.id):
        existing = _list(clients, ref)
        for cred in existing:
            if naming.credential_trusts(
                cred["issuer"],
                cred["subject"],
                cred["audiences"],
                wanted_issuer=issuer_url,
                wanted_subject=subject,
            ):
                return {**result, "name": cred["name"], "action": "none"}
        ours = next((c for c in existing if str(c["name"]).lower() == name.lower()), None)
        if ours is None and len(existing) >= FEDERATED_CREDENTIAL_LIMIT:
            raise _limit_error(ref.id, [str(c["name"]) for c in existing])
        body = FederatedIdentityCredential(issuer=issuer_url, subject=subject, audiences=audiences)
        _put_with_concurrency_retries(clients, ref, name, body)
    return {**result, "action": "update" if ours else "create"}


def _put_with_concurrency_retries(
    clients: Clients, ref: IdentityRef, name: str, body: FederatedIdentityCredential
) -> None:
    ops = clients.msi(ref.subscription_id).federated_identity_credentials
    for attempt in range(_CONCURRENCY_RETRIES + 1):
        try:
            ops.create_or_update(ref.resource_group, ref.name, name, body)
            return
        except HttpResponseError as exc:
            code = (exc.error.code if exc.error else "") or ""
            if code.lower() in _LIMIT_CODES:
                raise _limit_error(ref.id, [name]) from None
            if code.lower() != _CONCURRENT_WRITES or attempt == _CONCURRENCY_RETRIES:
                error = arm_error(exc, ref.id)
                if code.lower() == _CONCURRENT_WRITES:
                    error = make_error(Category.TRANSIENT, error.code, error.message, resource=ref.id)
                raise ConnectorFailure(error) from None
            clients.sleeper(min(2.0**attempt, 10.0))


@classified
def delete_federated_credential(
    identity_id: str, name: str, *, clients: Clients | None = None
) -> dict[str, Any]:
    """Delete a federated credential; an absent one is success."""
    clients = clients or get_clients()
    ref = IdentityRef.parse(identity_id)
    with _lock_for(ref.id):
        try:
            clients.msi(ref.subscription_id).federated_identity_credentials.delete(
                ref.resource_group, ref.name, name
            )
        except ResourceNotFoundError:
            return {"identityId": ref.id, "name": name, "deleted": False}
    return {"identityId": ref.id, "name": name, "deleted": True}
