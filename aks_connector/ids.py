"""Resource ids from the command line: the cluster (source), the connection (linker) and the target."""

from __future__ import annotations

import os
import re

from aks_connector.errors import usage_error
from connector.targets import CatalogError, TargetSpec, get_spec

SUBSCRIPTION_VARIABLE = "AZURE_SUBSCRIPTION_ID"
CLUSTER_PROVIDER = "Microsoft.ContainerService/managedClusters"
_CLUSTER_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ContainerService/managedClusters/[^/]+$",
    re.IGNORECASE,
)
_LINKER_ID = re.compile(r"^(?P<cluster>.+)/providers/Microsoft\.ServiceLinker/linkers/(?P<name>[^/]+)$", re.I)
# az names the target's own flags after what the name is (--account, --vault, ...); any of them fills {name}.
TARGET_NAME_FLAGS = ("--account", "--vault", "--namespace", "--server", "--app-config")


def subscription(value: str | None) -> str:
    """The subscription for -g/-n style arguments: --subscription, else AZURE_SUBSCRIPTION_ID."""
    found = value or os.environ.get(SUBSCRIPTION_VARIABLE)
    if not found:
        raise usage_error(
            "Give --source-id, or --subscription (or AZURE_SUBSCRIPTION_ID), --resource-group and --name.",
            "--subscription",
        )
    return found


def source_id(source: str | None, resource_group: str | None, name: str | None, sub: str | None) -> str:
    """The cluster's id from --source-id, or from --subscription, --resource-group and --name."""
    if source:
        if not _CLUSTER_ID.match(source.rstrip("/")):
            raise usage_error(
                f"--source-id must be an AKS cluster's resource id, not {source!r}.", "--source-id"
            )
        return source.rstrip("/")
    if not (resource_group and name):
        raise usage_error("Give --source-id, or --resource-group and --name of the cluster.", "--source-id")
    group = f"/subscriptions/{subscription(sub)}/resourceGroups/{resource_group}"
    return f"{group}/providers/{CLUSTER_PROVIDER}/{name}"


def linker_id(
    connection_id: str | None,
    connection: str | None,
    source: str | None,
    resource_group: str | None,
    name: str | None,
    sub: str | None,
) -> tuple[str, str]:
    """(cluster id, linker id) from --id, or from --connection and the cluster's arguments."""
    if connection_id:
        match = _LINKER_ID.match(connection_id.rstrip("/"))
        if not match or not _CLUSTER_ID.match(match.group("cluster")):
            raise usage_error(f"--id must be a connection's resource id, not {connection_id!r}.", "--id")
        return match.group("cluster"), connection_id.rstrip("/")
    if not connection:
        raise usage_error("Give --connection (with the cluster's arguments) or --id.", "--connection")
    cluster = source_id(source, resource_group, name, sub)
    return cluster, f"{cluster}/providers/Microsoft.ServiceLinker/linkers/{connection}"


def target_spec(kind: str) -> TargetSpec:
    """The catalog's spec for a target kind (a usage error naming the known kinds otherwise)."""
    try:
        return get_spec(kind)
    except CatalogError as error:
        raise usage_error(str(error), "target-kind") from None


def target_id(
    spec: TargetSpec,
    given: str | None,
    cluster_id: str,
    target_resource_group: str | None,
    target_name: str | None,
    database: str | None,
) -> str:
    """The target's id from --target-id, or from the catalog's id pattern and the target's own flags."""
    if given:
        return given.rstrip("/")
    if spec.id_pattern is None:  # a target that is not an Azure resource has no id to build
        raise usage_error(f"A {spec.kind} target needs --target-id.", "--target-id")
    pattern = spec.id_pattern.pattern
    if not (target_resource_group and target_name):
        flags = "--target-resource-group and one of " + ", ".join(TARGET_NAME_FLAGS)
        raise usage_error(f"Give --target-id, or {flags} (the target is {pattern}).", "--target-id")
    if "{database}" in pattern and not database:
        raise usage_error(f"A {spec.kind} target needs --database (or --target-id).", "--database")
    values = {
        "subscription": cluster_id.split("/")[2],
        "resourceGroup": target_resource_group,
        "name": target_name,
        "database": database or "",
    }
    return pattern.format(**values)
