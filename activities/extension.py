"""The cluster extension `sc-extension` (Microsoft.KubernetesConfiguration/extensions) of a cluster."""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from activities.clients import Clients, get_clients
from activities.failures import classified
from activities.jsonpath import dig
from activities.settings import Settings
from connector.errors import Category, ConnectorFailure, make_error
from connector.ids import parse_cluster
from connector.model import ClusterRef

EXTENSION_NAME = "sc-extension"
RELEASE_NAMESPACE = "sc-system"
_CLUSTER_RP = "Microsoft.ContainerService"
_CLUSTER_TYPE = "managedClusters"


def _ops(clients: Clients, ref: ClusterRef) -> Any:
    return clients.extensions(ref.subscription_id).extensions


def _path(ref: ClusterRef) -> tuple[str, str, str, str, str]:
    return (ref.resource_group, _CLUSTER_RP, _CLUSTER_TYPE, ref.name, EXTENSION_NAME)


def _summary(ref: ClusterRef, body: dict[str, Any] | None) -> dict[str, Any]:
    if body is None:
        return {"clusterId": ref.id, "present": False, "provisioningState": None, "statuses": []}
    props = body.get("properties", {})
    statuses = [
        {k: s.get(k) for k in ("code", "displayStatus", "level", "message", "time") if s.get(k) is not None}
        for s in (props.get("statuses") or [])
        if isinstance(s, dict)
    ]
    error = props.get("errorInfo") or {}
    return {
        "clusterId": ref.id,
        "present": True,
        "provisioningState": props.get("provisioningState"),
        "extensionType": props.get("extensionType"),
        "releaseTrain": props.get("releaseTrain"),
        "version": props.get("version") or props.get("currentVersion"),
        "autoUpgradeMinorVersion": props.get("autoUpgradeMinorVersion"),
        "releaseNamespace": dig(props, "scope", "cluster", "releaseNamespace"),
        "statuses": statuses,
        "error": {"code": error.get("code"), "message": error.get("message")} if error else None,
    }


def _get(clients: Clients, ref: ClusterRef) -> dict[str, Any] | None:
    try:
        return dict(_ops(clients, ref).get(*_path(ref)).as_dict())
    except ResourceNotFoundError:
        return None


def desired_properties(settings: Settings) -> dict[str, Any]:
    """The extension's properties as the settings want them (type, train, pinned version or auto-upgrade)."""
    props: dict[str, Any] = {
        "extensionType": settings.extension_type,
        "autoUpgradeMinorVersion": not settings.extension_version,
        "releaseTrain": settings.extension_release_train,
        "scope": {"cluster": {"releaseNamespace": RELEASE_NAMESPACE}},
        "configurationSettings": {},
    }
    if settings.extension_version:
        props["version"] = settings.extension_version
    return props


def _upgrade_patch(settings: Settings, current: dict[str, Any]) -> dict[str, Any]:
    """The patchable properties that differ from the settings (empty when the extension is as desired)."""
    props = current.get("properties", {})
    patch: dict[str, Any] = {}
    want_auto = not settings.extension_version
    if bool(props.get("autoUpgradeMinorVersion", True)) != want_auto:
        patch["autoUpgradeMinorVersion"] = want_auto
    if (props.get("releaseTrain") or "").lower() != settings.extension_release_train.lower():
        patch["releaseTrain"] = settings.extension_release_train
    if settings.extension_version and (props.get("version") or "") != settings.extension_version:
        patch["version"] = settings.extension_version
    return patch


@classified
def read_extension(cluster_id: str, *, clients: Clients | None = None) -> dict[str, Any]:
    """One GET: whether sc-extension exists, its provisioningState, version and `statuses`.

    While Microsoft.KubernetesConfiguration is not registered ARM answers every extension request with 409
    MissingSubscriptionRegistration: that reads as "not present" with `providerRegistered` False.
    """
    clients = clients or get_clients()
    ref = parse_cluster(cluster_id)
    try:
        return {**_summary(ref, _get(clients, ref)), "providerRegistered": True}
    except HttpResponseError as exc:
        if exc.error is None or (exc.error.code or "").lower() != "missingsubscriptionregistration":
            raise
    return {**_summary(ref, None), "providerRegistered": False}


@classified
def ensure_extension(
    cluster_id: str, *, reinstall_failed: bool = False, clients: Clients | None = None
) -> dict[str, Any]:
    """Install sc-extension if missing, upgrade it if its train or version differ; no write when as desired.

    The install is started, not awaited: the orchestrator polls read_extension with durable timers. A Failed
    or Canceled extension is left alone (its statuses explain why) unless `reinstall_failed`.
    """
    clients = clients or get_clients()
    ref = parse_cluster(cluster_id)
    current = _get(clients, ref)
    ops = _ops(clients, ref)
    action = "none"
    if current is None:
        body = {"properties": desired_properties(clients.settings)}
        current = dict(ops.begin_create(*_path(ref), body, polling=False).result().as_dict())
        action = "install"
    else:
        props = current.get("properties", {})
        found_type = str(props.get("extensionType") or "")
        if found_type.lower() != clients.settings.extension_type.lower():
            raise ConnectorFailure(
                make_error(
                    Category.CONFLICT,
                    "ExtensionTypeMismatch",
                    f"The cluster already has an extension named {EXTENSION_NAME} of type '{found_type}', "
                    f"not '{clients.settings.extension_type}'. Remove it or change EXTENSION_TYPE.",
                    resource=ref.id,
                )
            )
        # Failed and Canceled are both terminal without an installed extension: reinstalling is the remedy.
        failed = str(props.get("provisioningState") or "").lower() in ("failed", "canceled")
        patch = _upgrade_patch(clients.settings, current)
        if failed and reinstall_failed:
            body = {"properties": desired_properties(clients.settings)}
            current = dict(ops.begin_create(*_path(ref), body, polling=False).result().as_dict())
            action = "reinstall"
        elif patch and not failed:
            poller = ops.begin_update(*_path(ref), {"properties": patch}, polling=False)
            current = dict(poller.result().as_dict())
            action = "upgrade"
    return {**_summary(ref, current), "action": action}


@classified
def delete_extension(cluster_id: str, *, clients: Clients | None = None) -> dict[str, Any]:
    """Start deleting sc-extension (read first: absent or already Deleting means no write)."""
    clients = clients or get_clients()
    ref = parse_cluster(cluster_id)
    current = _get(clients, ref)
    if current is None:
        return {"clusterId": ref.id, "deleted": False, "action": "none"}
    if str(current.get("properties", {}).get("provisioningState") or "").lower() == "deleting":
        return {"clusterId": ref.id, "deleted": True, "action": "none"}
    try:
        _ops(clients, ref).begin_delete(*_path(ref), polling=False).result()
    except ResourceNotFoundError:
        return {"clusterId": ref.id, "deleted": False, "action": "none"}
    return {"clusterId": ref.id, "deleted": True, "action": "delete"}
