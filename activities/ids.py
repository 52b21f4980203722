"""ARM resource ids the activities take apart: clusters and user-assigned identities."""

from __future__ import annotations

from dataclasses import dataclass

from connector.model import ClusterRef
from connector.wire import parse_cluster_id


def _segments(resource_id: str) -> list[str]:
    return [s for s in resource_id.strip().strip("/").split("/") if s]


def parse_cluster(cluster_id: str) -> ClusterRef:
    """The domain's ClusterRef of a managed cluster id (case-insensitive, as ARM); ValueError if not one."""
    cluster = parse_cluster_id(cluster_id.strip())
    if cluster is None:
        raise ValueError(f"Not a managed cluster id: {cluster_id!r}")
    return cluster


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
        seg = _segments(identity_id)
        shape = [s.lower() for s in seg[0:7:2]] if len(seg) == 8 else []
        if shape != ["subscriptions", "resourcegroups", "providers", "userassignedidentities"] or (
            seg[5].lower() != "microsoft.managedidentity"
        ):
            raise ValueError(f"Not a user-assigned identity id: {identity_id!r}")
        return cls(subscription_id=seg[1], resource_group=seg[3], name=seg[7])


def subscription_of(resource_id: str) -> str:
    """The subscription id in any ARM id."""
    seg = _segments(resource_id)
    if len(seg) < 2 or seg[0].lower() != "subscriptions":
        raise ValueError(f"Not an ARM resource id: {resource_id!r}")
    return seg[1]
