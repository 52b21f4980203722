"""Load a seed document (emulators/seeds/README.md describes the format) into an ArmState."""

from __future__ import annotations

from typing import Any

from emulators.arm import kube_effects
from emulators.arm.handlers.aks import KV_ADDON, new_cluster, register_kube
from emulators.arm.handlers.authorization import BUILT_IN_ROLES, is_guid, new_assignment
from emulators.arm.handlers.extensions import EXTENSION_TYPE, extension_id
from emulators.arm.handlers.identity import FIC_SEGMENT, FIC_TYPE, new_identity
from emulators.arm.state import DEFAULT_LOCATION, ArmState, Provider, Resource, new_guid
from emulators.arm.targets import build_target

_PROVIDER_STATES = {"Registered", "NotRegistered", "Registering", "Unregistered"}


def load_seed(state: ArmState, data: dict[str, Any]) -> dict[str, Any]:
    """Add everything the seed describes (additive; reset first for a clean slate); returns counts."""
    if not isinstance(data, dict):
        raise ValueError("a seed is a mapping with a `subscriptions` list")
    with state.lock:
        if data.get("tenantId"):
            state.tenant_id = str(data["tenantId"])
        state.settings.update(data.get("settings") or {})
        for guid in data.get("roleDefinitions") or []:
            state.extra_role_definitions.add(str(guid).lower())
        before = len(state.resources)
        subs = data.get("subscriptions") or []
        for sub_spec in subs:
            _load_subscription(state, sub_spec)
        return {"subscriptions": len(subs), "resources": len(state.resources) - before}


def _load_subscription(state: ArmState, spec: dict[str, Any]) -> None:
    sub_id = str(spec["id"])
    sub = state.add_subscription(sub_id, str(spec.get("displayName") or ""))
    for namespace, registration in (spec.get("providers") or {}).items():
        if registration not in _PROVIDER_STATES:
            raise ValueError(f"provider {namespace}: state must be one of {sorted(_PROVIDER_STATES)}")
        provider = sub.providers.setdefault(namespace.lower(), Provider(namespace))
        provider.namespace, provider.state = namespace, registration
        if registration == "Registering":
            provider.registered_at = state.now() + state.settings.registration_delay
    for rg_spec in spec.get("resourceGroups") or []:
        rg = str(rg_spec["name"])
        location = str(rg_spec.get("location") or DEFAULT_LOCATION)
        state.add_resource_group(sub_id, rg, location)
        for cluster in rg_spec.get("clusters") or []:
            _load_cluster(state, sub_id, rg, location, cluster)
        for identity in rg_spec.get("identities") or []:
            _load_identity(state, sub_id, rg, location, identity)
        for target in rg_spec.get("targets") or []:
            for resource in build_target(state, sub_id, rg, {"location": location, **target}):
                state.put(resource)
    for assignment in spec.get("roleAssignments") or []:
        _load_assignment(state, sub_id, assignment)


def _load_cluster(state: ArmState, sub: str, rg: str, location: str, spec: dict[str, Any]) -> None:
    props: dict[str, Any] = dict(spec.get("properties") or {})
    props.setdefault("kubernetesVersion", str(spec.get("kubernetesVersion", "1.31.2")))
    props["oidcIssuerProfile"] = {"enabled": bool(spec.get("oidcIssuer", False))}
    if spec.get("workloadIdentity"):
        props["securityProfile"] = {"workloadIdentity": {"enabled": True}}
    if "keyvaultSecretsProvider" in spec:
        props["addonProfiles"] = {KV_ADDON: {"enabled": bool(spec["keyvaultSecretsProvider"])}}
    cluster = new_cluster(
        state, sub, rg, str(spec["name"]), str(spec.get("location") or location), props, spec.get("tags")
    )
    cluster.properties["powerState"] = {"code": str(spec.get("powerState", "Running"))}
    state.put(cluster)
    register_kube(state, cluster)
    provisioning = str(spec.get("provisioningState", "Succeeded"))
    if provisioning != "Succeeded":
        state.make_busy(cluster, float(spec.get("busySeconds", state.settings.cluster_update_seconds)))
        cluster.properties["provisioningState"] = provisioning
    for ext in spec.get("extensions") or []:
        _load_extension(state, cluster, ext)


def _load_extension(state: ArmState, cluster: Resource, spec: dict[str, Any]) -> None:
    name = str(spec.get("name", "sc-extension"))
    rid = extension_id(cluster.id, name)
    ext = Resource(
        rid,
        EXTENSION_TYPE,
        {
            "id": rid,
            "name": name,
            "type": EXTENSION_TYPE,
            "properties": {
                "extensionType": spec.get("extensionType", "microsoft.servicelinker.connection"),
                "autoUpgradeMinorVersion": bool(spec.get("autoUpgradeMinorVersion", True)),
                "releaseTrain": spec.get("releaseTrain", "Stable"),
                "version": spec.get("version"),
                "currentVersion": None,
                "scope": {"cluster": {"releaseNamespace": spec.get("releaseNamespace", "sc-system")}},
                "configurationSettings": dict(spec.get("configurationSettings") or {}),
                "configurationProtectedSettings": {},
                "provisioningState": "Creating",
                "statuses": [],
                "errorInfo": None,
                "isSystemExtension": False,
                "aksAssignedIdentity": {
                    "type": "SystemAssigned",
                    "principalId": new_guid(),
                    "tenantId": state.tenant_id,
                },
            },
        },
    )
    ext.extra.update(revision=1, cluster_id=cluster.id, kube_key=cluster.extra.get("kube_key"))
    state.put(ext)
    kube_effects.extension_done(state, ext)


def _load_identity(state: ArmState, sub: str, rg: str, location: str, spec: dict[str, Any]) -> None:
    identity = new_identity(
        state,
        sub,
        rg,
        str(spec["name"]),
        str(spec.get("location") or location),
        spec.get("clientId"),
        spec.get("principalId"),
        spec.get("tags"),
    )
    state.put(identity)
    for fic in spec.get("federatedCredentials") or []:
        rid = f"{identity.id}/{FIC_SEGMENT}/{fic['name']}"
        state.put(
            Resource(
                rid,
                FIC_TYPE,
                {
                    "id": rid,
                    "name": fic["name"],
                    "type": FIC_TYPE,
                    "properties": {
                        "issuer": fic["issuer"],
                        "subject": fic["subject"],
                        "audiences": list(fic.get("audiences") or ["api://AzureADTokenExchange"]),
                    },
                },
            )
        )


def _load_assignment(state: ArmState, sub: str, spec: dict[str, Any]) -> None:
    role = str(spec["roleDefinitionId"])
    guid = role.rstrip("/").rsplit("/", 1)[-1]
    if not is_guid(guid) or (
        guid.lower() not in BUILT_IN_ROLES and guid.lower() not in state.extra_role_definitions
    ):
        raise ValueError(f"role assignment: unknown role definition {role}")
    if "/" not in role:
        role = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    scope = str(spec.get("scope") or f"/subscriptions/{sub}")
    name = str(spec.get("name") or new_guid())
    principal_type = spec.get("principalType", "ServicePrincipal")
    state.put(new_assignment(scope, name, role, str(spec["principalId"]), principal_type, state.timestamp()))
