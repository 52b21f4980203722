"""The ServiceLinker linker wire format for a managedCluster source, both directions.

API versions 2022-05-01 and 2024-04-01 (Azure/azure-rest-api-specs,
specification/servicelinker/resource-manager/Microsoft.ServiceLinker/ServiceLinker/stable/*/servicelinker.json).
2024-04-01 adds `configurationInfo` (customizedKeys, deleteOrUpdateBehavior, ...); with 2022-05-01 a body
that sends it is refused rather than silently ignored.

`parse_linker` turns a PUT body into a validated `Connection` or raises `RequestValidationError` (never
anything else, whatever the body holds), listing every problem it found. `to_linker_body` renders a
connection back; a secret value is accepted but never emitted (`secretInfo` keeps its type, not its value;
a service principal's `secret` is left out). Unknown properties are ignored, as ARM does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import SecretStr

from connector import ids, secret_store, targets
from connector.model import (
    LINKER_PROVIDER_SEGMENT,
    LINKER_RESOURCE_TYPE,
    ClusterRef,
    Connection,
    DeleteOrUpdateBehavior,
    SecretAuth,
    SecretKind,
    ServicePrincipalAuth,
    WorkloadIdentityAuth,
)
from connector.validation import (
    INVALID_CUSTOMIZED_KEY,
    INVALID_FIELD_VALUE,
    INVALID_REQUEST_BODY,
    INVALID_SOURCE_RESOURCE_ID,
    INVALID_TARGET_RESOURCE_ID,
    MISSING_REQUIRED_FIELD,
    UNKNOWN_CLIENT_TYPE,
    UNSUPPORTED_API_VERSION,
    UNSUPPORTED_AUTH_TYPE,
    UNSUPPORTED_CLIENT_TYPE,
    UNSUPPORTED_SECRET_TYPE,
    UNSUPPORTED_TARGET,
    ProblemList,
    RequestValidationError,
    echo,
    is_env_var_name,
    is_guid,
    linker_name_problems,
    namespace_problems,
    reserved_env_name,
)
from connector.vocabulary import AuthType, ClientType

API_2022_05_01 = "2022-05-01"
API_2022_11_01_PREVIEW = "2022-11-01-preview"
API_2023_04_01_PREVIEW = "2023-04-01-preview"
API_2024_04_01 = "2024-04-01"
# What today's `az aks connection` sends (azure-cli pins azure-mgmt-servicelinker 1.2.0b3, generated from it).
API_2024_07_01_PREVIEW = "2024-07-01-preview"
# Every published api-version from 2022-05-01 on, oldest first.
SUPPORTED_API_VERSIONS = (
    API_2022_05_01,
    API_2022_11_01_PREVIEW,
    API_2023_04_01_PREVIEW,
    API_2024_04_01,
    API_2024_07_01_PREVIEW,
)


def has_configuration_info(api_version: str) -> bool:
    """True for the api-versions whose linker has `configurationInfo` (every one after 2022-05-01)."""
    return api_version != API_2022_05_01


# A well-formed ARM resource id: subscription, resource group, provider namespace, then type/name pairs.
_ARM_RESOURCE_ID = re.compile(
    r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/[^/]+(/[^/]+/[^/]+)+", re.IGNORECASE
)
# Auth types the API knows but an AKS source cannot use.
_NOT_ON_AKS = frozenset(
    {
        AuthType.SYSTEM_ASSIGNED_IDENTITY,
        AuthType.SERVICE_PRINCIPAL_CERTIFICATE,
        AuthType.ACCESS_KEY,
        AuthType.USER_ACCOUNT,
    }
)
# configurationInfo features this connector does not implement; a non-empty value is refused, not ignored.
_UNSUPPORTED_CONFIGURATION_FIELDS = (
    "additionalConfigurations",
    "additionalConnectionStringProperties",
    "configurationStore",
    "daprProperties",
)
_MAX_PATH_KEY = 100

_E = TypeVar("_E", bound=StrEnum)


# --- Ids -------------------------------------------------------------------------------------------------


def split_linker_id(linker_id: str) -> tuple[ClusterRef, str]:
    """The cluster and linker name of a linker id; RequestValidationError if it is not a valid one."""
    problems = ProblemList()
    cluster, name = _split_linker_id(linker_id, problems)
    problems.raise_if_any()
    assert cluster is not None and name is not None
    return cluster, name


def linker_id_of(cluster: ClusterRef, linker_name: str) -> str:
    """The linker id of a linker name on a cluster."""
    return f"{cluster.id}{LINKER_PROVIDER_SEGMENT}{linker_name}"


def _split_linker_id(linker_id: object, problems: ProblemList) -> tuple[ClusterRef | None, str | None]:
    if not isinstance(linker_id, str):
        problems.add(INVALID_SOURCE_RESOURCE_ID, "The linker id must be a string.", "linkerId")
        return None, None
    parts = ids.linker_parts(linker_id)  # an empty name is the name's rules' to report
    if parts is None:
        problems.add(
            INVALID_SOURCE_RESOURCE_ID,
            f"The linker id {echo(linker_id)} does not end in "
            "'/providers/Microsoft.ServiceLinker/linkers/{linkerName}'.",
            "linkerId",
        )
        return None, None
    source_id, name = parts
    cluster = ids.parse_cluster_id(source_id)
    if cluster is None:
        problems.add(
            INVALID_SOURCE_RESOURCE_ID,
            f"The source {echo(source_id)} is not an AKS cluster id: expected "
            "/subscriptions/{subscriptionGuid}/resourceGroups/{group}/providers/"
            "Microsoft.ContainerService/managedClusters/{cluster}.",
            "linkerId",
        )
    name_problems = linker_name_problems(name)
    problems.extend(name_problems)
    return cluster, (None if name_problems else name)


# --- Reading helpers -------------------------------------------------------------------------------------


def _path_key(key: str) -> str:
    return key if len(key) <= _MAX_PATH_KEY else key[:_MAX_PATH_KEY] + "..."


def _mapping(
    parent: Mapping[str, Any], key: str, path: str, problems: ProblemList, *, required: bool
) -> Mapping[str, Any] | None:
    value = parent.get(key)
    if value is None:
        if required:
            problems.add(MISSING_REQUIRED_FIELD, f"'{path}' is required.", path)
        return None
    if not isinstance(value, Mapping):
        problems.add(
            INVALID_REQUEST_BODY, f"'{path}' must be a JSON object, not {type(value).__name__}.", path
        )
        return None
    return value


def _string(
    parent: Mapping[str, Any], key: str, path: str, problems: ProblemList, *, required: bool
) -> str | None:
    value = parent.get(key)
    if value is None or (required and value == ""):
        if required:
            problems.add(MISSING_REQUIRED_FIELD, f"'{path}' is required.", path)
        return None
    if not isinstance(value, str):
        problems.add(INVALID_REQUEST_BODY, f"'{path}' must be a string, not {type(value).__name__}.", path)
        return None
    return value


def _guid(parent: Mapping[str, Any], key: str, path: str, problems: ProblemList) -> str | None:
    value = _string(parent, key, path, problems, required=True)
    if value is not None and not is_guid(value):
        # The value is not echoed: these are authInfo fields, where a pasted secret may end up by mistake.
        problems.add(INVALID_FIELD_VALUE, f"'{path}' must be a GUID (8-4-4-4-12 hexadecimal digits).", path)
        return None
    return value


def _boolean(parent: Mapping[str, Any], key: str, path: str, problems: ProblemList) -> bool:
    value = parent.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        problems.add(
            INVALID_REQUEST_BODY, f"'{path}' must be true or false, not {type(value).__name__}.", path
        )
        return False
    return value


def _is_set(value: object) -> bool:
    """True unless the value is null, empty, or an object whose every member is null (what clients send)."""
    if isinstance(value, Mapping):
        return any(member is not None for member in value.values())
    return value is not None and value != [] and value != ""


def _enum(enum: type[_E], raw: str) -> _E | None:
    """The enum member for a wire value; ARM enums compare case-insensitively."""
    for member in enum:
        if member.value.lower() == raw.lower():
            return member
    return None


# --- Parsing ---------------------------------------------------------------------------------------------


class _Target:
    def __init__(
        self, target_id: str, spec: targets.TargetSpec, csi: bool, app_config_extension: bool
    ) -> None:
        self.target_id = target_id
        self.spec = spec
        self.csi = csi
        self.app_config_extension = app_config_extension


def _check_api_version(api_version: object) -> str:
    if not isinstance(api_version, str) or api_version not in SUPPORTED_API_VERSIONS:
        shown = echo(api_version) if isinstance(api_version, str) else "missing"
        raise RequestValidationError(
            UNSUPPORTED_API_VERSION,
            f"The api-version {shown} is not supported. Supported: {', '.join(SUPPORTED_API_VERSIONS)}.",
            "api-version",
        )
    return api_version


def _read_target(props: Mapping[str, Any], problems: ProblemList) -> _Target | None:
    path = "properties.targetService"
    service = _mapping(props, "targetService", path, problems, required=True)
    if service is None:
        return None
    service_type = _string(service, "type", f"{path}.type", problems, required=True)
    if service_type is not None and service_type.lower() != "azureresource":
        by_endpoint = targets.spec_for_service_type(service_type)
        if by_endpoint is not None:
            return _read_endpoint_target(service, by_endpoint, problems)
        known = ", ".join(
            ["AzureResource", *(s.service_type for s in targets.all_specs() if not s.is_arm_resource)]
        )
        problems.add(
            UNSUPPORTED_TARGET,
            f"Target service type {echo(service_type)} is not supported on AKS by this connector; "
            f"use one of: {known}.",
            f"{path}.type",
        )
    target_id = _string(service, "id", f"{path}.id", problems, required=True)
    resource_properties = _mapping(
        service, "resourceProperties", f"{path}.resourceProperties", problems, required=False
    )
    if target_id is None:
        return None
    if _ARM_RESOURCE_ID.fullmatch(target_id) is None:
        problems.add(
            INVALID_TARGET_RESOURCE_ID,
            f"The target {echo(target_id)} is not an ARM resource id "
            "(/subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name}...).",
            f"{path}.id",
        )
        return None
    match = targets.match_target_id(target_id)
    if match is None:
        kinds = ", ".join(sorted(spec.kind for spec in targets.all_specs()))
        problems.add(
            UNSUPPORTED_TARGET,
            f"The target {echo(target_id)} is not a supported target service. Supported kinds: {kinds}.",
            f"{path}.id",
        )
        return None
    csi, app_config_extension = _read_resource_properties(resource_properties, match.spec, problems)
    return _Target(target_id, match.spec, csi, app_config_extension)


def _read_endpoint_target(
    service: Mapping[str, Any], spec: targets.TargetSpec, problems: ProblemList
) -> _Target | None:
    """A target outside Azure (Confluent Cloud), named by `endpoint`; the connection keeps the endpoint."""
    path = "properties.targetService"
    endpoint = _string(service, "endpoint", f"{path}.endpoint", problems, required=True)
    if _is_set(service.get("resourceProperties")):
        problems.add(
            UNSUPPORTED_TARGET,
            f"Resource properties are not supported for a {spec.service_type} target.",
            f"{path}.resourceProperties",
        )
    if endpoint is None:
        return None
    problem = targets.endpoint_problem(spec, endpoint)
    if problem is not None:
        problems.add(
            INVALID_FIELD_VALUE, f"The endpoint {echo(endpoint)} is not valid. {problem}", f"{path}.endpoint"
        )
        return None
    return _Target(endpoint, spec, False, False)


def _read_resource_properties(
    resource_properties: Mapping[str, Any] | None, spec: targets.TargetSpec, problems: ProblemList
) -> tuple[bool, bool]:
    if resource_properties is None:
        return False, False
    path = "properties.targetService.resourceProperties"
    kind = _string(resource_properties, "type", f"{path}.type", problems, required=True)
    if kind is None:
        return False, False
    if kind.lower() == "keyvault":
        csi = _boolean(
            resource_properties,
            "connectAsKubernetesCsiDriver",
            f"{path}.connectAsKubernetesCsiDriver",
            problems,
        )
        if not spec.supports_csi:
            problems.add(
                UNSUPPORTED_TARGET,
                f"Key Vault resource properties were sent for a {spec.kind} target.",
                f"{path}.type",
            )
            return False, False
        return csi, False
    if kind.lower() == "appconfig":
        extension = _boolean(
            resource_properties,
            "connectWithKubernetesExtension",
            f"{path}.connectWithKubernetesExtension",
            problems,
        )
        if spec.kind != "appconfig":
            problems.add(
                UNSUPPORTED_TARGET,
                f"App Configuration resource properties were sent for a {spec.kind} target.",
                f"{path}.type",
            )
            return False, False
        if extension:
            # Service Connector installs the App Configuration Kubernetes Provider (an AKS extension) for
            # this flag (learn.microsoft.com/azure/aks/azure-app-configuration-quickstart); this connector
            # does not, so the flag is refused rather than dropped (connector/CATALOG.md).
            problems.add(
                INVALID_REQUEST_BODY,
                f"'{path}.connectWithKubernetesExtension' is not supported: this connector does not install "
                "the Azure App Configuration Kubernetes Provider extension. Install it yourself (az "
                "k8s-extension create --extension-type Microsoft.AppConfiguration) and connect without the "
                "flag.",
                f"{path}.connectWithKubernetesExtension",
            )
        return False, extension
    problems.add(
        UNSUPPORTED_TARGET,
        f"Resource properties of type {echo(kind)} are not supported; use 'KeyVault' or 'AppConfig'.",
        f"{path}.type",
    )
    return False, False


def _read_client_type(
    props: Mapping[str, Any], spec: targets.TargetSpec | None, problems: ProblemList
) -> ClientType | None:
    path = "properties.clientType"
    raw = _string(props, "clientType", path, problems, required=False)
    if raw is None:
        return ClientType.NONE if "clientType" not in props or props["clientType"] is None else None
    client_type = _enum(ClientType, raw)
    if client_type is None:
        known = ", ".join(member.value for member in ClientType)
        problems.add(UNKNOWN_CLIENT_TYPE, f"Client type {echo(raw)} is unknown. Known: {known}.", path)
        return None
    if spec is not None and client_type not in spec.client_types:
        supported = ", ".join(sorted(member.value for member in spec.client_types))
        problems.add(
            UNSUPPORTED_CLIENT_TYPE,
            f"Client type '{client_type.value}' is not supported for a {spec.kind} target. "
            f"Supported: {supported}.",
            path,
        )
        return None
    return client_type


def _read_auth(
    props: Mapping[str, Any],
    target: _Target | None,
    existing: Connection | None,
    problems: ProblemList,
) -> WorkloadIdentityAuth | ServicePrincipalAuth | SecretAuth | None:
    path = "properties.authInfo"
    auth = _mapping(props, "authInfo", path, problems, required=True)
    if auth is None:
        return None
    raw_type = _string(auth, "authType", f"{path}.authType", problems, required=True)
    if raw_type is None:
        return None
    auth_type = _enum(AuthType, raw_type)
    type_path = f"{path}.authType"
    if auth_type is None:
        problems.add(UNSUPPORTED_AUTH_TYPE, f"Auth type {echo(raw_type)} is unknown.", type_path)
        return None
    if auth_type in _NOT_ON_AKS:
        problems.add(
            UNSUPPORTED_AUTH_TYPE,
            f"Auth type '{auth_type.value}' is not supported with an AKS cluster as the source. "
            "Use userAssignedIdentity (workload identity), servicePrincipalSecret or secret.",
            type_path,
        )
        return None
    if target is not None:
        if target.csi and auth_type is not AuthType.USER_ASSIGNED_IDENTITY:
            problems.add(
                UNSUPPORTED_AUTH_TYPE,
                "With connectAsKubernetesCsiDriver the Key Vault add-on's own identity is used: "
                f"send authType 'userAssignedIdentity', not '{auth_type.value}'.",
                type_path,
            )
            return None
        if not target.csi and auth_type not in target.spec.auth_types:
            supported = ", ".join(sorted(a.value for a in target.spec.auth_types))
            problems.add(
                UNSUPPORTED_AUTH_TYPE,
                f"Auth type '{auth_type.value}' is not supported for a {target.spec.kind} target on AKS. "
                f"Supported: {supported}.",
                type_path,
            )
            return None
    if auth_type is AuthType.USER_ASSIGNED_IDENTITY:
        return _read_workload_identity(auth, target, problems)
    if auth_type is AuthType.SERVICE_PRINCIPAL_SECRET:
        return _read_service_principal(auth, existing, problems)
    return _read_secret_auth(props, auth, target, existing, problems)


def _read_workload_identity(
    auth: Mapping[str, Any], target: _Target | None, problems: ProblemList
) -> WorkloadIdentityAuth | None:
    path = "properties.authInfo"
    if target is not None and target.csi:
        # The add-on's identity is resolved on the cluster; the CLI sends no client id (or an empty one).
        _string(auth, "clientId", f"{path}.clientId", problems, required=False)
        return WorkloadIdentityAuth()
    client_id = _guid(auth, "clientId", f"{path}.clientId", problems)
    subscription_id = _guid(auth, "subscriptionId", f"{path}.subscriptionId", problems)
    if client_id is None or subscription_id is None:
        return None
    return WorkloadIdentityAuth(client_id=client_id.lower(), subscription_id=subscription_id.lower())


def _read_service_principal(
    auth: Mapping[str, Any], existing: Connection | None, problems: ProblemList
) -> ServicePrincipalAuth | None:
    path = "properties.authInfo"
    client_id = _guid(auth, "clientId", f"{path}.clientId", problems)
    principal_id = _guid(auth, "principalId", f"{path}.principalId", problems)
    secret = _string(auth, "secret", f"{path}.secret", problems, required=False)
    if client_id is None or principal_id is None:
        return None
    if secret:
        return ServicePrincipalAuth(client_id=client_id, principal_id=principal_id, secret=SecretStr(secret))
    previous = existing.auth if existing is not None else None
    if (
        isinstance(previous, ServicePrincipalAuth)
        and previous.client_id.lower() == client_id.lower()
        and (previous.secret is not None or previous.sealed_secret is not None)
    ):
        # A GET-modify-PUT round trip cannot resend the secret (it is never emitted): keep the stored one.
        return previous.model_copy(update={"principal_id": principal_id})
    if "secret" not in auth or auth["secret"] in (None, ""):
        problems.add(MISSING_REQUIRED_FIELD, f"'{path}.secret' is required.", f"{path}.secret")
    return None


def _read_secret_auth(
    props: Mapping[str, Any],
    auth: Mapping[str, Any],
    target: _Target | None,
    existing: Connection | None,
    problems: ProblemList,
) -> SecretAuth | None:
    path = "properties.authInfo"
    user_name = _string(auth, "name", f"{path}.name", problems, required=False) or None
    info = _mapping(auth, "secretInfo", f"{path}.secretInfo", problems, required=False)
    secret_from_request = (
        target is not None
        and target.spec.secret_source is not None
        and target.spec.secret_source.from_request
    )
    if secret_from_request and user_name is None:
        problems.add(
            MISSING_REQUIRED_FIELD,
            f"A {target.spec.kind if target else ''} target needs the user name (database user or API key) "
            f"in '{path}.name'.",
            f"{path}.name",
        )
    if info is None:
        if secret_from_request:
            problems.add(
                MISSING_REQUIRED_FIELD,
                f"A {target.spec.kind if target else ''} target needs its password or API secret in "
                f"'{path}.secretInfo' "
                "(secretType rawValue or keyVaultSecretReference).",
                f"{path}.secretInfo",
            )
            return None
        return SecretAuth(kind=SecretKind.AUTO, user_name=user_name)
    raw_kind = _string(info, "secretType", f"{path}.secretInfo.secretType", problems, required=True)
    if raw_kind is None:
        return None
    kind = _enum(SecretKind, raw_kind)
    if kind is None or kind is SecretKind.AUTO:
        problems.add(
            UNSUPPORTED_SECRET_TYPE,
            f"Secret type {echo(raw_kind)} is not supported with an AKS source; use 'rawValue' or "
            "'keyVaultSecretReference', or leave secretInfo out to have the target's keys listed.",
            f"{path}.secretInfo.secretType",
        )
        return None
    stored = existing.auth if existing is not None else None
    keeps_stored = isinstance(stored, SecretAuth) and stored.kind is SecretKind.RAW_VALUE
    if (
        kind is SecretKind.RAW_VALUE
        and info.get("value") is None
        and not (secret_from_request or keeps_stored)
    ):
        # `az aks connection update ... --secret` sends {"secretType": "rawValue"} with no value for a target
        # whose keys the connector lists itself: nothing to store, the keys are still listed (as on create).
        return SecretAuth(kind=SecretKind.AUTO, user_name=user_name)
    if kind is SecretKind.RAW_VALUE:
        return _read_raw_value(info, user_name, existing, problems)
    return _read_key_vault_reference(props, info, user_name, problems)


def _read_raw_value(
    info: Mapping[str, Any], user_name: str | None, existing: Connection | None, problems: ProblemList
) -> SecretAuth | None:
    path = "properties.authInfo.secretInfo.value"
    value = info.get("value")
    if isinstance(value, str) and value:
        return SecretAuth(kind=SecretKind.RAW_VALUE, user_name=user_name, value=SecretStr(value))
    if value is not None and not isinstance(value, str):
        problems.add(INVALID_REQUEST_BODY, f"'{path}' must be a string, not {type(value).__name__}.", path)
        return None
    previous = existing.auth if existing is not None else None
    if (
        isinstance(previous, SecretAuth)
        and previous.kind is SecretKind.RAW_VALUE
        and previous.user_name == user_name
        and (previous.value is not None or previous.sealed_secret is not None)
    ):
        # The value is never emitted back, so an update that resends the linker keeps the stored secret.
        return previous
    problems.add(MISSING_REQUIRED_FIELD, f"'{path}' is required.", path)
    return None


def _read_key_vault_reference(
    props: Mapping[str, Any], info: Mapping[str, Any], user_name: str | None, problems: ProblemList
) -> SecretAuth | None:
    path = "properties.authInfo.secretInfo"
    name = _string(info, "name", f"{path}.name", problems, required=True)
    version = _string(info, "version", f"{path}.version", problems, required=False) or None
    store = _mapping(props, "secretStore", "properties.secretStore", problems, required=False) or {}
    vault_id = _string(store, "keyVaultId", "properties.secretStore.keyVaultId", problems, required=True)
    if vault_id is not None:
        match = targets.match_target_id(vault_id)
        if match is None or match.spec.kind != "keyvault":
            problems.add(
                INVALID_TARGET_RESOURCE_ID,
                f"'properties.secretStore.keyVaultId' must be a Key Vault resource id, not {echo(vault_id)}.",
                "properties.secretStore.keyVaultId",
            )
            return None
    if name is None or vault_id is None:
        return None
    return SecretAuth(
        kind=SecretKind.KEY_VAULT_SECRET_REFERENCE,
        user_name=user_name,
        key_vault_secret_name=name,
        key_vault_secret_version=version,
        key_vault_id=vault_id,
    )


def _read_namespace(props: Mapping[str, Any], problems: ProblemList) -> str | None:
    namespace = _string(props, "scope", "properties.scope", problems, required=False)
    if namespace is None:
        return "default" if props.get("scope") is None else None
    found = namespace_problems(namespace)
    problems.extend(found)
    return None if found else namespace


class _ConfigurationInfo:
    def __init__(self, customized_keys: dict[str, str], behavior: DeleteOrUpdateBehavior) -> None:
        self.customized_keys = customized_keys
        self.behavior = behavior


def _read_configuration_info(props: Mapping[str, Any], problems: ProblemList) -> _ConfigurationInfo | None:
    path = "properties.configurationInfo"
    info = _mapping(props, "configurationInfo", path, problems, required=False)
    if info is None:
        return _ConfigurationInfo({}, DeleteOrUpdateBehavior.DEFAULT)
    ok = True
    behavior = DeleteOrUpdateBehavior.DEFAULT
    raw_behavior = _string(
        info, "deleteOrUpdateBehavior", f"{path}.deleteOrUpdateBehavior", problems, required=False
    )
    if raw_behavior is not None:
        found = _enum(DeleteOrUpdateBehavior, raw_behavior)
        if found is None:
            problems.add(
                INVALID_FIELD_VALUE,
                f"'{path}.deleteOrUpdateBehavior' must be 'Default' or 'ForcedCleanup', "
                f"not {echo(raw_behavior)}.",
                f"{path}.deleteOrUpdateBehavior",
            )
            ok = False
        else:
            behavior = found
    action = _string(info, "action", f"{path}.action", problems, required=False)
    if action is not None and action.lower() != "enable":
        problems.add(
            INVALID_REQUEST_BODY,
            f"'{path}.action' {echo(action)} is not supported: an AKS connection always writes its Secret.",
            f"{path}.action",
        )
        ok = False
    for field in _UNSUPPORTED_CONFIGURATION_FIELDS:
        if _is_set(info.get(field)):
            problems.add(
                INVALID_REQUEST_BODY,
                f"'{path}.{field}' is not supported by this connector.",
                f"{path}.{field}",
            )
            ok = False
    customized = _mapping(info, "customizedKeys", f"{path}.customizedKeys", problems, required=False) or {}
    keys: dict[str, str] = {}
    for key, value in customized.items():
        key_path = f"{path}.customizedKeys.{_path_key(str(key))}"
        if not isinstance(key, str) or not isinstance(value, str):
            problems.add(INVALID_REQUEST_BODY, "Customized keys map key names to strings.", key_path)
            ok = False
            continue
        keys[key] = value
    return _ConfigurationInfo(keys, behavior) if ok else None


def _check_customized_keys(
    customized: Mapping[str, str],
    target: _Target,
    auth_type: AuthType,
    client_type: ClientType,
    problems: ProblemList,
) -> None:
    mode: targets.AuthMode = targets.CSI if target.csi else auth_type
    try:
        defaults = targets.configuration_keys(target.spec.kind, mode, client_type)
        accepted = targets.accepted_keys(target.spec.kind, mode, client_type)
    except targets.CatalogError as error:
        problems.add(UNSUPPORTED_AUTH_TYPE, str(error), "properties.authInfo.authType")
        return
    path = "properties.configurationInfo.customizedKeys"
    for key, value in customized.items():
        key_path = f"{path}.{_path_key(key)}"
        if key not in accepted:
            problems.add(
                INVALID_CUSTOMIZED_KEY,
                f"{echo(key)} is not a configuration key of this connection. "
                f"Its keys: {', '.join(defaults)}.",
                key_path,
            )
        elif not is_env_var_name(value):
            problems.add(
                INVALID_CUSTOMIZED_KEY,
                f"{echo(value)} is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*).",
                key_path,
            )
        elif reserved_env_name(value):
            problems.add(
                INVALID_CUSTOMIZED_KEY,
                f"{echo(value)} would shadow an environment variable that processes or the platform rely on "
                "(the Secret reaches workloads through envFrom); choose another name.",
                key_path,
            )
    final = [customized.get(key, key) for key in defaults]
    for name in sorted({n for n in final if final.count(n) > 1}):
        problems.add(
            INVALID_CUSTOMIZED_KEY,
            f"Several configuration keys would be named {echo(name)}; each key needs its own name.",
            path,
        )


def _read_properties(
    linker_id: object, body: object, existing: Connection | None, allow_configuration_info: bool
) -> Connection:
    problems = ProblemList()
    cluster, name = _split_linker_id(linker_id, problems)
    if not isinstance(body, Mapping):
        problems.fail(INVALID_REQUEST_BODY, "The request body must be a JSON object.", None)
    props = body.get("properties")
    if props is None:
        problems.fail(MISSING_REQUIRED_FIELD, "'properties' is required.", "properties")
    if not isinstance(props, Mapping):
        problems.fail(
            INVALID_REQUEST_BODY,
            f"'properties' must be a JSON object, not {type(props).__name__}.",
            "properties",
        )
    if not allow_configuration_info and props.get("configurationInfo") is not None:
        problems.add(
            INVALID_REQUEST_BODY,
            f"'properties.configurationInfo' needs api-version {API_2022_11_01_PREVIEW} or later.",
            "properties.configurationInfo",
        )
    target = _read_target(props, problems)
    client_type = _read_client_type(props, target.spec if target else None, problems)
    auth = _read_auth(props, target, existing, problems)
    namespace = _read_namespace(props, problems)
    store = secret_store.read_secret_store(
        props,
        kind=target.spec.kind if target else None,
        mode=(targets.CSI if target.csi else auth.auth_type) if target and auth else None,
        client_type=client_type,
        problems=problems,
    )
    _refuse_what_is_not_honoured(props, problems)
    configuration = (
        _read_configuration_info(props, problems)
        if allow_configuration_info
        else _ConfigurationInfo({}, DeleteOrUpdateBehavior.DEFAULT)
    )
    if configuration and configuration.customized_keys and target and auth and client_type:
        _check_customized_keys(configuration.customized_keys, target, auth.auth_type, client_type, problems)
    problems.raise_if_any()
    assert cluster and name and target and auth and client_type and namespace and configuration
    return Connection(
        linker_name=name,
        cluster=cluster,
        target_id=target.target_id,
        target_kind=target.spec.kind,
        key_vault_csi=target.csi,
        app_config_extension=target.app_config_extension,
        auth=auth,
        client_type=client_type,
        namespace=namespace,
        customized_keys=configuration.customized_keys,
        delete_or_update_behavior=configuration.behavior,
        secret_store=store,
    )


def _asks_nothing(value: object) -> bool:
    """True for what clients send when they ask for nothing: None, false, "false", empty lists and strings,
    and mappings made only of those (`{"firewallRules": {"callerClientIP": "false"}}` is the az CLI's
    default publicNetworkSolution)."""
    if value is None or value is False or value == "" or value == []:
        return True
    if isinstance(value, str):
        return value.strip().lower() == "false"
    return isinstance(value, Mapping) and all(_asks_nothing(v) for v in value.values())


def _refuse_what_is_not_honoured(props: Mapping[str, Any], problems: ProblemList) -> None:
    """Network and auth-mode options the connector cannot carry out are refused (400 naming them), never
    silently dropped. What asks for nothing passes: absent, null, `{}`, false flags, and
    `publicNetworkSolution` with `action` optOut or `deleteOrUpdateBehavior` alone."""
    network = props.get("publicNetworkSolution")
    if isinstance(network, Mapping):
        opted_out = str(network.get("action") or "").lower() == "optout"
        ignored = {"deleteOrUpdateBehavior", "action"} if opted_out or not network.get("action") else set()
        network = {k: v for k, v in network.items() if k not in ignored}
    for path, value in (
        ("properties.publicNetworkSolution", network),
        ("properties.vNetSolution", props.get("vNetSolution")),
    ):
        if not _asks_nothing(value):
            problems.add(
                INVALID_REQUEST_BODY,
                f"'{path}' is not supported on an AKS source by this connector: it configures no network "
                "access for the target. Leave it out (or send {} / action optOut) and configure the network "
                "separately.",
                path,
            )
    auth = props.get("authInfo")
    mode = auth.get("authMode") if isinstance(auth, Mapping) else None
    if mode is not None and str(mode).lower() != "optinallauth":
        problems.add(
            INVALID_REQUEST_BODY,
            f"'properties.authInfo.authMode' {echo(mode)} is not supported: the connector does not change "
            "the target's local authentication settings. Leave it out or send optInAllAuth.",
            "properties.authInfo.authMode",
        )
    if isinstance(auth, Mapping):
        _refuse_identity_options(auth, problems)


# Identity options the newer api-versions give UserAssignedIdentityAuthInfo and ServicePrincipalSecretAuthInfo
# (2024-07-01-preview has all three) that ask for what this connector does not do: why each one is refused.
_UNHONOURED_AUTH_FIELDS = {
    "roles": "the connector grants the one documented role of the target, not a chosen list",
    "userName": "the connector creates no database user for an identity",
}


def _refuse_identity_options(auth: Mapping[str, Any], problems: ProblemList) -> None:
    for field, why in _UNHONOURED_AUTH_FIELDS.items():
        if not _asks_nothing(auth.get(field)):
            path = f"properties.authInfo.{field}"
            problems.add(INVALID_REQUEST_BODY, f"'{path}' is not supported: {why}. Leave it out.", path)
    behavior = auth.get("deleteOrUpdateBehavior")
    if behavior is not None and str(behavior).lower() != DeleteOrUpdateBehavior.DEFAULT.value.lower():
        path = "properties.authInfo.deleteOrUpdateBehavior"
        problems.add(
            INVALID_REQUEST_BODY,
            f"'{path}' {echo(behavior)} is not supported: what a delete or an update removes is set by "
            "'properties.configurationInfo.deleteOrUpdateBehavior'. Leave it out or send Default.",
            path,
        )


def parse_linker(
    linker_id: str, body: Mapping[str, Any], api_version: str, *, existing: Connection | None = None
) -> Connection:
    """Validate a linker PUT body into a Connection; RequestValidationError listing every problem otherwise.

    `existing` is the stored connection being replaced, if any: what the body leaves out or sends as null
    keeps its stored value, and a secret named without its value (never emitted, so a client that read the
    linker back cannot resend it) keeps the stored secret.
    """
    version = _check_api_version(api_version)
    if existing is None:
        return _read_properties(
            linker_id, body, None, allow_configuration_info=has_configuration_info(version)
        )
    return _read_properties(
        linker_id, _over_stored(existing, body, version), existing, allow_configuration_info=True
    )


def parse_patch(existing: Connection, body: Mapping[str, Any], api_version: str) -> Connection:
    """Apply a LinkerPatch body to an existing connection; RequestValidationError if the result is invalid."""
    version = _check_api_version(api_version)
    if not isinstance(body, Mapping):
        raise RequestValidationError(INVALID_REQUEST_BODY, "The request body must be a JSON object.", None)
    if body.get("properties") is None:
        return existing
    return _read_properties(
        existing.linker_id, _over_stored(existing, body, version), existing, allow_configuration_info=True
    )


# Members whose value is one user-chosen map: a request that names one replaces it whole, never merges in.
_WHOLE_MAPS = frozenset(
    {"customizedKeys", "additionalConfigurations", "additionalConnectionStringProperties"}
)
# What a sub-object is about: one about something else replaces the stored one whole (another target keeps
# none of the old target's resource properties; another auth type none of the old auth's fields).
_SUBJECT_KEYS = {
    "targetService": ("type", "id", "endpoint"),
    "authInfo": ("authType",),
    "secretInfo": ("secretType",),
    "resourceProperties": ("type",),
}


def _over_stored(existing: Connection, body: object, api_version: str) -> object:
    """The request body over the stored connection: what the body leaves out, or sends as null, keeps its
    stored value (`az aks connection update` PUTs a body without `deleteOrUpdateBehavior`, for one)."""
    props = body.get("properties") if isinstance(body, Mapping) else None
    if not isinstance(props, Mapping):
        return body  # _read_properties reports what is wrong with it
    if not has_configuration_info(api_version) and props.get("configurationInfo") is not None:
        raise RequestValidationError(
            INVALID_REQUEST_BODY,
            f"'properties.configurationInfo' needs api-version {API_2022_11_01_PREVIEW} or later.",
            "properties.configurationInfo",
        )
    # The newest version's rendering carries every stored field; it never carries a secret value.
    stored = _properties(existing, API_2024_07_01_PREVIEW)
    return {"properties": _restated_over(stored, props)}


def _restated_over(stored: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(stored)
    for key, value in request.items():
        previous = stored.get(key)
        if value is None:
            continue  # null restates nothing
        if (
            key in _WHOLE_MAPS
            or not isinstance(value, Mapping)
            or not isinstance(previous, Mapping)
            or not _same_subject(key, previous, value)
        ):
            merged[key] = value
        else:
            merged[key] = _restated_over(previous, value)
    return merged


def _same_subject(key: str, stored: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    for member in _SUBJECT_KEYS.get(key, ()):
        sent, kept = request.get(member), stored.get(member)
        if sent is not None and str(sent).lower() != str(kept).lower():
            return False
    return True


# --- Emitting --------------------------------------------------------------------------------------------


# What a response carries, per api-version. Azure answers every property of the version's schema, null when
# unset; the shapes below follow the vendored specs (spec/README.md) and azure-cli's recording of Azure's
# answers at 2024-07-01-preview (serviceconnector tests, test_kubernetes_storageblob_e2e.yaml).
# 2022-05-01: no publicNetworkSolution or configurationInfo, secretStore has keyVaultId only, and identity
# auth has no userName/roles/deleteOrUpdateBehavior. 2022-11-01-preview adds those but not authInfo.authMode;
# 2023-04-01-preview, 2024-04-01 and 2024-07-01-preview add authMode and the fuller configurationInfo.
_AUTH_MODE_VERSIONS = frozenset({API_2023_04_01_PREVIEW, API_2024_04_01, API_2024_07_01_PREVIEW})


def _has_auth_mode(api_version: str) -> bool:
    """authInfo.authMode, configurationInfo.configurationStore and additionalConnectionStringProperties."""
    return api_version in _AUTH_MODE_VERSIONS


def _target_body(connection: Connection) -> dict[str, Any]:
    spec = targets.get_spec(connection.target_kind)
    if not spec.is_arm_resource:
        return {"type": spec.service_type, "endpoint": connection.target_id}
    body: dict[str, Any] = {"type": "AzureResource", "id": connection.target_id, "resourceProperties": None}
    if connection.key_vault_csi:
        body["resourceProperties"] = {"type": "KeyVault", "connectAsKubernetesCsiDriver": True}
    elif connection.app_config_extension:
        body["resourceProperties"] = {"type": "AppConfig", "connectWithKubernetesExtension": True}
    return body


def _identity_extras(api_version: str) -> dict[str, Any]:
    """The identity auth fields later versions define and this connector never sets (refused on input)."""
    if not has_configuration_info(api_version):
        return {}
    extras: dict[str, Any] = {"userName": None, "deleteOrUpdateBehavior": None, "roles": None}
    if _has_auth_mode(api_version):
        extras["authMode"] = None
    return extras


def _auth_body(connection: Connection, api_version: str) -> dict[str, Any]:
    auth = connection.auth
    if isinstance(auth, WorkloadIdentityAuth):
        # The Key Vault CSI driver's identity is the add-on's: Azure answers null ids there, not "".
        return {
            "authType": auth.auth_type.value,
            "clientId": auth.client_id or None,
            "subscriptionId": auth.subscription_id or None,
            **_identity_extras(api_version),
        }
    if isinstance(auth, ServicePrincipalAuth):
        # `secret` is write-only: ARM never returns it.
        return {
            "authType": auth.auth_type.value,
            "clientId": auth.client_id,
            "principalId": auth.principal_id,
            **_identity_extras(api_version),
        }
    body: dict[str, Any] = {"authType": auth.auth_type.value, "name": auth.user_name, "secretInfo": None}
    if _has_auth_mode(api_version):
        body["authMode"] = None
    if auth.kind in (SecretKind.RAW_VALUE, SecretKind.AUTO):
        # As Service Connector answers for secret auth once the connection exists (azure-cli's recorded GET):
        # the value is write-only, and keys the connector lists itself are reported the same way.
        body["secretInfo"] = {"secretType": SecretKind.RAW_VALUE.value}
    elif auth.kind is SecretKind.KEY_VAULT_SECRET_REFERENCE:
        body["secretInfo"] = {
            "secretType": SecretKind.KEY_VAULT_SECRET_REFERENCE.value,
            "name": auth.key_vault_secret_name,
            "version": auth.key_vault_secret_version,
        }
    return body


def _secret_store_body(connection: Connection, api_version: str) -> dict[str, Any] | None:
    vault, secret_name = None, None
    if isinstance(connection.auth, SecretAuth) and connection.auth.key_vault_id:
        vault = connection.auth.key_vault_id
    elif connection.secret_store is not None:
        store = connection.secret_store
        vault, secret_name = store.key_vault_id, store.key_vault_secret_name
    if not has_configuration_info(api_version):  # 2022-05-01's SecretStore has keyVaultId only
        return None if vault is None else {"keyVaultId": vault}
    return {"keyVaultId": vault, "keyVaultSecretName": secret_name}


def _configuration_info_body(connection: Connection, api_version: str) -> dict[str, Any]:
    # Unset is null, as Azure answers: no invented {} or "Default".
    behavior = connection.delete_or_update_behavior
    body: dict[str, Any] = {
        "customizedKeys": dict(connection.customized_keys) or None,
        "deleteOrUpdateBehavior": None if behavior is DeleteOrUpdateBehavior.DEFAULT else behavior.value,
        "action": None,
        "daprProperties": None,
        "additionalConfigurations": None,
    }
    if _has_auth_mode(api_version):
        body["additionalConnectionStringProperties"] = None
        body["configurationStore"] = {"appConfigurationId": None}
    return body


def _public_network_body() -> dict[str, Any]:
    # Nothing is configured on the target's network (anything else is refused on input).
    return {"firewallRules": None, "deleteOrUpdateBehavior": None, "action": None}


def _properties(connection: Connection, api_version: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        "targetService": _target_body(connection),
        "authInfo": _auth_body(connection, api_version),
        "clientType": connection.client_type.value,
        "provisioningState": connection.provisioning_state,
        "vNetSolution": None,
        "secretStore": _secret_store_body(connection, api_version),
        "scope": connection.namespace,
    }
    if has_configuration_info(api_version):
        props["publicNetworkSolution"] = _public_network_body()
        props["configurationInfo"] = _configuration_info_body(connection, api_version)
    return props


def to_linker_body(connection: Connection, api_version: str) -> dict[str, Any]:
    """The linker resource as GET returns it; secret values are never included."""
    version = _check_api_version(api_version)
    return {
        "id": connection.linker_id,
        "name": connection.linker_name,
        "type": LINKER_RESOURCE_TYPE,
        "properties": _properties(connection, version),
    }
