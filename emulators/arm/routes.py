"""The ARM route table: path patterns (case-insensitive, as ARM matches them) → handlers.

Order matters: the first match wins, so specific routes come before the generic resource routes, and role
assignments (valid under any scope) come before anything a scope path could also match.
"""

from __future__ import annotations

from collections.abc import Callable

from emulators.arm.handlers.aks import ClusterHandlers
from emulators.arm.handlers.authorization import AuthorizationHandlers
from emulators.arm.handlers.extensions import ExtensionHandlers
from emulators.arm.handlers.identity import IdentityHandlers
from emulators.arm.handlers.resources import ResourceHandlers
from emulators.arm.state import ArmState
from emulators.common.http import Handler, Request, Response

SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = SUB + r"/resourcegroups/(?P<rg>[^/]+)"
CLUSTERS = RG + r"/providers/Microsoft\.ContainerService/managedClusters"
CLUSTER = CLUSTERS + r"/(?P<name>[^/]+)"
EXTENSIONS = CLUSTERS + r"/(?P<cluster>[^/]+)/providers/Microsoft\.KubernetesConfiguration/extensions"
IDENTITIES = RG + r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities"
IDENTITY = IDENTITIES + r"/(?P<identity>[^/]+)"
FICS = IDENTITY + r"/federatedIdentityCredentials"
ASSIGNMENTS = r"(?P<scope>(?:/.*?)?)/providers/Microsoft\.Authorization/roleAssignments"
DEFINITIONS = r"(?P<scope>(?:/.*?)?)/providers/Microsoft\.Authorization/roleDefinitions"
ANY = RG + r"/providers/(?P<ns>[^/]+)/(?P<rest>.+)"

# (method, pattern, journal name, handler attribute path, holds the state lock)
RouteSpec = tuple[str, str, str, str, bool]

ROUTES: list[RouteSpec] = [
    ("GET", ASSIGNMENTS + r"/(?P<name>[^/]+)", "roleAssignment", "auth.get", True),
    ("PUT", ASSIGNMENTS + r"/(?P<name>[^/]+)", "roleAssignment", "auth.put", True),
    ("DELETE", ASSIGNMENTS + r"/(?P<name>[^/]+)", "roleAssignment", "auth.delete", True),
    ("GET", ASSIGNMENTS, "roleAssignments", "auth.list", True),
    ("GET", DEFINITIONS + r"/(?P<name>[^/]+)", "roleDefinition", "auth.get_definition", True),
    ("GET", r"/subscriptions", "subscriptions", "res.list_subscriptions", True),
    ("GET", SUB, "subscription", "res.get_subscription", True),
    ("GET", SUB + r"/providers", "providers", "res.list_providers", True),
    (
        "GET",
        SUB + r"/providers/Microsoft\.ContainerService/managedClusters",
        "managedClusters(subscription)",
        "aks.list_subscription",
        True,
    ),
    ("GET", SUB + r"/providers/(?P<ns>[^/]+)", "provider", "res.get_provider", True),
    (
        "GET",
        SUB + r"/providers/(?P<ns>[^/]+)/(?P<type>[^/]+)",
        "resources(subscription)",
        "res.list_subscription_type",
        True,
    ),
    ("POST", SUB + r"/providers/(?P<ns>[^/]+)/register", "provider/register", "res.register", True),
    ("POST", SUB + r"/providers/(?P<ns>[^/]+)/unregister", "provider/unregister", "res.unregister", True),
    (
        "GET",
        SUB + r"/providers/(?P<ns>[^/]+)/locations/(?P<loc>[^/]+)/operations/(?P<operation>[^/]+)",
        "operation",
        "ext.operation_status",
        True,
    ),
    ("GET", SUB + r"/resourcegroups", "resourceGroups", "res.list_groups", True),
    ("GET", RG, "resourceGroup", "res.get_group", True),
    ("HEAD", RG, "resourceGroup", "res.head_group", True),
    ("PUT", RG, "resourceGroup", "res.put_group", True),
    ("GET", CLUSTERS, "managedClusters", "aks.list_group", True),
    ("GET", CLUSTER, "managedCluster", "aks.get", True),
    ("PUT", CLUSTER, "managedCluster", "aks.put", True),
    ("PATCH", CLUSTER, "managedCluster", "aks.patch_tags", True),
    ("DELETE", CLUSTER, "managedCluster", "aks.delete", True),
    (
        "POST",
        CLUSTER + r"/(?P<action>listClusterUserCredential|listClusterAdminCredential"
        r"|listClusterMonitoringUserCredential)",
        "managedCluster/credentials",
        "aks.credentials",
        True,
    ),
    ("GET", EXTENSIONS, "extensions", "ext.list", True),
    ("GET", EXTENSIONS + r"/(?P<name>[^/]+)", "extension", "ext.get", True),
    ("PUT", EXTENSIONS + r"/(?P<name>[^/]+)", "extension", "ext.put", True),
    ("PATCH", EXTENSIONS + r"/(?P<name>[^/]+)", "extension", "ext.patch", True),
    ("DELETE", EXTENSIONS + r"/(?P<name>[^/]+)", "extension", "ext.delete", True),
    (
        "GET",
        EXTENSIONS + r"/(?P<name>[^/]+)/operations/(?P<operation>[^/]+)",
        "extension/operation",
        "ext.operation_status",
        True,
    ),
    ("GET", IDENTITIES, "userAssignedIdentities", "identity.list_group", True),
    ("GET", IDENTITY, "userAssignedIdentity", "identity.get", True),
    ("PUT", IDENTITY, "userAssignedIdentity", "identity.put", True),
    ("GET", FICS, "federatedIdentityCredentials", "identity.fic_list", True),
    ("GET", FICS + r"/(?P<name>[^/]+)", "federatedIdentityCredential", "identity.fic_get", True),
    # Credential writes manage the lock themselves: they must overlap in time to collide, as on Azure.
    ("PUT", FICS + r"/(?P<name>[^/]+)", "federatedIdentityCredential", "identity.fic_put", False),
    ("DELETE", FICS + r"/(?P<name>[^/]+)", "federatedIdentityCredential", "identity.fic_delete", False),
    ("GET", ANY, "resource", "res.get_any", True),
    ("HEAD", ANY, "resource", "res.head_any", True),
    ("POST", ANY, "resource/action", "res.post_action", True),
    ("PUT", ANY, "resource", "res.write_any", True),
    ("PATCH", ANY, "resource", "res.write_any", True),
    ("DELETE", ANY, "resource", "res.write_any", True),
]


def handler_groups(state: ArmState) -> dict[str, object]:
    """The handler objects the route table names, bound to `state`."""
    return {
        "res": ResourceHandlers(state),
        "aks": ClusterHandlers(state),
        "ext": ExtensionHandlers(state),
        "identity": IdentityHandlers(state),
        "auth": AuthorizationHandlers(state),
    }


def resolve(groups: dict[str, object], target: str) -> Callable[[Request], Response]:
    """Find `group.method` in the handler groups."""
    group, _, method = target.partition(".")
    handler: Handler = getattr(groups[group], method)
    return handler
