"""Role assignments: the catalog's built-in role for the workload identity on the target's scope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

from activities.clients import Clients, get_clients
from activities.failures import classified
from activities.jsonpath import wire
from connector import naming
from connector.ids import subscription_of
from connector.rbac import same_role, scope_covers


def role_definition_id(scope: str, role_guid: str) -> str:
    """The role definition id in the scope's subscription (the form assignments carry)."""
    subscription = subscription_of(scope)
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    return {
        "name": body.get("name"),
        "scope": props.get("scope"),
        "principalId": props.get("principalId"),
        "roleDefinitionId": props.get("roleDefinitionId"),
    }


def _assignments(clients: Clients, scope: str, principal_id: str) -> Iterator[dict[str, Any]]:
    # Lazy: ensure_role_assignment stops at the first match without reading further pages.
    ops = clients.authorization(subscription_of(scope)).role_assignments
    for assignment in ops.list_for_scope(scope, filter=f"principalId eq '{principal_id}'"):
        yield _summary(wire(assignment))


@classified
def list_role_assignments(
    scope: str, principal_id: str, *, clients: Clients | None = None
) -> list[dict[str, Any]]:
    """One list: the principal's role assignments that apply at a scope (inherited ones included)."""
    return list(_assignments(clients or get_clients(), scope, principal_id))


@classified
def ensure_role_assignment(
    scope: str,
    principal_id: str,
    role_guid: str,
    *,
    principal_type: str = "ServicePrincipal",
    clients: Clients | None = None,
) -> dict[str, Any]:
    """Grant a role to a principal on a scope; an equivalent assignment (any name, same or parent scope) is
    success.

    One list, then at most one PUT with a deterministic GUID name. `owned` says whether the assignment that
    grants the role is this product's (that name), which a forced cleanup may later delete.
    """
    clients = clients or get_clients()
    definition = role_definition_id(scope, role_guid)
    name = naming.role_assignment_name(scope, principal_id, definition)
    result = {"scope": scope, "principalId": principal_id, "roleDefinitionId": definition, "name": name}
    for found in _assignments(clients, scope, principal_id):
        if same_role(found["roleDefinitionId"], definition) and scope_covers(found["scope"], scope):
            owned = str(found["name"]).lower() == name.lower()  # an earlier attempt of ours made it
            return {**result, "name": found["name"], "action": "none", "owned": owned}
    parameters = RoleAssignmentCreateParameters(
        role_definition_id=definition, principal_id=principal_id, principal_type=principal_type
    )
    try:
        clients.authorization(subscription_of(scope)).role_assignments.create(scope, name, parameters)
    except HttpResponseError as exc:
        if exc.error is not None and (exc.error.code or "").lower() == "roleassignmentexists":
            return {**result, "action": "none", "owned": False}  # granted by someone else, under another name
        raise
    return {**result, "action": "create", "owned": True}


@classified
def delete_role_assignment(scope: str, name: str, *, clients: Clients | None = None) -> dict[str, Any]:
    """Delete a role assignment by scope and name; an absent one is success."""
    clients = clients or get_clients()
    try:
        deleted = clients.authorization(subscription_of(scope)).role_assignments.delete(scope, name)
    except ResourceNotFoundError:
        deleted = None
    return {"scope": scope, "name": name, "deleted": deleted is not None}


def delete_granted_role(
    scope: str, principal_id: str, role_guid: str, *, clients: Clients | None = None
) -> dict[str, Any]:
    """Delete the assignment this product created (its deterministic name); one it did not create stays."""
    name = naming.role_assignment_name(scope, principal_id, role_definition_id(scope, role_guid))
    return delete_role_assignment(scope, name, clients=clients)
