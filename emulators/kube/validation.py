"""Validation with the API server's rules and wording (names, labels, Secret and ConfigMap data)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from .errors import Cause, KubeError, bad_request, invalid_kind
from .kinds import CONFIG_MAP, SECRET, Kind

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"
_LABEL_RE = re.compile(f"^{_LABEL}$")
_SUBDOMAIN_RE = re.compile(f"^{_SUBDOMAIN}$")
_QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_RE = re.compile(f"^{_QUALIFIED_NAME}$")
_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE}$")
_CONFIG_KEY = r"[-._a-zA-Z0-9]+"
_CONFIG_KEY_RE = re.compile(f"^{_CONFIG_KEY}$")
_B64_ALPHABET = re.compile(r"[A-Za-z0-9+/=]")

SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    f"'{_SUBDOMAIN}')"
)
LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    f"'{_LABEL}')"
)
LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    f"for validation is '{_LABEL_VALUE}')"
)
QUALIFIED_NAME_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    f"alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    f"'{_QUALIFIED_NAME}')"
)
CONFIG_KEY_MESSAGE = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    f"'KEY_NAME',  or 'key-name', regex used for validation is '{_CONFIG_KEY}')"
)


def name_causes(kind: Kind, name: str) -> list[Cause]:
    """Problems with `metadata.name` (empty list when valid)."""
    if not name:
        return [Cause.required("metadata.name", "name or generateName is required")]
    if kind.name_rule == "label":
        if len(name) > 63:
            return [Cause.invalid("metadata.name", name, "must be no more than 63 characters")]
        return [] if _LABEL_RE.match(name) else [Cause.invalid("metadata.name", name, LABEL_MESSAGE)]
    if len(name) > 253:
        return [Cause.invalid("metadata.name", name, "must be no more than 253 characters")]
    return [] if _SUBDOMAIN_RE.match(name) else [Cause.invalid("metadata.name", name, SUBDOMAIN_MESSAGE)]


def label_key_causes(field: str, key: str) -> list[Cause]:
    """Problems with one label or annotation key (`prefix/name`)."""
    prefix, _, name = key.rpartition("/")
    causes = []
    if prefix and (len(prefix) > 253 or not _SUBDOMAIN_RE.match(prefix)):
        causes.append(Cause.invalid(field, key, "prefix part " + SUBDOMAIN_MESSAGE))
    if not name:
        causes.append(Cause.invalid(field, key, "name part must be non-empty"))
    elif len(name) > 63:
        causes.append(Cause.invalid(field, key, "name part must be no more than 63 characters"))
    elif not _QUALIFIED_NAME_RE.match(name):
        causes.append(Cause.invalid(field, key, QUALIFIED_NAME_MESSAGE))
    return causes


def label_value_causes(field: str, value: str) -> list[Cause]:
    """Problems with one label value."""
    if len(value) > 63:
        return [Cause.invalid(field, value, "must be no more than 63 characters")]
    return [] if _LABEL_VALUE_RE.match(value) else [Cause.invalid(field, value, LABEL_VALUE_MESSAGE)]


def metadata_causes(meta: dict[str, Any]) -> list[Cause]:
    """Problems with labels and annotation keys."""
    causes: list[Cause] = []
    for key, value in (meta.get("labels") or {}).items():
        causes += label_key_causes("metadata.labels", key)
        causes += label_value_causes("metadata.labels", str(value))
    for key in meta.get("annotations") or {}:
        causes += label_key_causes("metadata.annotations", key)
    return causes


def _first_bad_base64_byte(value: str) -> int | None:
    for i, ch in enumerate(value):
        if not _B64_ALPHABET.match(ch):
            return i
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return (len(value) // 4) * 4
    return None


def _data_keys_causes(field: str, data: dict[str, Any]) -> list[Cause]:
    return [
        Cause.invalid(f"{field}[{key}]", key, CONFIG_KEY_MESSAGE)
        for key in data
        if not _CONFIG_KEY_RE.match(key)
    ]


def normalize_secret(obj: dict[str, Any]) -> None:
    """Merge `stringData` into `data` (base64) as the API server does, and default `type` to Opaque.

    Raises BadRequest for a `data` value that is not base64: the real server fails to decode the body."""
    data = obj.get("data")
    if data is not None and not isinstance(data, dict):
        raise bad_request('Secret in version "v1" cannot be handled as a Secret: data must be a map')
    for value in (data or {}).values():
        bad = 0 if not isinstance(value, str) else _first_bad_base64_byte(value)
        if bad is not None:
            prefix = 'Secret in version "v1" cannot be handled as a Secret'
            raise bad_request(f"{prefix}: illegal base64 data at input byte {bad}")
    string_data = obj.pop("stringData", None)
    if string_data:
        merged = dict(data or {})
        for key, value in string_data.items():
            merged[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = merged
    obj.setdefault("type", "Opaque")


MAX_SECRET_BYTES = 1024 * 1024


def _decoded_size(data: dict[str, Any]) -> int:
    return sum(len(base64.b64decode(v)) for v in data.values() if isinstance(v, str))


def kind_causes(kind: Kind, obj: dict[str, Any], previous: dict[str, Any] | None) -> list[Cause]:
    """Kind-specific field problems (data keys, immutable Secret type)."""
    causes: list[Cause] = []
    if kind is SECRET:
        causes += _data_keys_causes("data", obj.get("data") or {})
        if _decoded_size(obj.get("data") or {}) > MAX_SECRET_BYTES:
            causes.append(Cause.too_long("data", MAX_SECRET_BYTES))
        if previous is not None and previous.get("type") != obj.get("type"):
            causes.append(Cause.invalid("type", obj.get("type"), "field is immutable"))
        if previous is not None and previous.get("immutable") and previous.get("data") != obj.get("data"):
            causes.append(Cause.forbidden("data", "field is immutable when `immutable` is set"))
    if kind is CONFIG_MAP:
        causes += _data_keys_causes("data", obj.get("data") or {})
        causes += _data_keys_causes("binaryData", obj.get("binaryData") or {})
    return causes


def ensure_valid(kind: Kind, obj: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """Raise 422 Invalid when the object breaks the API server's rules."""
    meta = obj.get("metadata") or {}
    causes = [] if previous is not None else name_causes(kind, meta.get("name") or "")
    causes += metadata_causes(meta)
    causes += kind_causes(kind, obj, previous)
    if causes:
        raise invalid_kind(kind, meta.get("name") or "", causes)


def require_object(body: Any) -> dict[str, Any]:
    """The body must be a JSON object."""
    if not isinstance(body, dict):
        raise KubeError(400, "BadRequest", "the object provided is unrecognized (must be of type object)")
    return body
