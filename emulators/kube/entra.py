"""Entra-integrated clusters: sign-in with Entra tokens for the AKS server app, and Azure RBAC for Kubernetes.

A cluster registered with `entra` settings (the ARM emulator sends them for a cluster with a managed
`aadProfile`): `{"audience": <AKS server app id>, "clusterId": <ARM id>, "azureRbac": bool, "localAccounts":
bool, "roleAssignments": {"url", "caData"}}`. With an `EntraTrust` on the emulator, such a cluster accepts a
bearer token only if it is a valid Entra token for the audience (or, while local accounts are on, the
cluster's own static token); anything else is the API server's 401. With Azure RBAC on, the caller's object
id must hold one of the AKS RBAC built-in roles at the cluster (or above it) or at
`<cluster id>/namespaces/<ns>`, read from the ARM emulator at request time, else 403 in the API server's
wording for an Azure RBAC denial:
`<resource> "<name>" is forbidden: User "<oid>" cannot <verb> resource "<resource>" in API group "<group>"
in the namespace "<ns>": User does not have access to the resource in Azure. Update role assignment to allow
access.` What each role permits is modelled on its Learn description (built-in roles, Containers):
Reader reads everything but Secrets; Writer and Admin read and write namespaced objects (Secrets included) and
read namespaces; Cluster Admin may do anything. Without a trust (the documented fallback) the static token
works as on any cluster.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from .errors import KubeError

AKS_RBAC_READER = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
AKS_RBAC_WRITER = "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
AKS_RBAC_ADMIN = "3498e952-d568-435e-9b2c-8d77e338d7f7"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
_READ = frozenset({"get", "list", "watch"})
_RESOURCE_PATH = re.compile(
    r"^/clusters/[^/]+/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)"
    r"(?:/namespaces/(?P<ns>[^/]+))?(?:/(?P<resource>[^/]+))?(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?/?$"
)


@dataclass(frozen=True)
class ResourceRequest:
    """What a request does, as the API server's authorizer sees it."""

    verb: str
    resource: str
    group: str
    namespace: str
    name: str


def resource_request(method: str, path: str, watch: bool = False) -> ResourceRequest | None:
    """The resource request a path and method make; None for discovery (`/api`, `/apis`, `/version`, …)."""
    m = _RESOURCE_PATH.match(path)
    if m is None:
        return None
    namespace, resource, name = m.group("ns") or "", m.group("resource") or "", m.group("name") or ""
    if namespace and not resource:  # /api/v1/namespaces/<ns>: the namespace object itself
        namespace, resource, name = "", "namespaces", namespace
    if not resource:
        return None  # /api/v1, /apis/<group>/<version>: discovery
    verbs = {"GET": "get" if name else ("watch" if watch else "list"), "POST": "create", "PUT": "update"}
    verbs |= {"PATCH": "patch", "DELETE": "delete" if name else "deletecollection"}
    return ResourceRequest(
        verbs.get(method, method.lower()), resource, m.group("group") or "", namespace, name
    )


def _permits(role: str, request: ResourceRequest, cluster_wide: bool) -> bool:
    if role == AKS_RBAC_CLUSTER_ADMIN:
        return True
    if request.resource == "namespaces" and not request.namespace:
        # The namespace objects: readable by any role at the cluster, or the one a namespace role is for.
        return request.verb in _READ and role in (AKS_RBAC_READER, AKS_RBAC_WRITER, AKS_RBAC_ADMIN)
    if not request.namespace and not cluster_wide:
        return False  # a namespace role says nothing about lists across namespaces
    if role == AKS_RBAC_READER:
        return request.verb in _READ and request.resource != "secrets"
    return role in (AKS_RBAC_WRITER, AKS_RBAC_ADMIN)


def _role_assignments(settings: dict[str, Any], principal: str) -> list[dict[str, str]]:
    source = settings.get("roleAssignments") or {}
    if not source.get("url"):
        return []
    context = ssl.create_default_context(cadata=base64.b64decode(source["caData"]).decode())
    url = f"{source['url']}?{urllib.parse.urlencode({'principalId': principal})}"
    with urllib.request.urlopen(url, timeout=10, context=context) as response:
        found: list[dict[str, str]] = json.loads(response.read())["value"]
    return found


def _applies(scope: str, cluster_id: str, request: ResourceRequest) -> tuple[bool, bool]:
    """(applies, cluster-wide): an assignment at the cluster or above it, or at the request's namespace."""
    scope, cluster = scope.rstrip("/").lower(), cluster_id.rstrip("/").lower()
    if cluster == scope or cluster.startswith(scope + "/"):
        return True, True
    namespace = request.namespace or (request.name if request.resource == "namespaces" else "")
    return bool(namespace) and scope == f"{cluster}/namespaces/{namespace.lower()}", False


def authorize(settings: dict[str, Any], principal: str, request: ResourceRequest) -> None:
    """Raise the API server's 403 unless the principal holds an AKS RBAC role that permits the request."""
    for assignment in _role_assignments(settings, principal):
        role = assignment["roleDefinitionId"].rstrip("/").rsplit("/", 1)[-1].lower()
        applies, cluster_wide = _applies(assignment["scope"], settings["clusterId"], request)
        if applies and _permits(role, request, cluster_wide):
            return
    raise forbidden(principal, request)


def forbidden(principal: str, request: ResourceRequest) -> KubeError:
    """403 Forbidden worded as AKS words an Azure RBAC denial."""
    subject = f'{request.resource} "{request.name}"' if request.name else request.resource
    where = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
    message = (
        f'{subject} is forbidden: User "{principal}" cannot {request.verb} resource "{request.resource}" in '
        f'API group "{request.group}" {where}: User does not have access to the resource in Azure. '
        "Update role assignment to allow access."
    )
    details: dict[str, Any] = {"kind": request.resource}
    if request.name:
        details["name"] = request.name
    if request.group:
        details["group"] = request.group
    return KubeError(403, "Forbidden", message, details)
