"""ARM resource ids, taken apart in one place (case-insensitively, as ARM compares them).

Before this module, ids were split by hand in several places with different rules (`find` against `rfind`, an
empty string against an exception). Here: a linker id is split at its *last* ServiceLinker segment; anything
that is not the expected shape raises ValueError, and a caller that can do without says so with `default`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from connector.model import LINKER_PROVIDER_SEGMENT, ClusterRef
from connector.validation import cluster_name_problems, is_guid, resource_group_problems

_CLUSTER_ID = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.ContainerService/managedClusters/(?P<name>[^/]+)",
    re.IGNORECASE,
)


def segments(resource_id: str) -> list[str]:
    """The non-empty path segments of an id."""
    return [s for s in resource_id.strip().strip("/").split("/") if s]


def subscription_of(resource_id: str, default: str | None = None) -> str:
    """The subscription id in an ARM id; `default` (when given) instead of ValueError for anything else."""
    seg = segments(resource_id)
    if len(seg) >= 2 and seg[0].lower() == "subscriptions":
        return seg[1]
    if default is not None:
        return default
    raise ValueError(f"Not an ARM resource id: {resource_id!r}")


def parse_cluster_id(source_id: str) -> ClusterRef | None:
    """The cluster named by a managedCluster ARM id, or None if `source_id` is not one (names checked)."""
    match = _CLUSTER_ID.fullmatch(source_id.strip())
    if match is None or not is_guid(match["sub"]):
        return None
    if resource_group_problems(match["rg"]) or cluster_name_problems(match["name"]):
        return None
    return ClusterRef(subscription_id=match["sub"], resource_group=match["rg"], name=match["name"])


def parse_cluster(cluster_id: str) -> ClusterRef:
    """The ClusterRef of a managed cluster id; ValueError when it is not one."""
    cluster = parse_cluster_id(cluster_id)
    if cluster is None:
        raise ValueError(f"Not a managed cluster id: {cluster_id!r}")
    return cluster


def linker_parts(linker_id: str) -> tuple[str, str] | None:
    """(source id, name as written) split at the last ServiceLinker segment; None without that segment."""
    cut = linker_id.lower().rfind(LINKER_PROVIDER_SEGMENT.lower())
    if cut <= 0:
        return None
    return linker_id[:cut], linker_id[cut + len(LINKER_PROVIDER_SEGMENT) :]


def split_linker_id(linker_id: str) -> tuple[str, str]:
    """(source id, linker name) of a linker id; ValueError when it is not one (or names no linker)."""
    parts = linker_parts(linker_id)
    if parts is None or not parts[1].strip("/"):
        raise ValueError(f"Not a linker id: {linker_id!r}")
    return parts[0], parts[1].strip("/")


def cluster_of_linker(linker_id: str, default: str | None = None) -> str:
    """The source (cluster) id of a linker id; `default` (when given) instead of ValueError."""
    try:
        return split_linker_id(linker_id)[0]
    except ValueError:
        if default is not None:
            return default
        raise


@dataclass(frozen=True)
class IdentityRef:
    """A user-assigned managed identity."""

    subscription_id: str
    resource_group: str
    name: str

    @property
    def id(self) -> str:
        """The identity's ARM id."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{self.name}"
        )

    @classmethod
    def parse(cls, identity_id: str) -> IdentityRef:
        """Parse a user-assigned identity id; ValueError when it is not one."""
        seg = segments(identity_id)
        shape = [s.lower() for s in seg[0:7:2]] if len(seg) == 8 else []
        if shape != ["subscriptions", "resourcegroups", "providers", "userassignedidentities"] or (
            seg[5].lower() != "microsoft.managedidentity"
        ):
            raise ValueError(f"Not a user-assigned identity id: {identity_id!r}")
        return cls(subscription_id=seg[1], resource_group=seg[3], name=seg[7])
