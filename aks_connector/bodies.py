"""ServiceLinker request bodies from command-line options (what `az aks connection create` sends)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aks_connector.errors import usage_error


@dataclass(frozen=True)
class AuthChoice:
    """One of az's auth flags, as given."""

    secret: bool = False
    secret_pairs: dict[str, str] = field(default_factory=dict)
    workload_identity: str | None = None
    service_principal: bool = False
    service_principal_pairs: dict[str, str] = field(default_factory=dict)
    enable_csi: bool = False

    @property
    def given(self) -> bool:
        """True when any auth flag was given."""
        return bool(self.secret or self.workload_identity or self.service_principal or self.enable_csi)


def auth_info(choice: AuthChoice, subscription_id: str) -> dict[str, Any]:
    """The `authInfo` for the chosen flag; exactly one must be given."""
    chosen = [choice.secret, bool(choice.workload_identity), choice.service_principal, choice.enable_csi]
    if sum(chosen) != 1:
        raise usage_error(
            "Give one of --secret, --workload-identity <client-id>, --service-principal or --enable-csi.",
            "authInfo",
        )
    if choice.enable_csi:
        # Key Vault through the CSI driver: the add-on's own identity, no client id.
        return {"authType": "userAssignedIdentity"}
    if choice.workload_identity:
        if choice.workload_identity.startswith("/"):
            raise usage_error(
                "--workload-identity takes the identity's client id (az identity show --query clientId), "
                "not its resource id.",
                "--workload-identity",
            )
        return {
            "authType": "userAssignedIdentity",
            "clientId": choice.workload_identity,
            "subscriptionId": subscription_id,
        }
    if choice.service_principal:
        pairs = choice.service_principal_pairs
        missing = [k for k in ("client-id", "secret") if not pairs.get(k)]
        if missing:
            raise usage_error(
                "--service-principal needs client-id=<id> secret=<secret> (and object-id=<principal id>).",
                "--service-principal",
            )
        info = {
            "authType": "servicePrincipalSecret",
            "clientId": pairs["client-id"],
            "secret": pairs["secret"],
        }
        if pairs.get("object-id"):
            info["principalId"] = pairs["object-id"]
        return info
    secret_info: dict[str, Any] = {"authType": "secret"}
    pairs = choice.secret_pairs
    if pairs.get("name"):
        secret_info["name"] = pairs["name"]
    if pairs.get("secret"):
        secret_info["secretInfo"] = {"secretType": "rawValue", "value": pairs["secret"]}
    elif pairs.get("secret-uri"):
        secret_info["secretInfo"] = {"secretType": "keyVaultSecretUri", "value": pairs["secret-uri"]}
    return secret_info


def linker_properties(
    *,
    target_id: str | None,
    auth: dict[str, Any] | None,
    enable_csi: bool = False,
    client_type: str | None,
    namespace: str | None,
    customized_keys: dict[str, str] | None = None,
    vault_id: str | None = None,
    delete_behavior: str | None = None,
) -> dict[str, Any]:
    """The linker's `properties` holding only what was given (a PATCH sends no more)."""
    properties: dict[str, Any] = {}
    if target_id:
        target: dict[str, Any] = {"type": "AzureResource", "id": target_id}
        if enable_csi:
            target["resourceProperties"] = {"type": "KeyVault", "connectAsKubernetesCsiDriver": True}
        properties["targetService"] = target
    if auth is not None:
        properties["authInfo"] = auth
    if client_type:
        properties["clientType"] = client_type
    if namespace:
        properties["scope"] = namespace
    configuration: dict[str, Any] = {}
    if customized_keys:
        configuration["customizedKeys"] = customized_keys
    if delete_behavior:
        configuration["deleteOrUpdateBehavior"] = delete_behavior
    if configuration:
        properties["configurationInfo"] = configuration
    if vault_id:
        properties["secretStore"] = {"keyVaultId": vault_id}
    return properties
