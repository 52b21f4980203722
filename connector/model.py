"""The `Connection`: one ServiceLinker linker on an AKS cluster, as the product stores and orchestrates it.

Secret material that arrives in a request (a database password, a service principal secret) is held as a
`pydantic.SecretStr`, so repr, str and `model_dump_json` never show it. The trigger seals it at once
(`with_sealed_secret`): the stored and orchestrated form then carries only an opaque sealed token and a keyed
fingerprint, never the value. `desired_hash()` hashes the desired state without any secret value or token,
for drift and duplicate-request detection.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connector.vocabulary import AuthType, ClientType

LINKER_PROVIDER_SEGMENT = "/providers/Microsoft.ServiceLinker/linkers/"
LINKER_RESOURCE_TYPE = "Microsoft.ServiceLinker/linkers"
DEFAULT_NAMESPACE = "default"


class DeleteOrUpdateBehavior(StrEnum):
    """What happens to the Kubernetes resources when the linker is deleted or updated."""

    DEFAULT = "Default"  # keep the Secret and ServiceAccount on delete, as Service Connector does
    FORCED_CLEANUP = "ForcedCleanup"  # remove them


class SecretKind(StrEnum):
    """Where the password of a `secret` auth comes from."""

    AUTO = "auto"  # no secretInfo: the connector lists the target's keys itself
    RAW_VALUE = "rawValue"  # the request carries the value
    KEY_VAULT_SECRET_REFERENCE = "keyVaultSecretReference"  # a secret in the user's Key Vault


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClusterRef(_Frozen):
    """The AKS cluster a linker belongs to."""

    subscription_id: str
    resource_group: str
    name: str

    @property
    def id(self) -> str:
        """The cluster's ARM resource id."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ContainerService/managedClusters/{self.name}"
        )

    def same_as(self, other: ClusterRef) -> bool:
        """True if both name the same cluster (ARM ids compare case-insensitively)."""
        return self.id.lower() == other.id.lower()


class WorkloadIdentityAuth(_Frozen):
    """`userAssignedIdentity`: on AKS this is workload identity (a federated credential on the identity).

    With the Key Vault CSI driver the identity is the add-on's own, so client_id is empty.
    """

    auth_type: Literal[AuthType.USER_ASSIGNED_IDENTITY] = AuthType.USER_ASSIGNED_IDENTITY
    client_id: str = ""
    subscription_id: str = ""
    identity_resource_id: str | None = None  # when known (the CLI resolves it from --workload-identity)


class ServicePrincipalAuth(_Frozen):
    """`servicePrincipalSecret`: an application's client id, its principal (object) id and its secret."""

    auth_type: Literal[AuthType.SERVICE_PRINCIPAL_SECRET] = AuthType.SERVICE_PRINCIPAL_SECRET
    client_id: str
    principal_id: str
    secret: SecretStr | None = None
    sealed_secret: str | None = Field(default=None, repr=False)
    secret_fingerprint: str | None = None


class SecretAuth(_Frozen):
    """`secret`: keys listed from the target (auto), a user name and password, or a Key Vault reference."""

    auth_type: Literal[AuthType.SECRET] = AuthType.SECRET
    kind: SecretKind = SecretKind.AUTO
    user_name: str | None = None
    value: SecretStr | None = None
    sealed_secret: str | None = Field(default=None, repr=False)
    secret_fingerprint: str | None = None
    key_vault_secret_name: str | None = None
    key_vault_secret_version: str | None = None
    key_vault_id: str | None = None  # secretStore.keyVaultId


class SecretStore(_Frozen):
    """`secretStore`: the product writes the target's secret into this vault, not into a Kubernetes Secret.

    `key_vault_secret_name` names the vault secret when the connection has exactly one secret value;
    otherwise names derive from the linker and the configuration key (connector/secret_store.py).
    """

    key_vault_id: str
    key_vault_secret_name: str | None = None


AuthInfo = Annotated[
    WorkloadIdentityAuth | ServicePrincipalAuth | SecretAuth, Field(discriminator="auth_type")
]


def secret_fingerprint(secret: str, key: bytes) -> str:
    """A keyed fingerprint of a secret (HMAC-SHA256), to tell secrets apart without storing them."""
    digest = hmac.new(key, secret.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest}"


