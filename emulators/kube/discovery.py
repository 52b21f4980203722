"""API discovery as kubectl reads it: `/api`, `/apis`, `/apis/{group}` and each group version's resource list.

kubectl resolves `ns`, `job/sc-job` or `secretproviderclasses` through these documents before it sends a
request, so without them no kubectl command works. Served in the legacy (unaggregated) form: kubectl asks for
aggregated discovery (`apidiscovery.k8s.io/v2`) first and falls back to this form when the server answers
plain JSON, as API servers before 1.26 do. Everything is built from `kinds.KINDS`, so a kind the emulator
serves is a kind kubectl can name.
"""

from __future__ import annotations

from typing import Any

from .kinds import KINDS, POD, Kind

# What the emulator's handlers serve for every kind (no watch, no deletecollection).
VERBS = ["create", "delete", "get", "list", "patch", "update"]
# The API server's short names for the served kinds (`kubectl api-resources`).
SHORT_NAMES = {
    "namespaces": ["ns"],
    "serviceaccounts": ["sa"],
    "configmaps": ["cm"],
    "pods": ["po"],
    "events": ["ev"],
}


def _group_versions() -> dict[str, list[str]]:
    versions: dict[str, list[str]] = {}
    for kind in KINDS:
        if kind.group and kind.version not in versions.setdefault(kind.group, []):
            versions[kind.group].append(kind.version)
    return versions


def core_versions(server_address: str) -> dict[str, Any]:
    """GET /api: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group(name: str) -> dict[str, Any] | None:
    """GET /apis/{group}: one named group, or None when the emulator serves no kind of it."""
    versions = _group_versions().get(name)
    if versions is None:
        return None
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": listed,
        "preferredVersion": listed[0],
    }


def api_groups() -> dict[str, Any]:
    """GET /apis: every named group the emulator serves a kind of."""
    groups = [api_group(name) for name in _group_versions()]
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [{k: v for k, v in g.items() if k not in ("kind", "apiVersion")} for g in groups if g],
    }


def _resources(kind: Kind) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": kind.plural,
        "singularName": kind.kind.lower(),
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": VERBS,
    }
    if kind.plural in SHORT_NAMES:
        main["shortNames"] = SHORT_NAMES[kind.plural]
    found = [main]
    if kind.status_subresource:
        found.append(
            {
                "name": f"{kind.plural}/status",
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": kind.kind,
                "verbs": ["get", "patch", "update"],
            }
        )
    if kind is POD:
        found.append(
            {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]}
        )
    return found


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """GET /api/v1 or /apis/{group}/{version}: the resources of one group version, or None if not served."""
    kinds = [k for k in KINDS if k.group == group and k.version == version]
    if not kinds:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [resource for kind in kinds for resource in _resources(kind)],
    }
