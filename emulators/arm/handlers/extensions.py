"""Microsoft.KubernetesConfiguration/extensions under a managed cluster: PUT, PATCH, GET, DELETE, list, LROs.

URL shape pinned by azure-mgmt-kubernetesconfiguration-extensions 1.0.0 (operations/_operations.py):
`/subscriptions/{s}/resourceGroups/{rg}/providers/{clusterRp}/{clusterResourceName}/{clusterName}/providers/
Microsoft.KubernetesConfiguration/extensions/{extensionName}`; create accepts 200/201, update 200/202,
delete 200/202/204 (it sends api-version 2025-03-01). Fields follow the vendored spec/specification/
kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/extensions/stable/2025-03-01/
extensions.json (Extension with autoUpgradeMode, aksAssignedIdentity, isSystemExtension, currentVersion, plan)
and its examples, which tests/emulators/arm/test_spec_examples.py replays: PATCH answers 200 ("No update is
done to extension so return OK") when nothing changes, 202 otherwise; `version` "to 'pin'" requires
`autoUpgradeMinorVersion` false; under auto-upgrade GET reports the installed version (CreateExtension.json).
`configurationProtectedSettings` is write-only: the spec marks it `x-ms-secret`, never sent in a response.
"""

from __future__ import annotations

import copy
from typing import Any

from emulators.arm import errors
from emulators.arm.handlers.aks import CLUSTER_TYPE, cluster_id
from emulators.arm.handlers.common import async_operation_headers, body_of, ok, page, public_view
from emulators.arm.state import ArmState, Resource, new_guid
from emulators.common.http import Request, Response

NAMESPACE = "Microsoft.KubernetesConfiguration"
EXTENSION_TYPE = "Microsoft.KubernetesConfiguration/extensions"
_IN_PROGRESS = ("Creating", "Updating", "Deleting")
_PATCHABLE = ("autoUpgradeMode", "autoUpgradeMinorVersion", "releaseTrain", "version")


def _refuse_pinned_auto_upgrade(version: Any, auto_upgrade: bool) -> None:
    """400 for a pinned `version` with auto-upgrade on: the spec's "To use 'version', autoUpgradeMinorVersion
    must be 'false'". The code and wording are an assumption (docs/error-codes.md)."""
    if version and auto_upgrade:
        raise errors.invalid_request(
            "InvalidParameter",
            "To use 'version', autoUpgradeMinorVersion must be 'false'.",
            target="properties.version",
        )


def extension_id(cluster: str, name: str) -> str:
    """The ARM id of an extension on a cluster."""
    return f"{cluster}/providers/{NAMESPACE}/extensions/{name}"