class Connection(_Frozen):
    """One linker between an AKS cluster and a target service, as validated from a request."""

    linker_name: str
    cluster: ClusterRef
    target_id: str
    target_kind: str
    key_vault_csi: bool = False  # targetService.resourceProperties.connectAsKubernetesCsiDriver
    app_config_extension: bool = False  # targetService.resourceProperties.connectWithKubernetesExtension
    auth: AuthInfo
    client_type: ClientType = ClientType.NONE
    namespace: str = DEFAULT_NAMESPACE
    customized_keys: dict[str, str] = Field(default_factory=dict)
    delete_or_update_behavior: DeleteOrUpdateBehavior = DeleteOrUpdateBehavior.DEFAULT
    secret_store: SecretStore | None = None  # the vault that holds the secret values (never a k8s Secret)
    provisioning_state: str | None = None  # read-only on the wire; set by the product

    @property
    def linker_id(self) -> str:
        """The linker's ARM resource id."""
        return f"{self.cluster.id}{LINKER_PROVIDER_SEGMENT}{self.linker_name}"

    @property
    def auth_type(self) -> AuthType:
        """The wire auth type."""
        return self.auth.auth_type

    @property
    def is_workload_identity(self) -> bool:
        """True for workload identity proper (userAssignedIdentity without the Key Vault CSI driver)."""
        return self.workload_identity is not None

    @property
    def workload_identity(self) -> WorkloadIdentityAuth | None:
        """The identity of workload identity proper; None otherwise (the Key Vault CSI driver included)."""
        return self.auth if isinstance(self.auth, WorkloadIdentityAuth) and not self.key_vault_csi else None

    def raw_secret(self) -> SecretStr | None:
        """The secret value carried by the request, if any (present only before sealing)."""
        if isinstance(self.auth, ServicePrincipalAuth):
            return self.auth.secret
        if isinstance(self.auth, SecretAuth):
            return self.auth.value
        return None

    @property
    def sealed_secret(self) -> str | None:
        """The sealed token standing for the request's secret, once sealed."""
        if isinstance(self.auth, ServicePrincipalAuth | SecretAuth):
            return self.auth.sealed_secret
        return None

    @property
    def needs_sealing(self) -> bool:
        """True while a raw secret value is still held."""
        return self.raw_secret() is not None

    def with_sealed_secret(self, token: str, fingerprint: str) -> Connection:
        """A copy whose raw secret is replaced by an opaque sealed token and its keyed fingerprint."""
        if isinstance(self.auth, ServicePrincipalAuth):
            auth: WorkloadIdentityAuth | ServicePrincipalAuth | SecretAuth = self.auth.model_copy(
                update={"secret": None, "sealed_secret": token, "secret_fingerprint": fingerprint}
            )
        elif isinstance(self.auth, SecretAuth) and self.auth.kind is SecretKind.RAW_VALUE:
            auth = self.auth.model_copy(
                update={"value": None, "sealed_secret": token, "secret_fingerprint": fingerprint}
            )
        else:
            raise ValueError(f"a {self.auth_type} connection without a raw value has no secret to seal")
        return self.model_copy(update={"auth": auth})

    def with_provisioning_state(self, state: str | None) -> Connection:
        """A copy with another provisioning state."""
        return self.model_copy(update={"provisioning_state": state})

    def desired_state(self) -> dict[str, Any]:
        """The desired state as plain JSON data, without secret values, sealed tokens or provisioning."""
        data = self.model_dump(mode="json", exclude={"provisioning_state"})
        if data.get("secret_store") is None:
            # Absent rather than null: connections stored before the secret store keep their hashes.
            data.pop("secret_store", None)
        auth = data["auth"]
        for field in ("secret", "value", "sealed_secret"):
            auth.pop(field, None)
        data["linker_id"] = self.linker_id.lower()
        data["cluster"] = self.cluster.id.lower()
        data["target_id"] = self.target_id.lower()
        return data

    def desired_hash(self) -> str:
        """sha256 of the desired state; equal for equal requests, whatever their secrets' encryption.

        A changed password changes the hash through its fingerprint, so seal before hashing.
        """
        canonical = json.dumps(self.desired_state(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_stored(self) -> dict[str, Any]:
        """JSON data for the registry and orchestration inputs; refuses to carry an unsealed secret."""
        if self.needs_sealing:
            raise ValueError("seal the connection's secret before storing it")
        return self.model_dump(mode="json")

    @classmethod
    def from_stored(cls, data: Any) -> Connection:
        """The connection back from `to_stored()` data."""
        return cls.model_validate(data)
