"""Microsoft.Authorization/roleAssignments at any scope, and the built-in role definitions they point at.

Fields follow specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/
authorization-RoleAssignmentsCalls.json (RoleAssignment, RoleAssignmentProperties: scope, roleDefinitionId,
principalId, principalType, ...). List filters as documented there: `atScope()`, `principalId eq '{id}'`,
`assignedTo('{id}')`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulators.arm import errors, replication
from emulators.arm.handlers.common import body_of, ok, page, public_view
from emulators.arm.state import ArmState, Resource, normalize_id
from emulators.common.http import Request, Response

ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"

# Built-in roles the catalog grants, plus the general ones
# (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
# A seed may add more under `roleDefinitions`.
BUILT_IN_ROLES: dict[str, str] = {
    "8e3af657-a8ff-474b-a751-b32d2b3734ee": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "0c867c2a-1d8c-454a-a3db-ab2ea1bdc8bb": "Storage File Data SMB Share Contributor",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba": "Key Vault Certificate User",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
    "090c5cfd-751d-490a-894a-3ce6f1109419": "Azure Service Bus Data Owner",
    "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39": "Azure Service Bus Data Sender",
    "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0": "Azure Service Bus Data Receiver",
    "f526a384-b230-433a-b45c-95f59c4a2dec": "Azure Event Hubs Data Owner",
    "2b629674-e913-4c01-ae53-ef4638d8f975": "Azure Event Hubs Data Sender",
    "a638d3c7-ab3a-418d-83e6-5f17a39d4fde": "Azure Event Hubs Data Receiver",
    "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b": "App Configuration Data Owner",
    "516239f1-63e1-4d78-a4de-a74fb236a071": "App Configuration Data Reader",
    "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd": "Cognitive Services OpenAI User",
    "a001fd3d-188f-4b5d-821b-7da978bf7442": "Cognitive Services OpenAI Contributor",
    "a97b65f3-24c7-4388-baec-2e87135dc908": "Cognitive Services User",
    "5bd9cd88-fe45-4216-938b-f97437e15450": "DocumentDB Account Contributor",
    "e0f68234-74aa-48ed-b826-c38b57376e17": "Redis Cache Contributor",
    # Azure RBAC for Kubernetes (Entra-integrated clusters; the kube emulator enforces them).
    "7f6c6a51-bcf8-42ba-9220-52d62157d7db": "Azure Kubernetes Service RBAC Reader",
    "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb": "Azure Kubernetes Service RBAC Writer",
    "3498e952-d568-435e-9b2c-8d77e338d7f7": "Azure Kubernetes Service RBAC Admin",
    "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b": "Azure Kubernetes Service RBAC Cluster Admin",
}

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PRINCIPAL_EQ = re.compile(r"principalId\s+eq\s+'([^']*)'", re.IGNORECASE)
_ASSIGNED_TO = re.compile(r"assignedTo\('([^']*)'\)", re.IGNORECASE)


def is_guid(value: str) -> bool:
    """Whether `value` is a GUID in its 8-4-4-4-12 form."""
    return bool(_GUID.match(value))


def assignment_id(scope: str, name: str) -> str:
    """The resource id of role assignment `name` at `scope`."""
    return f"{scope.rstrip('/')}/providers/{ASSIGNMENT_TYPE}/{name}"


def new_assignment(
    scope: str,
    name: str,
    role_id: str,
    principal: str,
    principal_type: str,
    now: str,
    props: Mapping[str, Any] | None = None,
) -> Resource:
    """A role assignment as ARM stores it; the optional condition and description come from `props`."""
    props = props or {}
    rid = assignment_id(scope, name)
    return Resource(
        rid,
        ASSIGNMENT_TYPE,
        {
            "id": rid,
            "name": name,
            "type": ASSIGNMENT_TYPE,
            "properties": {
                "roleDefinitionId": role_id,
                "principalId": principal,
                "principalType": principal_type,
                "scope": scope,
                "condition": props.get("condition"),
                "conditionVersion": props.get("conditionVersion"),
                "description": props.get("description"),
                "createdOn": now,
                "updatedOn": now,
                "createdBy": None,
                "updatedBy": None,
                "delegatedManagedIdentityResourceId": None,
            },
        },
    )


def _scope_contains(outer: str, inner: str) -> bool:
    """Whether `inner` is `outer` or below it (ARM scopes are path prefixes)."""
    o, i = normalize_id(outer), normalize_id(inner)
    return o in ("", "/") or i == o or i.startswith(o + "/")


def _scope(req: Request) -> str:
    """The scope from the path; SDKs that prefix `/{scope}` send `//subscriptions/...`: read it as one."""
    scope = req.params.get("scope") or ""
    return "/" + scope.strip("/") if scope.strip("/") else ""


class AuthorizationHandlers:
    """Handlers bound to one ArmState."""

    def __init__(self, state: ArmState) -> None:
        self.state = state

    def _known_role(self, guid: str) -> bool:
        return guid.lower() in BUILT_IN_ROLES or guid.lower() in self.state.extra_role_definitions

    def _check_scope(self, scope: str) -> None:
        parts = scope.strip("/").split("/")
        if (
            len(parts) >= 2
            and parts[0].lower() == "subscriptions"
            and self.state.subscription(parts[1]) is None
        ):
            raise errors.subscription_not_found(parts[1])
        if (
            len(parts) >= 4
            and parts[2].lower() == "resourcegroups"
            and self.state.resource_group(parts[1], parts[3]) is None
        ):
            raise errors.resource_group_not_found(parts[3])

    def put(self, req: Request) -> Response:
        """PUT a role assignment (201; an identical re-PUT under the same name answers 201 again)."""
        scope, name = _scope(req), req.params["name"]
        if not is_guid(name):
            raise errors.invalid_role_assignment_id(name)
        self._check_scope(scope)
        props = body_of(req).get("properties") or {}
        role_id = str(props.get("roleDefinitionId") or "")
        principal = str(props.get("principalId") or "")
        role_guid = role_id.rstrip("/").rsplit("/", 1)[-1]
        if not role_id or "/roledefinitions/" not in role_id.lower() or not self._known_role(role_guid):
            raise errors.role_definition_does_not_exist(role_guid)
        if not is_guid(principal):
            raise errors.invalid_request(
                "InvalidPrincipalId",
                "A valid principal ID must be provided for role assignment.",
                target="properties.principalId",
            )
        replication.check_replicated(self.state, principal, props.get("principalType"))
        rid = assignment_id(scope, name)
        existing = self.state.get(rid)
        for other in self.state.of_type(ASSIGNMENT_TYPE):
            if normalize_id(other.id) == normalize_id(rid):
                continue
            op = other.properties
            if (
                op["principalId"].lower() == principal.lower()
                and normalize_id(op["scope"]) == normalize_id(scope)
                and op["roleDefinitionId"].rsplit("/", 1)[-1].lower() == role_guid.lower()
            ):
                raise errors.role_assignment_exists(other.id)
        if existing is not None:
            old = existing.properties
            if (
                old["principalId"].lower() != principal.lower()
                or old["roleDefinitionId"].rsplit("/", 1)[-1].lower() != role_guid.lower()
            ):
                raise errors.invalid_request(
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                )
            return ok(public_view(existing), 201)
        assignment = new_assignment(
            scope,
            name,
            role_id,
            principal,
            props.get("principalType") or "User",
            self.state.timestamp(),
            props,
        )
        self.state.put(assignment)
        return ok(public_view(assignment), 201)

    def get(self, req: Request) -> Response:
        """GET a role assignment."""
        assignment = self.state.get(assignment_id(_scope(req), req.params["name"]))
        if assignment is None:
            raise errors.ArmError(404, "RoleAssignmentNotFound", "The role assignment was not found.")
        return ok(public_view(assignment))

    def delete(self, req: Request) -> Response:
        """DELETE a role assignment: 200 with the removed body, 204 when absent."""
        removed = self.state.delete(assignment_id(_scope(req), req.params["name"]))
        return ok(public_view(removed)) if removed is not None else Response.empty(204)

    def list(self, req: Request) -> Response:
        """GET the role assignments for a scope: at, above and below it; `atScope()` keeps at and above."""
        scope = _scope(req) or "/"
        flt = req.arg("$filter") or ""
        principal = _PRINCIPAL_EQ.search(flt) or _ASSIGNED_TO.search(flt)
        at_scope = "atscope()" in flt.lower()
        items: list[dict[str, Any]] = []
        for assignment in self.state.of_type(ASSIGNMENT_TYPE):
            a_scope = assignment.properties["scope"]
            above = _scope_contains(a_scope, scope)
            below = _scope_contains(scope, a_scope)
            if not (above or (below and not at_scope)):
                continue
            if principal and assignment.properties["principalId"].lower() != principal.group(1).lower():
                continue
            items.append(public_view(assignment))
        return page(req, items, self.state.settings.list_page_size)

    def get_definition(self, req: Request) -> Response:
        """GET a role definition by GUID at any scope (built-in roles)."""
        guid = req.params["name"]
        if not self._known_role(guid):
            raise errors.ArmError(
                404,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{guid}' does not exist.",
            )
        scope = _scope(req)
        return ok(
            {
                "id": f"{scope.rstrip('/')}/providers/{DEFINITION_TYPE}/{guid}",
                "name": guid,
                "type": DEFINITION_TYPE,
                "properties": {
                    "roleName": BUILT_IN_ROLES.get(guid.lower(), guid),
                    "type": "BuiltInRole",
                    "description": "",
                    "assignableScopes": ["/"],
                    "permissions": [],
                },
            }
        )
