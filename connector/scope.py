"""ALLOWED_SCOPES: which Azure resources this connector instance may act on (pure; no I/O).

A connection request names or implies several resources: the cluster, the target, the workload identity's
subscription (and the identity itself once resolved), the Key Vault of a secret store. Every one of them must
lie inside an allowed scope, or the connector would act as a confused deputy: list the keys of a storage
account in a subscription nobody allowed and write them into a Secret on an allowed cluster, or grant roles
there.

The same rules serve the entry points (a request is refused with 403 before anything is read or written) and
the ARM pipeline of every activity (defence in depth: a stored record from an older version, or a bug in a
workflow, still cannot make a call outside the scopes).

A Confluent Cloud target (bootstrap server, schema registry) is no ARM resource: the request names it by
`endpoint`, the connector makes no call to it and reads no key from it (the API key and secret come in the
request). ALLOWED_SCOPES is about ARM scopes, so it does not apply to such a target; it still applies to the
cluster and to every other resource the request names.

Ids are compared case-insensitively, segment by segment. An id with empty, `.` or `..` segments, or with
characters that ARM names never hold, is never inside a scope: such an id could mean one resource to this
check and another to a server that normalises paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from connector import targets
from connector.model import Connection, SecretAuth

SETTING = "ALLOWED_SCOPES"

# Characters ARM resource ids hold: names are letters, digits and - _ . ( ) ; types and segments are plain.
_ID_CHARACTERS = re.compile(r"^[A-Za-z0-9\-_.()/]+$")
_SUBSCRIPTION_PATH = re.compile(r"^/subscriptions/([^/]+)(/providers/[^/]+(/.*)?)?$")
_REGISTER = re.compile(r"^/subscriptions/[^/]+/providers/[^/]+/register$")


def parse_allowed_scopes(raw: str) -> tuple[str, ...]:
    """The scopes of an ALLOWED_SCOPES setting (comma-separated ids), canonical; unusable entries dropped."""
    scopes = (canonical_id(part.strip()) for part in raw.split(","))
    return tuple(scope for scope in scopes if scope)


def canonical_id(resource_id: str) -> str | None:
    """The id lowercased without a trailing slash, or None when it is not a plain ARM path."""
    trimmed = resource_id.strip().rstrip("/")
    if not trimmed.lower().startswith("/subscriptions/") or not _ID_CHARACTERS.match(trimmed):
        return None
    segments = trimmed.split("/")[1:]
    if any(segment in ("", ".", "..") for segment in segments):
        return None
    return trimmed.lower()


def is_within(resource_id: str, scopes: tuple[str, ...]) -> bool:
    """True if the resource is one of the scopes or lies under one (no scopes: nothing is within)."""
    canonical = canonical_id(resource_id)
    if canonical is None:
        return False
    return any(canonical == scope or canonical.startswith(scope + "/") for scope in scopes)


def subscription_has_scope(subscription_id: str, scopes: tuple[str, ...]) -> bool:
    """True if some allowed scope lies in the subscription (so lists and reads at its level are in bounds)."""
    prefix = canonical_id(f"/subscriptions/{subscription_id}")
    if prefix is None:
        return False
    return any(scope == prefix or scope.startswith(prefix + "/") for scope in scopes)


@dataclass(frozen=True)
class ScopeViolation:
    """A resource a request names or implies that lies outside ALLOWED_SCOPES, and the field that named it."""

    resource: str
    field: str

    def message(self, action: str) -> str:
        """ARM's AuthorizationFailed wording, naming the field and the setting."""
        return (
            f"The client does not have authorization to perform action '{action}' over scope "
            f"'{self.resource}' or the scope is invalid. '{self.field}' names a resource outside this "
            f"connector instance's {SETTING} setting."
        )


def connection_violation(connection: Connection, scopes: tuple[str, ...]) -> ScopeViolation | None:
    """The first resource of the connection outside the scopes, or None when every one is inside."""
    if not is_within(connection.cluster.id, scopes):
        return ScopeViolation(connection.cluster.id, "id")
    if _is_arm_target(connection) and not is_within(connection.target_id, scopes):
        return ScopeViolation(connection.target_id, "properties.targetService.id")
    identity = connection.workload_identity
    if identity is not None:
        if identity.subscription_id and not subscription_has_scope(identity.subscription_id, scopes):
            return ScopeViolation(
                f"/subscriptions/{identity.subscription_id}", "properties.authInfo.subscriptionId"
            )
        if identity.identity_resource_id and not is_within(identity.identity_resource_id, scopes):
            return ScopeViolation(identity.identity_resource_id, "properties.authInfo.clientId")
    auth = connection.auth
    if isinstance(auth, SecretAuth) and auth.key_vault_id and not is_within(auth.key_vault_id, scopes):
        return ScopeViolation(auth.key_vault_id, "properties.secretStore.keyVaultId")
    store = connection.secret_store
    if store is not None and not is_within(store.key_vault_id, scopes):
        return ScopeViolation(store.key_vault_id, "properties.secretStore.keyVaultId")
    return None


def _is_arm_target(connection: Connection) -> bool:
    try:
        return targets.get_spec(connection.target_kind).is_arm_resource
    except targets.CatalogError:
        return True  # an unknown kind is checked as an ARM id: refused unless inside a scope


def arm_call_allowed(method: str, url_path: str, scopes: tuple[str, ...]) -> bool:
    """True if an ARM call on this path stays inside the scopes.

    Calls on a resource inside a scope are allowed. At a subscription's level (no resource group), where the
    connector lists identities and reads or registers resource providers, the subscription must hold a scope,
    and the only write allowed is a provider registration.
    """
    path = unquote(url_path).rstrip("/")
    if is_within(path, scopes):
        return True
    canonical = canonical_id(path)
    match = _SUBSCRIPTION_PATH.match(canonical or "")
    if canonical is None or match is None or not subscription_has_scope(match.group(1), scopes):
        return False
    return method.upper() == "GET" or (method.upper() == "POST" and bool(_REGISTER.match(canonical)))
