"""Defence in depth for ALLOWED_SCOPES: no ARM call leaves the scopes, whatever asked for it.

The entry points refuse requests that name a resource outside the scopes. This guard sits in the pipeline of
every ARM client the activities use, so that a record stored by an older version, or a workflow bug, still
cannot list the keys of a foreign storage account, write a federated credential on a foreign identity or grant
a role on a foreign resource. Kubernetes clients are reached only through a guarded listClusterUserCredential.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy

from connector.errors import Category, ConnectorFailure, make_error
from connector.scope import SETTING, arm_call_allowed, is_within


def out_of_scope(resource: str, what: str) -> ConnectorFailure:
    """The AuthorizationFailed failure for a resource outside ALLOWED_SCOPES (no call was made)."""
    error = make_error(
        Category.UNAUTHORIZED,
        "AuthorizationFailed",
        f"{what} '{resource}' lies outside this connector instance's {SETTING} setting; nothing was done "
        "with it.",
        resource=resource,
    )
    mitigation = (
        f"Correct the connection so that it names only resources inside {SETTING}, or add the resource's "
        f"subscription or resource group to {SETTING} if this instance should act on it."
    )
    return ConnectorFailure(replace(error, mitigation=mitigation, scope=resource))


def require_within(resource_id: str, scopes: tuple[str, ...], what: str) -> None:
    """Raise AuthorizationFailed unless the resource lies inside the scopes."""
    if not is_within(resource_id, scopes):
        raise out_of_scope(resource_id, what)


class ScopeGuardPolicy(SansIOHTTPPolicy[Any, Any]):
    """Refuses, before it is sent, every ARM request whose path lies outside the allowed scopes."""

    def __init__(self, scopes: tuple[str, ...]) -> None:
        self._scopes = scopes

    def on_request(self, request: PipelineRequest[Any]) -> None:
        """Raise AuthorizationFailed for a request outside the scopes (it never reaches ARM)."""
        http_request = request.http_request
        path = urlsplit(http_request.url).path
        if not arm_call_allowed(http_request.method, path, self._scopes):
            raise out_of_scope(path, f"The ARM call {http_request.method} on")
