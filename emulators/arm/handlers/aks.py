"""Microsoft.ContainerService/managedClusters: GET, list, PUT and PATCH (tags) as LROs, delete, credentials.

Fields follow specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/
2025-08-01/managedClusters.json (ManagedCluster, ManagedClusterProperties, ManagedClusterAddonProfile,
ManagedClusterOIDCIssuerProfile, ManagedClusterSecurityProfileWorkloadIdentity, PowerState,
CredentialResults).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from typing import Any

import yaml

from emulators.arm import errors
from emulators.arm.handlers.common import (
    async_operation_headers,
    body_of,
    ok,
    page,
    public_view,
    require_group,
    require_resource,
)
from emulators.arm.state import DEFAULT_LOCATION, ArmState, Resource, new_guid
from emulators.common.http import Request, Response
from emulators.kube.link import entra_kubeconfig, kubeconfig

CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters"
NAMESPACE = "Microsoft.ContainerService"
KV_ADDON = "azureKeyvaultSecretsProvider"
# The AKS server application: Entra-integrated clusters accept only tokens issued for it.
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"

# Properties the service computes; a PUT cannot set them (ManagedClusterProperties readOnly in the spec).
_READ_ONLY = {
    "provisioningState",
    "powerState",
    "fqdn",
    "azurePortalFQDN",
    "privateFQDN",
    "currentKubernetesVersion",
    "maxAgentPools",
    "identityProfile",  # writable, but only its kubeletidentity resourceId: see _kubelet_identity
    "resourceUID",
}


def cluster_id(sub: str, rg: str, name: str) -> str:
    """The ARM id of a managed cluster."""
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{CLUSTER_TYPE}/{name}"


def kube_key(resource_id: str) -> str:
    """The kube emulator's cluster key for a managed cluster: readable name plus a hash of the full id."""
    name = re.sub(r"[^a-z0-9-]", "-", resource_id.rstrip("/").rsplit("/", 1)[-1].lower()).strip("-")[:30]
    digest = hashlib.sha256(resource_id.lower().encode()).hexdigest()[:8]
    return f"{name or 'cluster'}-{digest}"


