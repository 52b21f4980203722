"""The target catalog: which Azure services a connection can point at, and what it puts in the Secret.

The data lives in the `_catalog_*` modules (one per family of services, each entry citing its source);
this module is the interface: id matching, key tables per auth mode and client type, and rendering.

Azure OpenAI and Azure AI multi-service accounts share one ARM id pattern
(`Microsoft.CognitiveServices/accounts/{name}`). They are two kinds here, `cognitiveservices` (the default a
bare id matches) and `openai`, told apart by the account's top-level ARM `kind` ("OpenAI"): call
`match_target_id(id, resource_kind=...)` or `kind_for_resource(kind, resource_kind)` once the account is read.
`accepted_keys` gives the union of both key sets, for validating customizedKeys before the account is read.

Confluent Cloud targets are not ARM resources: the request names them by `endpoint` (spec.service_type,
spec.endpoint_pattern), the connection keeps the endpoint where an ARM target keeps its id, and
`target_parts` gives the values rendering needs for either kind of target.

Where Microsoft Learn documents no key set, the catalog keeps its own: those assumptions are written down in
connector/CATALOG.md, and each spec cites its page (`source_url`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from connector._catalog_ai import AI_SPECS
from connector._catalog_confluent import CONFLUENT_SPECS
from connector._catalog_databases import DATABASE_SPECS
from connector._catalog_messaging import MESSAGING_SPECS
from connector._catalog_services import SERVICE_SPECS
from connector._catalog_storage import STORAGE_SPECS
from connector._catalog_types import (
    CSI,
    FROM_REQUEST,
    AuthMode,
    CatalogError,
    ConfigItem,
    IdPattern,
    RoleSpec,
    SecretSource,
    TargetSpec,
    ValueRule,
)
from connector.vocabulary import AuthType, ClientType

__all__ = [
    "CSI",
    "FROM_REQUEST",
    "AuthMode",
    "CatalogError",
    "ConfigItem",
    "IdPattern",
    "ResolvedValues",
    "RoleSpec",
    "SecretSource",
    "TargetMatch",
    "TargetSpec",
    "ValueRule",
    "accepted_keys",
    "all_specs",
    "auth_modes",
    "configuration_items",
    "configuration_keys",
    "endpoint_problem",
    "get_spec",
    "kind_for_resource",
    "match_target_id",
    "render_configuration",
    "render_known",
    "secret_keys",
    "spec_for_service_type",
    "target_parts",
]

_SPECS: tuple[TargetSpec, ...] = (
    *STORAGE_SPECS,
    *SERVICE_SPECS,
    *MESSAGING_SPECS,
    *DATABASE_SPECS,
    *AI_SPECS,
    *CONFLUENT_SPECS,
)
_BY_KIND: dict[str, TargetSpec] = {s.kind: s for s in _SPECS}


@dataclass(frozen=True)
class TargetMatch:
    """A target id matched to its spec; `parts`: subscription, resourceGroup, name, database?, resource_id."""

    spec: TargetSpec
    parts: Mapping[str, str]
    # Other kinds with the same id pattern (chosen by the resource's ARM `kind`; see kind_for_resource).
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResolvedValues:
    """Values fetched by an activity, from which a connection's configuration is rendered."""

    target_properties: Mapping[str, Any]
    target_name: str
    parts: Mapping[str, str]
    secret: str | None = None
    user_name: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    tenant_id: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Never show credential material in logs or tracebacks.
        return (
            f"ResolvedValues(target_name={self.target_name!r}, parts={dict(self.parts)!r}, secrets=<hidden>)"
        )


def all_specs() -> tuple[TargetSpec, ...]:
    """Every target spec in the catalog."""
    return _SPECS


