"""Small helpers for the kube emulator tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

BUILT_IN_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"]


def namespace_names(core: client.CoreV1Api) -> list[str]:
    """Sorted names of every namespace in the cluster."""
    return sorted(str(n.metadata.name) for n in core.list_namespace().items if n.metadata)


def status_of(call: Callable[[], Any]) -> dict[str, Any]:
    """Run a client call that must fail; return the `Status` body, checking HTTP code == Status code."""
    with pytest.raises(client.ApiException) as info:
        call()
    body: dict[str, Any] = json.loads(info.value.body or "")
    assert body["kind"] == "Status"
    assert body["code"] == info.value.status
    return body


def meta(name: str, **kwargs: Any) -> client.V1ObjectMeta:
    """V1ObjectMeta shorthand."""
    return client.V1ObjectMeta(name=name, **kwargs)


def apply_secret(
    core: client.CoreV1Api,
    name: str,
    data: dict[str, str],
    manager: str = "sc",
    force: bool = False,
    labels: dict[str, str] | None = None,
    namespace: str = "apps",
) -> Any:
    """Server-side apply a Secret the way the product does."""
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data}
    if labels:
        body["metadata"]["labels"] = labels
    return core.patch_namespaced_secret(
        name,
        namespace,
        body,
        field_manager=manager,
        force=force,
        _content_type="application/apply-patch+yaml",
    )


def raw_call(
    api_client: client.ApiClient, method: str, path: str, body: Any = None, content_type: str | None = None
) -> tuple[int, Any]:
    """Send a request through the client's own serializer and auth; returns (status, decoded JSON body)."""
    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    args = api_client.param_serialize(
        method, path, header_params=headers, body=body, auth_settings=["BearerToken"]
    )
    response = api_client.call_api(*args)
    response.read()  # type: ignore[no-untyped-call]
    return response.status, json.loads(response.data) if response.data else None
