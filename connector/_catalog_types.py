"""The shapes of the target catalog: specs, id patterns, configuration items and value rules (data only)."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from connector.vocabulary import AuthType, ClientType

# A pseudo auth mode: Key Vault through the Secrets Store CSI driver (no auth type is chosen by the user).
CSI: Literal["csi"] = "csi"
AuthMode = AuthType | Literal["csi"]

# Value names every render can use, filled from ResolvedValues and the matched id (see targets.py).
#   name, subscription, resourceGroup, database, resource_id: from the target id
#   secret: list-keys value or the request's password; user: authInfo.name (database user)
#   client_id, client_secret, tenant_id: identity / service principal
# Each spec adds its own values derived from the target's ARM properties (TargetSpec.values).
SECRET_VALUE_NAMES = frozenset({"secret", "client_secret"})

# Shorthands shared by the catalog's data modules: the key-table keys of each auth type, the auth types most
# targets support on AKS, and the start of every resource-group-scoped id pattern.
AUTH_SECRET = AuthType.SECRET.value
AUTH_UAMI = AuthType.USER_ASSIGNED_IDENTITY.value
AUTH_SP = AuthType.SERVICE_PRINCIPAL_SECRET.value
ALL_AUTH = frozenset({AuthType.USER_ASSIGNED_IDENTITY, AuthType.SECRET, AuthType.SERVICE_PRINCIPAL_SECRET})
RG_PROVIDERS = "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers"


class CatalogError(ValueError):
    """A request for something the catalog does not know or does not support (kind, auth, client type)."""


@dataclass(frozen=True)
class SecretSource:
    """Where secret material comes from for `secret` auth.

    `action` is an ARM POST action path relative to the id of the resource whose keys are read
    (TargetMatch.parts["resource_id"]), e.g. "listKeys" or
    "authorizationRules/RootManageSharedAccessKey/listKeys";
    `value_path` is the JSON path of the value in the action's response, e.g. "keys[0].value".
    Both are None when the secret comes from the request (database passwords).
    """

    action: str | None
    value_path: str | None
    api_version: str | None = None

    @property
    def from_request(self) -> bool:
        """True when the secret is supplied in the request (authInfo.secretInfo), not fetched from ARM."""
        return self.action is None


FROM_REQUEST = SecretSource(action=None, value_path=None)


@dataclass(frozen=True)
class RoleSpec:
    """An Azure built-in role granted to the workload identity on the target."""

    name: str
    guid: str

    def definition_id(self, subscription: str) -> str:
        """The role definition's ARM id in a subscription (the form role assignments carry)."""
        return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{self.guid}"


@dataclass(frozen=True)
class ConfigItem:
    """One configuration (Secret) key and the str.format template of its value over value names."""

    key: str
    template: str

    @property
    def value_names(self) -> frozenset[str]:
        """The value names the template refers to."""
        return frozenset(f for _, f, _, _ in string.Formatter().parse(self.template) if f)

    @property
    def is_secret(self) -> bool:
        """True when the value carries credential material (hidden by listConfigurations)."""
        return bool(self.value_names & SECRET_VALUE_NAMES)


# url_host: "https://ns.servicebus.windows.net:443/" -> "ns.servicebus.windows.net";
# endpoint_suffix: "https://acct.blob.core.windows.net/" -> "core.windows.net" (storage connection strings).
Transform = Literal["as_is", "url_host", "strip_slash", "with_slash", "endpoint_suffix"]


@dataclass(frozen=True)
class ValueRule:
    """How a value derives from the target's ARM `properties` (dotted path), with a fallback template."""

    path: str | None
    fallback: str | None = None
    transform: Transform = "as_is"


_SEGMENT_VAR = re.compile(r"^\{(\w+)\}$")
# A path segment: no whitespace, no query or fragment characters (ARM names never contain them).
_SEGMENT_TEXT = re.compile(r"[^\s/?#]+")


@dataclass(frozen=True)
class IdPattern:
    """An ARM id pattern, e.g. /subscriptions/{subscription}/.../storageAccounts/{name}/blobServices/default.

    `resource_depth` is the number of leading segments that form the id of the ARM resource whose properties
    and keys are read (e.g. the storage account for a blob service id).
    """

    pattern: str
    resource_depth: int

    @property
    def segments(self) -> tuple[str, ...]:
        """The pattern split into path segments."""
        return tuple(self.pattern.strip("/").split("/"))

    def match(self, target_id: str) -> dict[str, str] | None:
        """Match an ARM id case-insensitively (as ARM does): the variables and `resource_id`, or None."""
        given = target_id.strip("/").split("/")
        if len(given) != len(self.segments) or not all(_SEGMENT_TEXT.fullmatch(s) for s in given):
            return None
        parts: dict[str, str] = {}
        for want, got in zip(self.segments, given, strict=True):
            var = _SEGMENT_VAR.match(want)
            if var:
                parts[var.group(1)] = got
            elif want.lower() != got.lower():
                return None
        parts["resource_id"] = "/" + "/".join(given[: self.resource_depth])
        return parts


# For each auth mode: the items per client type; the `None` entry serves every other allowed client type.
# An empty tuple (UNSUPPORTED) marks a client type the auth mode does not support for that target.
KeyTable = Mapping[str, Mapping[ClientType | None, tuple[ConfigItem, ...]]]
ClientKeys = dict[ClientType | None, tuple[ConfigItem, ...]]


@dataclass(frozen=True)
class TargetSpec:
    """Everything the product knows about one kind of target service."""

    kind: str
    display_name: str
    auth_types: frozenset[AuthType]
    supports_csi: bool
    secret_source: SecretSource | None
    # Built-in roles granted to the identity for identity auth (Service Connector grants some targets two).
    roles: tuple[RoleSpec, ...]
    source_url: str
    # None for a target outside Azure (Confluent Cloud): the request names it by `endpoint`, not by ARM id.
    id_pattern: IdPattern | None
    values: Mapping[str, ValueRule]
    keys: KeyTable
    client_types: frozenset[ClientType]
    # Set on a kind sharing another kind's id pattern: the ARM `kind` of the resource that selects it
    # (see targets.kind_for_resource).
    resource_kind: str | None = None
    notes: tuple[str, ...] = field(default=())
    # `targetService.type` on the wire. Targets other than AzureResource carry an `endpoint` matching
    # `endpoint_pattern` (a full-match regular expression; `endpoint_form` says it in words) and have no ARM
    # resource to read.
    service_type: str = "AzureResource"
    endpoint_pattern: str | None = None
    endpoint_form: str | None = None

    @property
    def is_arm_resource(self) -> bool:
        """True when the target is an ARM resource (named by id, read and scoped in ARM)."""
        return self.id_pattern is not None

    @property
    def role(self) -> RoleSpec | None:
        """The first built-in role granted for identity auth, or None when none is granted."""
        return self.roles[0] if self.roles else None


UNSUPPORTED: tuple[ConfigItem, ...] = ()


def items(*pairs: tuple[str, str]) -> tuple[ConfigItem, ...]:
    """Build configuration items from (key, template) pairs."""
    return tuple(ConfigItem(k, t) for k, t in pairs)