def get_spec(kind: str) -> TargetSpec:
    """The spec of a target kind (CLI target name); CatalogError when unknown."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        known = ", ".join(sorted(_BY_KIND))
        raise CatalogError(f"Unknown target kind '{kind}'. Known kinds: {known}.") from None


def _siblings(spec: TargetSpec) -> tuple[TargetSpec, ...]:
    if spec.id_pattern is None:
        return (spec,)
    pattern = spec.id_pattern.pattern.lower()
    return tuple(s for s in _SPECS if s.id_pattern is not None and s.id_pattern.pattern.lower() == pattern)


def spec_for_service_type(service_type: str) -> TargetSpec | None:
    """The spec of a target named by endpoint (`targetService.type`, case-insensitive); None otherwise."""
    wanted = service_type.lower()
    return next((s for s in _SPECS if not s.is_arm_resource and s.service_type.lower() == wanted), None)


def endpoint_problem(spec: TargetSpec, endpoint: str) -> str | None:
    """Why an endpoint does not fit a target named by endpoint (a sentence), or None when it fits."""
    if spec.endpoint_pattern is None or re.fullmatch(spec.endpoint_pattern, endpoint) is None:
        return (
            f"A {spec.service_type} endpoint is written {spec.endpoint_form or 'as its service documents'}."
        )
    return None


def target_parts(kind: str, target: str) -> dict[str, str] | None:
    """The values a target contributes to rendering: the ARM id's parts, or {"endpoint"}; None if it does not
    fit the kind."""
    spec = get_spec(kind)
    if spec.id_pattern is None:
        return {"endpoint": target} if endpoint_problem(spec, target) is None else None
    return spec.id_pattern.match(target)


def kind_for_resource(kind: str, resource_kind: str | None) -> str:
    """The kind to use once the target resource's ARM `kind` is known ("OpenAI" selects openai)."""
    spec = get_spec(kind)
    if not resource_kind:
        return spec.kind  # nothing learnt about the resource: keep the kind as it is
    siblings = _siblings(spec)
    for s in siblings:
        if s.resource_kind and s.resource_kind.lower() == resource_kind.lower():
            return s.kind
    return next((s.kind for s in siblings if s.resource_kind is None), spec.kind)


def match_target_id(target_id: str, *, resource_kind: str | None = None) -> TargetMatch | None:
    """Match an ARM target id (case-insensitively, as ARM does) to its spec; None when no target matches."""
    if not isinstance(target_id, str) or not target_id.startswith("/"):
        return None
    for spec in _SPECS:
        if spec.resource_kind is not None or spec.id_pattern is None:
            continue  # kinds chosen by resource_kind are reached through their default sibling
        parts = spec.id_pattern.match(target_id)
        if parts is None:
            continue
        chosen = get_spec(kind_for_resource(spec.kind, resource_kind))
        others = tuple(s.kind for s in _siblings(spec) if s.kind != chosen.kind)
        return TargetMatch(spec=chosen, parts=parts, alternatives=others)
    return None


def _mode(auth: AuthMode | str) -> str:
    if auth == CSI:
        return CSI
    try:
        return AuthType(auth).value
    except ValueError:
        raise CatalogError(f"Unknown auth type '{auth}'.") from None


def auth_modes(kind: str) -> tuple[str, ...]:
    """The auth modes with a key table for a kind: auth type values, plus "csi" for Key Vault."""
    return tuple(get_spec(kind).keys)


def configuration_items(
    kind: str, auth: AuthMode | str, client_type: ClientType | str
) -> tuple[ConfigItem, ...]:
    """The configuration items (key + value template) for a kind, auth mode and client type."""
    spec = get_spec(kind)
    mode = _mode(auth)
    try:
        client = ClientType(client_type)
    except ValueError:
        raise CatalogError(f"Unknown client type '{client_type}'.") from None
    table = spec.keys.get(mode)
    if table is None:
        supported = ", ".join(spec.keys)
        raise CatalogError(
            f"Auth type '{mode}' is not supported for target '{kind}' on AKS. Supported: {supported}."
        )
    if client not in spec.client_types:
        supported = ", ".join(sorted(c.value for c in spec.client_types))
        raise CatalogError(
            f"Client type '{client.value}' is not supported for target '{kind}'. Supported: {supported}."
        )
    found = table.get(client, table.get(None))
    if not found:
        raise CatalogError(
            f"Auth type '{mode}' is not supported with client type '{client.value}' for target '{kind}'."
        )
    return found


def configuration_keys(kind: str, auth: AuthMode | str, client_type: ClientType | str) -> tuple[str, ...]:
    """The default configuration key names (before customizedKeys); CatalogError when unsupported."""
    return tuple(item.key for item in configuration_items(kind, auth, client_type))


