"""The secret store in Key Vault: which configuration values go to the vault, under which names, and the
SecretProviderClass through which workloads read them with the Key Vault CSI driver.

When a connection has `secretStore.keyVaultId`, every *secret* configuration value (a connection string, key,
password or client secret: the catalog's secret items) is written to that vault as a Key Vault secret, and
none of them to the Kubernetes Secret, which keeps only the non-secret values. Workloads mount the values with
the SecretProviderClass built here, each file named after its configuration key (`objectAlias`).

Vault secret names (no documented Service Connector convention for AKS was found, so this is our rule):
- `secretStore.keyVaultSecretName` when given; the API allows it only when one secret is stored
  ("only valid when storing one secret", SecretStore in the ServiceLinker spec), and the parser enforces it;
- otherwise `sc-<alphanumerics of the linker name, lower-cased>-<configuration key, lower-cased, every
  character outside [0-9a-z-] turned into '-'>`, e.g. linker `blob_kv`, key
  `AZURE_STORAGEBLOB_CONNECTIONSTRING` → `sc-blobkv-azure-storageblob-connectionstring`. Names longer than
  Key Vault's 127 characters keep their first 110 and end with a hash of the whole.
Names follow Key Vault's pattern `^[0-9a-zA-Z-]{1,127}$` (data-plane spec, SetSecret's `secret-name`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from connector import naming, targets
from connector.model import Connection, SecretStore
from connector.validation import (
    INVALID_FIELD_VALUE,
    INVALID_REQUEST_BODY,
    INVALID_TARGET_RESOURCE_ID,
    MISSING_REQUIRED_FIELD,
    ProblemList,
    echo,
)

VAULT_SECRET_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
SECRET_PROVIDER_CLASS_API_VERSION = "secrets-store.csi.x-k8s.io/v1"
SECRET_PROVIDER_CLASS_KIND = "SecretProviderClass"
_MAX_NAME = 127
_NOT_NAME = re.compile(r"[^0-9a-z-]")


def _mode(connection: Connection) -> targets.AuthMode:
    return targets.CSI if connection.key_vault_csi else connection.auth_type


def secret_keys(connection: Connection, *, kind: str | None = None) -> tuple[str, ...]:
    """The configuration keys (customized names) whose values are secrets, in the configuration's order."""
    kind = kind or connection.target_kind
    secret = targets.secret_keys(kind, _mode(connection), connection.client_type)
    ordered = targets.configuration_keys(kind, _mode(connection), connection.client_type)
    return tuple(connection.customized_keys.get(k, k) for k in ordered if k in secret)


def derived_name(linker_name: str, key: str) -> str:
    """The vault secret name of one configuration key when the request names none (see the module rule)."""
    stem = naming.secret_name(linker_name).removesuffix("-secret")
    name = f"{stem}-{_NOT_NAME.sub('-', key.lower())}"
    if len(name) <= _MAX_NAME:
        return name
    return f"{name[:110]}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:16]}"


def vault_secret_names(connection: Connection, *, kind: str | None = None) -> dict[str, str]:
    """Configuration key -> vault secret name, for a connection with a secret store ({} without one)."""
    store = connection.secret_store
    if store is None:
        return {}
    keys = secret_keys(connection, kind=kind)
    if store.key_vault_secret_name and len(keys) == 1:
        return {keys[0]: store.key_vault_secret_name}
    return {key: derived_name(connection.linker_name, key) for key in keys}