def new_cluster(
    state: ArmState,
    sub: str,
    rg: str,
    name: str,
    location: str = DEFAULT_LOCATION,
    properties: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> Resource:
    """Build (not store) a managed cluster with the service-computed fields filled in."""
    rid = cluster_id(sub, rg, name)
    digest = hashlib.sha256(rid.lower().encode()).hexdigest()
    fqdn = f"{name.lower()}-dns-{digest[:8]}.hcp.{location}.azmk8s.io"
    node_rg = f"MC_{rg}_{name}_{location}"
    body: dict[str, Any] = {
        "id": rid,
        "name": name,
        "type": "Microsoft.ContainerService/ManagedClusters",
        "location": location,
        "tags": dict(tags or {}),
        "sku": {"name": "Base", "tier": "Free"},
        "identity": {"type": "SystemAssigned", "principalId": new_guid(), "tenantId": state.tenant_id},
        "properties": {
            "provisioningState": "Succeeded",
            "powerState": {"code": "Running"},
            "kubernetesVersion": "1.31.2",
            "currentKubernetesVersion": "1.31.2",
            "dnsPrefix": f"{name}-dns",
            "fqdn": fqdn,
            "azurePortalFQDN": fqdn.replace(".hcp.", ".portal.hcp."),
            "agentPoolProfiles": [
                {
                    "name": "nodepool1",
                    "count": 3,
                    "vmSize": "Standard_DS2_v2",
                    "osType": "Linux",
                    "mode": "System",
                    "provisioningState": "Succeeded",
                    "powerState": {"code": "Running"},
                }
            ],
            "nodeResourceGroup": node_rg,
            "enableRBAC": True,
            "addonProfiles": {},
            "oidcIssuerProfile": {"enabled": False},
            "securityProfile": {},
            "identityProfile": {"kubeletidentity": _identity_ref(sub, node_rg, f"{name}-agentpool")},
        },
    }
    resource = Resource(rid, CLUSTER_TYPE, body)
    resource.extra["kube_key"] = kube_key(rid)
    for key, value in (properties or {}).items():
        if key not in _READ_ONLY:
            resource.properties[key] = copy.deepcopy(value)
    _kubelet_identity(resource, properties or {})
    _complete_aad_profile(state, resource)
    derive_features(state, resource)
    return resource


def _complete_aad_profile(state: ArmState, cluster: Resource) -> None:
    """A managed aadProfile names the tenant, as AKS fills in `tenantID` when the request leaves it out."""
    profile = cluster.properties.get("aadProfile")
    if isinstance(profile, dict) and profile.get("managed"):
        profile.setdefault("tenantID", state.tenant_id)
        profile.setdefault("enableAzureRBAC", False)
        profile.setdefault("adminGroupObjectIDs", [])


def entra_integrated(cluster: Resource) -> bool:
    """Whether the cluster uses Microsoft Entra ID (a managed aadProfile): users sign in with Entra tokens."""
    profile = cluster.properties.get("aadProfile")
    return isinstance(profile, dict) and bool(profile.get("managed"))


def _kube_entra_settings(state: ArmState, cluster: Resource) -> dict[str, Any] | None:
    """What the kube emulator needs to enforce Entra sign-in and Azure RBAC for Kubernetes on this cluster."""
    if not entra_integrated(cluster):
        return None
    settings: dict[str, Any] = {
        "audience": AKS_SERVER_APP_ID,
        "clusterId": cluster.id,
        "azureRbac": bool(cluster.properties["aadProfile"].get("enableAzureRBAC")),
        "localAccounts": not cluster.properties.get("disableLocalAccounts", False),
    }
    if state.role_assignments_url:
        # The kube emulator reads the role assignments from here at request time, as AKS asks Azure RBAC.
        settings["roleAssignments"] = {"url": state.role_assignments_url, "caData": state.ca_data}
    return settings


def register_kube(state: ArmState, cluster: Resource) -> dict[str, Any] | None:
    """Register (idempotently) the cluster with the linked kube emulator, with its Entra settings."""
    if state.kube is None:
        return None
    info = state.kube.register_cluster(cluster.extra["kube_key"], entra=_kube_entra_settings(state, cluster))
    cluster.extra["kube_info"] = info
    return info


def _kubelet_identity(cluster: Resource, properties: dict[str, Any]) -> None:
    """Keep the kubelet identity a PUT names (identityProfile.kubeletidentity.resourceId, the spec's only
    accepted key); AKS fills clientId and objectId. A PUT without identityProfile keeps the current one."""
    wanted = ((properties.get("identityProfile") or {}).get("kubeletidentity") or {}).get("resourceId")
    current = (cluster.properties.get("identityProfile") or {}).get("kubeletidentity") or {}
    if not wanted or str(current.get("resourceId", "")).lower() == str(wanted).lower():
        return
    cluster.properties["identityProfile"] = {
        "kubeletidentity": {"resourceId": wanted, "clientId": new_guid(), "objectId": new_guid()}
    }


def _refuse_workload_identity_without_oidc(properties: dict[str, Any]) -> None:
    """400 when workload identity is on and the OIDC issuer is off: AKS requires the issuer (the az CLI checks
    the same before sending). The code and wording are an assumption (docs/error-codes.md)."""
    workload = ((properties.get("securityProfile") or {}).get("workloadIdentity") or {}).get("enabled")
    oidc = (properties.get("oidcIssuerProfile") or {}).get("enabled")
    if workload and not oidc:
        raise errors.invalid_request(
            "InvalidParameter",
            "Enabling workload identity requires enabling OIDC issuer.",
            target="properties.securityProfile.workloadIdentity",
        )


def _identity_ref(sub: str, rg: str, name: str) -> dict[str, str]:
    return {
        "resourceId": f"/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/"
        f"userAssignedIdentities/{name}",
        "clientId": new_guid(),
        "objectId": new_guid(),
    }


def derive_features(state: ArmState, cluster: Resource) -> None:
    """Fill what AKS computes for enabled features: the add-on identity and the OIDC issuer URL."""
    props = cluster.properties
    sub = cluster.id.split("/")[2]
    addons = props.get("addonProfiles") or {}
    props["addonProfiles"] = addons
    kv = _find_key(addons, KV_ADDON)
    if kv is not None:
        profile = addons[kv] or {}
        addons[kv] = profile
        if profile.get("enabled"):
            identity = cluster.extra.get("kv_identity")
            if identity is None:
                identity = _identity_ref(
                    sub, props["nodeResourceGroup"], f"azurekeyvaultsecretsprovider-{cluster.name.lower()}"
                )
                cluster.extra["kv_identity"] = identity
            profile["identity"] = dict(identity)
            profile.setdefault("config", {"enableSecretRotation": "false", "rotationPollInterval": "2m"})
        else:
            profile.pop("identity", None)
            profile["config"] = profile.get("config") or None
    oidc = props.get("oidcIssuerProfile") or {}
    props["oidcIssuerProfile"] = oidc
    if oidc.get("enabled"):
        issuer_guid = cluster.extra.setdefault("oidc_guid", new_guid())
        location = cluster.body.get("location", DEFAULT_LOCATION)
        oidc["issuerURL"] = f"https://{location}.oic.prod-aks.azure.com/{state.tenant_id}/{issuer_guid}/"
    else:
        oidc.pop("issuerURL", None)
    props["securityProfile"] = props.get("securityProfile") or {}


def _find_key(mapping: dict[str, Any], wanted: str) -> str | None:
    return next((k for k in mapping if k.lower() == wanted.lower()), None)


def _ids(p: dict[str, str]) -> tuple[str, str, str]:
    return p["sub"], p["rg"], p["name"]


def _busy_guard(cluster: Resource) -> None:
    state = cluster.properties.get("provisioningState")
    if state in ("Updating", "Creating", "Deleting", "Upgrading", "Scaling", "Starting", "Stopping"):
        raise errors.cluster_operation_in_progress(
            str(cluster.extra.get("busy_operation", "update")),
            str(cluster.extra.get("busy_since", "")),
        )


class ClusterHandlers:
    """Handlers bound to one ArmState."""

    def __init__(self, state: ArmState) -> None:
        self.state = state

    def _cluster(self, p: dict[str, str]) -> Resource:
        sub, rg, name = _ids(p)
        return require_resource(self.state, sub, rg, cluster_id(sub, rg, name), f"{CLUSTER_TYPE}/{name}")

    def get(self, req: Request) -> Response:
        """GET a managed cluster."""
        return ok(public_view(self._cluster(req.params)))

    def list_group(self, req: Request) -> Response:
        """GET the clusters of a resource group."""
        sub, rg = req.params["sub"], req.params["rg"]
        require_group(self.state, sub, rg)
        prefix = f"/subscriptions/{sub}/resourcegroups/{rg}/".lower()
        return page(
            req,
            [public_view(c) for c in self.state.of_type(CLUSTER_TYPE) if c.id.lower().startswith(prefix)],
            self.state.settings.list_page_size,
        )

    def list_subscription(self, req: Request) -> Response:
        """GET the clusters of a subscription."""
        prefix = f"/subscriptions/{req.params['sub']}/".lower()
        return page(
            req,
            [public_view(c) for c in self.state.of_type(CLUSTER_TYPE) if c.id.lower().startswith(prefix)],
            self.state.settings.list_page_size,
        )

    def put(self, req: Request) -> Response:
        """PUT: create or update; the cluster is Updating (Creating) until the configured time has passed."""
        sub, rg, name = _ids(req.params)
        group = require_group(self.state, sub, rg)
        body = body_of(req)
        existing = self.state.get(cluster_id(sub, rg, name))
        props_in = body.get("properties") or {}
        # Checked on the properties as they would be after the PUT, before anything changes.
        _refuse_workload_identity_without_oidc(
            {**(existing.properties if existing is not None else {}), **props_in}
        )
        if existing is None:
            location = str(body.get("location") or group["location"])
            cluster = new_cluster(
                self.state, sub, rg, name, location, body.get("properties"), body.get("tags")
            )
            self.state.put(cluster)
            self._register_kube(cluster)
            self.state.make_busy(cluster, self.state.settings.cluster_update_seconds, "create")
            cluster.properties["provisioningState"] = "Creating"
            status = 201
        else:
            cluster = existing
            _busy_guard(cluster)
            for key, value in props_in.items():
                if key not in _READ_ONLY:
                    cluster.properties[key] = copy.deepcopy(value)
            _kubelet_identity(cluster, props_in)
            _complete_aad_profile(self.state, cluster)
            self._register_kube(cluster)
            if "tags" in body:
                cluster.body["tags"] = dict(body.get("tags") or {})
            derive_features(self.state, cluster)
            self.state.make_busy(cluster, self.state.settings.cluster_update_seconds, "update")
            status = 200
        op = self.state.start_operation(NAMESPACE, cluster, self.state.settings.cluster_update_seconds)
        return ok(public_view(cluster), status, async_operation_headers(req, op))

    def patch_tags(self, req: Request) -> Response:
        """PATCH (update tags) as an LRO."""
        cluster = self._cluster(req.params)
        _busy_guard(cluster)
        body = body_of(req)
        cluster.body["tags"] = dict(body.get("tags") or {})
        self.state.make_busy(cluster, self.state.settings.cluster_update_seconds, "update")
        op = self.state.start_operation(NAMESPACE, cluster, self.state.settings.cluster_update_seconds)
        return ok(public_view(cluster), 200, async_operation_headers(req, op))

    def delete(self, req: Request) -> Response:
        """DELETE: gone at once; the async operation reports Succeeded."""
        cluster = self._cluster(req.params)
        _busy_guard(cluster)
        op = self.state.start_operation(NAMESPACE, cluster, 0)
        self.state.delete(cluster.id)
        return Response.empty(202, async_operation_headers(req, op))

    def credentials(self, req: Request) -> Response:
        """POST listClusterUserCredential / listClusterAdminCredential: a kubeconfig for the kube emulator."""
        cluster = self._cluster(req.params)
        action = req.params["action"].lower()
        name = {
            "listclusteradmincredential": "clusterAdmin",
            "listclustermonitoringusercredential": "clusterMonitoringUser",
        }.get(action, "clusterUser")
        if name == "clusterAdmin" and cluster.properties.get("disableLocalAccounts"):
            # AKS's answer (az aks get-credentials --admin on such a cluster): static credentials are refused.
            raise errors.ArmError(
                400,
                "BadRequest",
                "Getting static credential is not allowed because this cluster is set to disable local "
                "accounts.",
            )
        kubeconfig = self._kubeconfig(cluster, admin=name == "clusterAdmin")
        value = base64.b64encode(yaml.safe_dump(kubeconfig, sort_keys=False).encode()).decode()
        return ok({"kubeconfigs": [{"name": name, "value": value}]})

    def _register_kube(self, cluster: Resource) -> dict[str, Any] | None:
        return register_kube(self.state, cluster)

    def _kubeconfig(self, cluster: Resource, *, admin: bool = False) -> dict[str, Any]:
        key = cluster.extra["kube_key"]
        if self.state.kube is not None:
            # Registration is idempotent; asking again picks up a kube emulator that was reset meanwhile.
            info = self._register_kube(cluster)
            assert info is not None
            if entra_integrated(cluster) and not admin:
                # As AKS: the user kubeconfig of an Entra cluster runs kubelogin and carries no token.
                return entra_kubeconfig(key, info, AKS_SERVER_APP_ID, self.state.tenant_id)
            return kubeconfig(key, info)
        # No kube emulator linked: a well-formed kubeconfig that points at the cluster's (unreachable) FQDN.
        server = f"https://{cluster.properties['fqdn']}:443"
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": cluster.name,
            "clusters": [{"name": cluster.name, "cluster": {"server": server}}],
            "users": [{"name": f"clusterUser_{cluster.name}", "user": {"token": "unlinked"}}],
            "contexts": [
                {
                    "name": cluster.name,
                    "context": {"cluster": cluster.name, "user": f"clusterUser_{cluster.name}"},
                }
            ],
        }