class ExtensionHandlers:
    """Handlers bound to one ArmState."""

    def __init__(self, state: ArmState) -> None:
        self.state = state

    def _cluster(self, p: dict[str, str]) -> Resource:
        sub, rg, name = p["sub"], p["rg"], p["cluster"]
        if self.state.subscription(sub) is None:
            raise errors.subscription_not_found(sub)
        provider = self.state.subscriptions[sub.lower()].provider(NAMESPACE)
        if provider is None or provider.state != "Registered":
            raise errors.missing_subscription_registration(NAMESPACE)
        if self.state.resource_group(sub, rg) is None:
            raise errors.resource_group_not_found(rg)
        cluster = self.state.get(cluster_id(sub, rg, name))
        if cluster is None:
            raise errors.resource_not_found(CLUSTER_TYPE, name, rg)
        return cluster

    def _extension(self, p: dict[str, str]) -> tuple[Resource, Resource]:
        cluster = self._cluster(p)
        ext = self.state.get(extension_id(cluster.id, p["name"]))
        if ext is None:
            raise errors.resource_not_found(EXTENSION_TYPE, p["name"], p["rg"])
        return cluster, ext

    @staticmethod
    def _cluster_ready(cluster: Resource) -> None:
        state = str(cluster.properties.get("provisioningState"))
        if state != "Succeeded":
            raise errors.extension_cluster_not_ready(cluster.name, state)

    def get(self, req: Request) -> Response:
        """GET one extension."""
        return ok(public_view(self._extension(req.params)[1]))

    def list(self, req: Request) -> Response:
        """GET the extensions of a cluster."""
        cluster = self._cluster(req.params)
        return page(
            req,
            [
                public_view(e)
                for e in self.state.children(cluster.id + f"/providers/{NAMESPACE}", "extensions")
            ],
            self.state.settings.list_page_size,
        )

    def put(self, req: Request) -> Response:
        """PUT: create (201) or replace (200); installs for the configured time, then Succeeded or Failed."""
        cluster = self._cluster(req.params)
        self._cluster_ready(cluster)
        body = body_of(req)
        props_in = body.get("properties") or {}
        if not props_in.get("extensionType"):
            raise errors.invalid_request(
                "InvalidParameter",
                "The extensionType property is required.",
                target="properties.extensionType",
            )
        auto = props_in.get("autoUpgradeMinorVersion")
        _refuse_pinned_auto_upgrade(props_in.get("version"), True if auto is None else bool(auto))
        rid = extension_id(cluster.id, req.params["name"])
        existing = self.state.get(rid)
        if existing is not None and existing.properties.get("provisioningState") in _IN_PROGRESS:
            raise errors.extension_operation_in_progress(existing.properties["provisioningState"], "PUT")
        ext = existing or Resource(rid, EXTENSION_TYPE, {})
        ext.body = self._body(rid, req.params["name"], props_in, existing)
        if body.get("plan"):
            ext.body["plan"] = copy.deepcopy(body["plan"])
        ext.secrets = {k: str(v) for k, v in (props_in.get("configurationProtectedSettings") or {}).items()}
        ext.extra["revision"] = int(ext.extra.get("revision", 0)) + 1
        ext.extra["cluster_id"] = cluster.id
        ext.extra["kube_key"] = cluster.extra.get("kube_key")
        ext.properties["provisioningState"] = "Creating" if existing is None else "Updating"
        self.state.put(ext)
        return self._start(
            req, ext, self.state.settings.extension_install_seconds, 201 if existing is None else 200
        )

    def patch(self, req: Request) -> Response:
        """PATCH: 200 and no operation when nothing changes; else update and reinstall like PUT (202)."""
        cluster, ext = self._extension(req.params)
        self._cluster_ready(cluster)
        if ext.properties.get("provisioningState") in _IN_PROGRESS:
            raise errors.extension_operation_in_progress(ext.properties["provisioningState"], "PATCH")
        props_in = body_of(req).get("properties") or {}
        auto = props_in.get("autoUpgradeMinorVersion", ext.properties.get("autoUpgradeMinorVersion"))
        # Under auto-upgrade the stored version is the installed one, not a pin: only a version sent counts.
        _refuse_pinned_auto_upgrade(props_in.get("version"), bool(auto))
        changes = {
            k: props_in[k] for k in _PATCHABLE if k in props_in and props_in[k] != ext.properties.get(k)
        }
        settings = dict(ext.properties.get("configurationSettings") or {})
        settings.update(props_in.get("configurationSettings") or {})
        protected = {k: str(v) for k, v in (props_in.get("configurationProtectedSettings") or {}).items()}
        if settings != (ext.properties.get("configurationSettings") or {}):
            changes["configurationSettings"] = settings
        secrets_changed = any(ext.secrets.get(k) != v for k, v in protected.items())
        if not changes and not secrets_changed:
            return ok(public_view(ext))
        ext.properties.update(changes)
        ext.secrets.update(protected)
        ext.extra["revision"] = int(ext.extra.get("revision", 0)) + 1
        ext.properties["provisioningState"] = "Updating"
        ext.properties["statuses"] = []
        return self._start(req, ext, self.state.settings.extension_install_seconds, 202)

    def delete(self, req: Request) -> Response:
        """DELETE: 204 when absent; otherwise Deleting for the configured time (202), then gone."""
        cluster = self._cluster(req.params)
        ext = self.state.get(extension_id(cluster.id, req.params["name"]))
        if ext is None:
            return Response.empty(204)
        self._cluster_ready(cluster)
        if ext.properties.get("provisioningState") in _IN_PROGRESS:
            raise errors.extension_operation_in_progress(ext.properties["provisioningState"], "DELETE")
        ext.extra["deleting"] = True
        ext.properties["provisioningState"] = "Deleting"
        return self._start(req, ext, self.state.settings.extension_delete_seconds, 202)

    def operation_status(self, req: Request) -> Response:
        """GET .../extensions/{name}/operations/{operationId} (OperationStatus in the SDK)."""
        op = self.state.operations.get(req.params["operation"])
        if op is None:
            raise errors.ArmError(404, "NotFound", f"Operation '{req.params['operation']}' was not found.")
        # The extension RP's OperationStatusResult has id, name, status, properties and error, no start or end
        # time (common/2022-03-01/definitions.json; GetExtensionAsyncOperationStatus.json).
        status = op.body()
        return ok(
            {k: status.get(k) for k in ("id", "name", "status")} | {"properties": {}, "error": op.error}
        )

    def _start(self, req: Request, ext: Resource, seconds: float, status: int) -> Response:
        self.state.make_busy(ext, seconds, "extension")
        ext.properties["provisioningState"] = (
            "Deleting" if ext.extra.get("deleting") else ("Creating" if status == 201 else "Updating")
        )
        # Extensions serve their operation status under the extension (GetExtensionAsyncOperationStatus).
        op = self.state.start_operation(NAMESPACE, ext, seconds, status_path=f"{ext.id}/operations")
        if status == 202:
            return Response.json(202, public_view(ext), async_operation_headers(req, op))
        return ok(public_view(ext), status, async_operation_headers(req, op))

    def _body(
        self, rid: str, name: str, props_in: dict[str, Any], existing: Resource | None
    ) -> dict[str, Any]:
        auto = props_in.get("autoUpgradeMinorVersion")
        auto = True if auto is None else bool(auto)
        scope = copy.deepcopy(props_in.get("scope") or {"cluster": {"releaseNamespace": "default"}})
        old = existing.body if existing is not None else {}
        principal = ((old.get("properties") or {}).get("aksAssignedIdentity") or {}).get("principalId")
        return {
            "id": rid,
            "name": name,
            "type": EXTENSION_TYPE,
            "systemData": {
                "createdAt": (old.get("systemData") or {}).get("createdAt") or self.state.timestamp(),
                "lastModifiedAt": self.state.timestamp(),
            },
            "properties": {
                "extensionType": props_in["extensionType"],
                "autoUpgradeMode": props_in.get("autoUpgradeMode") or "compatible",
                "autoUpgradeMinorVersion": auto,
                "releaseTrain": props_in.get("releaseTrain") or "Stable",
                "version": props_in.get("version"),
                "currentVersion": None,
                "scope": scope,
                "configurationSettings": dict(props_in.get("configurationSettings") or {}),
                "provisioningState": "Creating",
                "statuses": [],
                "errorInfo": None,
                "isSystemExtension": False,
                "customLocationSettings": None,
                "packageUri": None,
                "aksAssignedIdentity": {
                    "type": "SystemAssigned",
                    "principalId": principal or new_guid(),
                    "tenantId": self.state.tenant_id,
                },
            },
        }