def accepted_keys(kind: str, auth: AuthMode | str, client_type: ClientType | str) -> frozenset[str]:
    """Keys that customizedKeys may rename: this kind's keys plus those of kinds sharing its id pattern."""
    names = set(configuration_keys(kind, auth, client_type))
    for sibling in _siblings(get_spec(kind)):
        try:
            names.update(configuration_keys(sibling.kind, auth, client_type))
        except CatalogError:
            continue
    return frozenset(names)


def secret_keys(kind: str, auth: AuthMode | str, client_type: ClientType | str) -> frozenset[str]:
    """Keys whose values carry credentials (listConfigurations hides them)."""
    return frozenset(i.key for i in configuration_items(kind, auth, client_type) if i.is_secret)


def _lookup(properties: Mapping[str, Any], path: str) -> Any:
    node: Any = properties
    for step in path.split("."):
        if not isinstance(node, Mapping):
            return None
        # ARM property names are camelCase but compare case-insensitively, as ARM does.
        node = next((v for k, v in node.items() if isinstance(k, str) and k.lower() == step.lower()), None)
    return node


def _transform(value: str, how: str) -> str:
    if how == "url_host":
        return urlsplit(value).hostname or value.split(":")[0].strip("/")
    if how == "strip_slash":
        return value.rstrip("/")
    if how == "with_slash":
        return value if value.endswith("/") else value + "/"
    if how == "endpoint_suffix":
        host = urlsplit(value).hostname or value
        labels = host.split(".")
        return ".".join(labels[2:]) if len(labels) > 2 else host
    return value


def _base_values(values: ResolvedValues) -> dict[str, str | None]:
    base: dict[str, str | None] = {k: v for k, v in values.parts.items()}
    base.update(
        name=values.target_name,
        secret=values.secret,
        user=values.user_name,
        client_id=values.client_id,
        client_secret=values.client_secret,
        tenant_id=values.tenant_id,
    )
    base.update(values.extra)
    return base


def _resolve(name: str, spec: TargetSpec, values: ResolvedValues, base: dict[str, str | None]) -> str:
    rule = spec.values.get(name)
    if rule is None:
        found = base.get(name)
        if found is None:
            raise CatalogError(f"Target '{spec.kind}' needs the value '{name}', which was not resolved.")
        return found
    raw = _lookup(values.target_properties, rule.path) if rule.path else None
    if raw is None or raw == "":
        if rule.fallback is None:
            raise CatalogError(
                f"Target '{spec.kind}' needs property '{rule.path}' of the target resource, which is missing."
            )
        raw = rule.fallback.format_map(_Strict(base, spec.kind))
    return _transform(str(raw), rule.transform)


class _Strict(dict[str, str]):
    """A format map that names the missing value instead of raising a bare KeyError."""

    def __init__(self, base: Mapping[str, str | None], kind: str) -> None:
        super().__init__({k: v for k, v in base.items() if v is not None})
        self._kind = kind

    def __missing__(self, key: str) -> str:
        raise CatalogError(f"Target '{self._kind}' needs the value '{key}', which was not resolved.")


def render_known(
    kind: str, auth: AuthMode | str, client_type: ClientType | str, values: ResolvedValues
) -> dict[str, str | None]:
    """Like render_configuration, but a key whose value cannot be resolved maps to None instead of failing
    the whole rendering (listConfigurations reads no ARM: the Key Vault CSI add-on's client id is unknown
    there, the vault's name is not)."""
    spec = get_spec(kind)
    base = _base_values(values)
    rendered: dict[str, str | None] = {}
    for item in configuration_items(kind, auth, client_type):
        try:
            resolved = {n: _resolve(n, spec, values, base) for n in sorted(item.value_names)}
            rendered[item.key] = item.template.format_map(resolved)
        except CatalogError:
            rendered[item.key] = None
    return rendered


def render_configuration(
    kind: str, auth: AuthMode | str, client_type: ClientType | str, values: ResolvedValues
) -> dict[str, str]:
    """Render key -> value (before customizedKeys) from the target's ARM properties and resolved values."""
    spec = get_spec(kind)
    chosen = configuration_items(kind, auth, client_type)
    base = _base_values(values)
    needed = set().union(*(i.value_names for i in chosen)) if chosen else set()
    resolved = {n: _resolve(n, spec, values, base) for n in sorted(needed)}
    return {i.key: i.template.format_map(resolved) for i in chosen}
