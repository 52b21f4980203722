"""Deterministic names and ownership marks for everything the connector creates.

Kubernetes names follow Service Connector's own (reference §1.2): the Secret `sc-<linker name with every
non-alphanumeric removed, lower-cased>-secret` and the workload-identity ServiceAccount
`sc-account-<identity client id>`. Every name is checked to be a DNS-1123 subdomain, or refused with a
RequestValidationError. Azure-side names (federated credential, role assignment) are derived by hashing, so
a retried activity finds what an earlier attempt created.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable

from connector.model import ClusterRef, Connection
from connector.validation import (
    INVALID_KUBERNETES_NAME,
    SECRET_NAME_COLLISION,
    Problem,
    RequestValidationError,
    is_dns1123_subdomain,
)

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "aks-service-connector"
# Label values are limited to 63 characters, so the label carries a hash and an annotation the full id.
LINKER_HASH_LABEL = "aks-service-connector/linker-hash"
LINKER_ID_ANNOTATION = "aks-service-connector/linker-id"
WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id"
# Label and annotation keys we write; hashes of observed objects consider only these.
OWNED_KEY_PREFIXES = ("aks-service-connector/", "azure.workload.identity/")
OWNED_KEYS = frozenset({MANAGED_BY_LABEL})

FEDERATED_CREDENTIAL_AUDIENCE = "api://AzureADTokenExchange"
# Fixed namespace for role-assignment names: uuid5(namespace, scope|principal|role) is stable across retries.
ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("5f0c5e3e-6d53-4c53-9a55-1f1c0b0a5c11")

_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")


def _short_hash(text: str, length: int = 40) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _checked(name: str, what: str) -> str:
    if not is_dns1123_subdomain(name):
        raise RequestValidationError(
            INVALID_KUBERNETES_NAME,
            f"The {what} name {name[:80]!r} would not be a valid Kubernetes name (a DNS-1123 subdomain: "
            "at most 253 lower-case letters, digits, '-' and '.').",
            "name",
        )
    return name


def secret_name(linker_name: str) -> str:
    """The Kubernetes Secret name for a linker: `sc-<alphanumerics of the name, lower-cased>-secret`."""
    stem = _NOT_ALPHANUMERIC.sub("", linker_name).lower()
    if not stem:
        raise RequestValidationError(
            INVALID_KUBERNETES_NAME,
            f"The linker name {linker_name[:80]!r} has no letter or digit to name its Kubernetes Secret "
            "after.",
            "name",
        )
    return _checked(f"sc-{stem}-secret", "Secret")


def service_account_name(client_id: str) -> str:
    """The workload-identity ServiceAccount name: `sc-account-<client id>` (lower-cased, as names must be)."""
    return _checked(f"sc-account-{client_id.lower()}", "ServiceAccount")


def linker_hash(linker_id: str) -> str:
    """A label-sized hash of a linker id (ARM ids compare case-insensitively, so it hashes the lower case)."""
    return _short_hash(linker_id.lower())


def managed_by_selector() -> str:
    """The label selector of every Kubernetes object the connector owns."""
    return f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"


def linker_selector(linker_id: str) -> str:
    """The label selector of the Kubernetes objects of one linker."""
    return f"{managed_by_selector()},{LINKER_HASH_LABEL}={linker_hash(linker_id)}"


def secret_labels(connection: Connection) -> dict[str, str]:
    """Ownership labels of a linker's Secret."""
    return {MANAGED_BY_LABEL: MANAGED_BY_VALUE, LINKER_HASH_LABEL: linker_hash(connection.linker_id)}


def secret_annotations(connection: Connection) -> dict[str, str]:
    """Ownership annotations of a linker's Secret (the full linker id)."""
    return {LINKER_ID_ANNOTATION: connection.linker_id}


def service_account_labels() -> dict[str, str]:
    """Ownership labels of a ServiceAccount.

    A ServiceAccount is named after the identity, so linkers sharing an identity and a namespace share it:
    it carries no per-linker label.
    """
    return {MANAGED_BY_LABEL: MANAGED_BY_VALUE}


def is_owned_key(key: str) -> bool:
    """True for the label and annotation keys the connector writes."""
    return key in OWNED_KEYS or key.startswith(OWNED_KEY_PREFIXES)


def service_account_subject(namespace: str, service_account: str) -> str:
    """The token subject a federated credential must trust for a ServiceAccount."""
    return f"system:serviceaccount:{namespace}:{service_account}"


def credential_trusts(
    issuer: str | None,
    subject: str,
    audiences: Iterable[str],
    *,
    wanted_issuer: str | None,
    wanted_subject: str,
) -> bool:
    """True when a federated credential already trusts the ServiceAccount token we need.

    Entra compares the issuer exactly (a missing trailing slash on the AKS issuer URL makes every token
    exchange fail), so it is compared as written. `wanted_issuer` None (OIDC issuer off, URL unknown) accepts
    any issuer. The audience must be exactly ours: Entra accepts one audience per credential.
    """
    return (
        (wanted_issuer is None or issuer == wanted_issuer)
        and subject == wanted_subject
        and list(audiences) == [FEDERATED_CREDENTIAL_AUDIENCE]
    )


def federated_credential_name(cluster: ClusterRef, namespace: str, service_account: str) -> str:
    """A deterministic federated-credential name for one cluster's ServiceAccount.

    Azure allows one credential per issuer and subject on an identity, and every linker of one identity in
    one namespace shares the ServiceAccount, so the name derives from the cluster and the subject, not from
    a linker. A changed OIDC issuer then updates the same credential instead of adding one. The result meets
    Azure's rules: 3-120 characters of [A-Za-z0-9-_], starting with a letter or digit.
    """
    subject = service_account_subject(namespace, service_account)
    return f"sc-{_short_hash(cluster.id.lower() + '|' + subject)}"


def role_assignment_name(scope: str, principal_id: str, role_definition_id: str) -> str:
    """A deterministic role-assignment GUID from scope, principal and role definition (case-insensitive)."""
    key = "|".join(part.lower() for part in (scope, principal_id, role_definition_id))
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))


def find_secret_name_collision(new: Connection, existing: Iterable[Connection]) -> Connection | None:
    """Another linker whose Secret would have the same name in the same cluster and namespace, if any."""
    name = secret_name(new.linker_name)
    for other in existing:
        if other.linker_id.lower() == new.linker_id.lower():
            continue
        if (
            other.cluster.same_as(new.cluster)
            and other.namespace == new.namespace
            and secret_name(other.linker_name) == name
        ):
            return other
    return None


def check_secret_name_collision(new: Connection, existing: Iterable[Connection]) -> None:
    """Refuse a linker whose Secret name is already taken by another linker in its namespace."""
    other = find_secret_name_collision(new, existing)
    if other is None:
        return
    name = secret_name(new.linker_name)
    message = (
        f"Linker {new.linker_name!r} would write the Kubernetes Secret {name!r} "
        f"in namespace {new.namespace!r}, "
        f"which linker {other.linker_name!r} ({other.linker_id}) already writes: Secret names keep only the "
        "letters and digits of the linker name, lower-cased. Choose another linker name or namespace."
    )
    raise RequestValidationError(
        SECRET_NAME_COLLISION, message, "name", (Problem(SECRET_NAME_COLLISION, message, "name"),)
    )
