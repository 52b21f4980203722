"""Pure builders of the Kubernetes objects a connection puts in its namespace, and their content hashes.

The Secret is written with `data` (base64), not `stringData`. `stringData` is write-only: the API server
folds it into `data`, so what server-side apply owns (`stringData` fields) differs from what a read returns.
A key dropped from `stringData` is then not removed from `data`, and the object as read never matches the
object as applied. With `data`, apply owns exactly the keys it sends (SSA removes a key it stops sending),
and `content_hash` of the rendered Secret equals `content_hash` of the Secret read back once converged.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from connector import naming, secret_store, targets
from connector.model import Connection, ServicePrincipalAuth, WorkloadIdentityAuth


def auth_mode(connection: Connection) -> targets.AuthMode:
    """The auth mode in the catalog: "csi" for Key Vault with the CSI driver, else the auth type."""
    return targets.CSI if connection.key_vault_csi else connection.auth_type


def _with_identity(connection: Connection, values: targets.ResolvedValues) -> targets.ResolvedValues:
    """Fill the client id the connection itself knows, when the activity did not resolve another one."""
    auth = connection.auth
    if (
        values.client_id is None
        and isinstance(auth, WorkloadIdentityAuth | ServicePrincipalAuth)
        and auth.client_id
    ):
        return dataclasses.replace(values, client_id=auth.client_id)
    return values


def render(
    connection: Connection, values: targets.ResolvedValues, *, kind: str | None = None
) -> dict[str, str]:
    """The configuration (key -> value) of a connection, customized keys applied.

    `kind` overrides the connection's target kind once the target resource is read (an Azure OpenAI account
    matches the cognitiveservices id pattern; see targets.kind_for_resource).
    """
    rendered = targets.render_configuration(
        kind or connection.target_kind,
        auth_mode(connection),
        connection.client_type,
        _with_identity(connection, values),
    )
    return {connection.customized_keys.get(key, key): value for key, value in rendered.items()}


def build_secret(
    connection: Connection, values: targets.ResolvedValues, *, kind: str | None = None
) -> dict[str, Any]:
    """The Opaque Secret holding a connection's configuration, with ownership labels and annotations.

    With a secret store in Key Vault the secret values are left out: they live in the vault
    (connector/secret_store.py), and the Secret keeps only the non-secret configuration.
    """
    kept, _ = secret_store.split(connection, render(connection, values, kind=kind), kind=kind)
    data = {key: base64.b64encode(value.encode("utf-8")).decode("ascii") for key, value in kept.items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": naming.secret_name(connection.linker_name),
            "namespace": connection.namespace,
            "labels": naming.secret_labels(connection),
            "annotations": naming.secret_annotations(connection),
        },
        "type": "Opaque",
        "data": data,
    }


def service_account_name(connection: Connection) -> str | None:
    """The ServiceAccount a connection needs: one for workload identity, none otherwise (CSI included)."""
    identity = connection.workload_identity
    return naming.service_account_name(identity.client_id) if identity else None


def build_service_account(connection: Connection, tenant_id: str | None) -> dict[str, Any] | None:
    """The workload-identity ServiceAccount of a connection, or None when it needs none.

    It carries the identity's client id (and tenant id) as annotations. The label
    `azure.workload.identity/use: "true"` belongs on pods, not here.
    """
    identity = connection.workload_identity
    if identity is None:
        return None
    annotations = {naming.WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION: identity.client_id}
    if tenant_id:
        annotations[naming.WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION] = tenant_id
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": naming.service_account_name(identity.client_id),
            "namespace": connection.namespace,
            "labels": naming.service_account_labels(),
            "annotations": annotations,
        },
    }


def _owned(entries: object) -> dict[str, Any]:
    if not isinstance(entries, Mapping):
        return {}
    return {k: v for k, v in entries.items() if isinstance(k, str) and naming.is_owned_key(k)}


def content_hash(manifest: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of what the connector controls in a Secret, ServiceAccount or
    SecretProviderClass (whose `spec` counts too).

    Works on a rendered manifest and on an object read from the cluster alike: it keeps kind, name,
    namespace, type, data, and only the labels and annotations the connector writes (server-set metadata and
    labels others add do not count). Activities report this hash, never the values.
    """
    metadata = manifest.get("metadata")
    meta = metadata if isinstance(metadata, Mapping) else {}
    subject = {
        "kind": manifest.get("kind"),
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "labels": _owned(meta.get("labels")),
        "annotations": _owned(meta.get("annotations")),
        "type": manifest.get("type"),
        "data": manifest.get("data") or {},
    }
    if manifest.get("kind") == secret_store.SECRET_PROVIDER_CLASS_KIND:
        subject["spec"] = manifest.get("spec") or {}
    canonical = json.dumps(subject, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
