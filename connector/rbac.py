"""Whether an existing role assignment already grants what a connection needs (for apply and reconcile)."""

from __future__ import annotations


def role_guid(role_definition_id: str) -> str:
    """The role's GUID, lower-cased, from a role definition id (the same role has one id per subscription)."""
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def same_role(definition_id: str | None, wanted_definition_id: str) -> bool:
    """True when two role definition ids name the same role, whatever subscription prefix each carries."""
    return bool(definition_id) and role_guid(str(definition_id)) == role_guid(wanted_definition_id)


def scope_covers(assignment_scope: str | None, scope: str) -> bool:
    """True when an assignment at `assignment_scope` applies to `scope`: the same scope or a parent of it."""
    if not assignment_scope:
        return False
    parent = assignment_scope.rstrip("/").lower()
    child = scope.rstrip("/").lower()
    return child == parent or child.startswith(parent + "/")