def split(
    connection: Connection, rendered: Mapping[str, str], *, kind: str | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """(what the Kubernetes Secret holds, vault secret name -> value) of a rendered configuration."""
    names = vault_secret_names(connection, kind=kind)
    kube = {key: value for key, value in rendered.items() if key not in names}
    vault = {names[key]: value for key, value in rendered.items() if key in names}
    return kube, vault


def vault_name(vault_id: str) -> str:
    """The vault's name: the last segment of its resource id."""
    return vault_id.rstrip("/").rsplit("/", 1)[-1]


def secret_provider_class_name(linker_name: str) -> str:
    """`sc-<alphanumerics of the linker name, lower-cased>-secretproviderclass`."""
    return naming.secret_name(linker_name).removesuffix("-secret") + "-secretproviderclass"


def _objects(names: Mapping[str, str]) -> str:
    # The Azure provider reads `objects` as a YAML document: an `array` of YAML strings, one object each.
    lines = ["array:"]
    for key, name in names.items():
        lines += ["  - |", f"    objectName: {name}", "    objectType: secret", f"    objectAlias: {key}"]
    return "\n".join(lines) + "\n"


def build_secret_provider_class(
    connection: Connection,
    *,
    tenant_id: str,
    addon_client_id: str,
    kind: str | None = None,
) -> dict[str, Any]:
    """The SecretProviderClass that mounts the connection's vault secrets, through the add-on's identity.

    Fields as the Azure Key Vault provider documents them (and as the Service Connector AKS sample's
    secret_provider_class.yaml uses them): provider azure, usePodIdentity "false", useVMManagedIdentity
    "true", userAssignedIdentityID (the azureKeyvaultSecretsProvider add-on's client id), keyvaultName,
    tenantId, objects.
    """
    store = connection.secret_store
    if store is None:
        raise ValueError(f"{connection.linker_id} has no secret store")
    return {
        "apiVersion": SECRET_PROVIDER_CLASS_API_VERSION,
        "kind": SECRET_PROVIDER_CLASS_KIND,
        "metadata": {
            "name": secret_provider_class_name(connection.linker_name),
            "namespace": connection.namespace,
            "labels": naming.secret_labels(connection),
            "annotations": naming.secret_annotations(connection),
        },
        "spec": {
            "provider": "azure",
            "parameters": {
                "usePodIdentity": "false",
                "useVMManagedIdentity": "true",
                "userAssignedIdentityID": addon_client_id,
                "keyvaultName": vault_name(store.key_vault_id),
                "tenantId": tenant_id,
                "objects": _objects(vault_secret_names(connection, kind=kind)),
            },
        },
    }


def read_secret_store(
    props: Mapping[str, Any],
    *,
    kind: str | None,
    mode: targets.AuthMode | None,
    client_type: str | None,
    problems: ProblemList,
) -> SecretStore | None:
    """`properties.secretStore` as the connection's secret store, or None (absent, `{}`, or the vault of a
    keyVaultSecretReference, which names where the user's own secret is read from instead).

    Refused (400 naming the field): a vault id that is no Key Vault, a keyVaultSecretName that is no valid
    vault secret name or comes without a vault or with more than one secret to store, and a store on a
    connection with no secret value at all (workload identity, the Key Vault CSI driver): it would be
    dropped. `kind`, `mode` or `client_type` None: their own problem is reported already.
    """
    store = props.get("secretStore")
    if store is None:
        return None
    if not isinstance(store, Mapping):
        problems.add(INVALID_REQUEST_BODY, "'properties.secretStore' must be a JSON object.", _STORE)
        return None
    vault_id, name = store.get("keyVaultId"), store.get("keyVaultSecretName")
    if not vault_id:
        if name:
            problems.add(MISSING_REQUIRED_FIELD, f"'{_NAME_FIELD}' needs '{_VAULT_FIELD}'.", _VAULT_FIELD)
        return None
    if _names_reference(props):
        return None
    match = targets.match_target_id(vault_id) if isinstance(vault_id, str) else None
    if match is None or match.spec.kind != "keyvault":
        problems.add(
            INVALID_TARGET_RESOURCE_ID,
            f"'{_VAULT_FIELD}' must be a Key Vault resource id, not {echo(vault_id)}.",
            _VAULT_FIELD,
        )
        return None
    if name is not None and (not isinstance(name, str) or not VAULT_SECRET_NAME.match(name)):
        problems.add(
            INVALID_FIELD_VALUE,
            f"'{_NAME_FIELD}' {echo(name)} is not a Key Vault secret name (1-127 letters, digits and '-').",
            _NAME_FIELD,
        )
        return None
    if kind is None or mode is None or client_type is None:
        return None
    try:
        keys = targets.secret_keys(kind, mode, client_type)
    except targets.CatalogError:
        return None
    if not keys:
        problems.add(
            INVALID_REQUEST_BODY,
            f"'{_VAULT_FIELD}' is not supported for this connection: with auth type {mode} it has no secret "
            "value to store in Key Vault. Remove the secret store to continue.",
            _VAULT_FIELD,
        )
        return None
    if name and len(keys) > 1:
        problems.add(
            INVALID_FIELD_VALUE,
            f"'{_NAME_FIELD}' is only valid when storing one secret; this connection stores {len(keys)} "
            f"({', '.join(sorted(keys))}). Leave it out to have each secret named after its key.",
            _NAME_FIELD,
        )
        return None
    return SecretStore(key_vault_id=vault_id, key_vault_secret_name=name or None)


def _names_reference(props: Mapping[str, Any]) -> bool:
    """True when authInfo reads the user's own secret from the vault (keyVaultSecretReference)."""
    auth = props.get("authInfo")
    info = auth.get("secretInfo") if isinstance(auth, Mapping) else None
    kind = info.get("secretType") if isinstance(info, Mapping) else None
    return isinstance(kind, str) and kind.lower() == "keyvaultsecretreference"


_STORE = "properties.secretStore"
_VAULT_FIELD = "properties.secretStore.keyVaultId"
_NAME_FIELD = "properties.secretStore.keyVaultSecretName"
