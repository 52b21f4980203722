"""The product's HTTP API as the CLI uses it: ServiceLinker's routes and the product's own, ARM errors."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from aks_connector.errors import EXIT_AUTH, CliError, exit_code_for_status, usage_error

# The newest stable ServiceLinker api-version the product serves (it has configurationInfo).
API_VERSION = "2024-04-01"
DEFAULT_ENDPOINT = "http://127.0.0.1:7071"
ENDPOINT_VARIABLE = "AKS_CONNECTOR_ENDPOINT"
KEY_VARIABLE = "AKS_CONNECTOR_KEY"
SCOPE_VARIABLE = "AKS_CONNECTOR_SCOPE"
TIMEOUT_SECONDS = 60.0


class TokenSource(Protocol):
    """What the CLI needs of an azure-identity credential."""

    def get_token(self, *scopes: str) -> Any: ...


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, headers and the parsed JSON body (None when empty)."""

    status: int
    headers: dict[str, str]
    body: Any

    def header(self, name: str) -> str | None:
        """A header, case-insensitively."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


class Api:
    """Requests to one endpoint, authenticated with a function key or an Entra token for `scope`."""

    def __init__(
        self, endpoint: str, *, key: str | None = None, scope: str | None = None, credential: Any = None
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.key = key
        self.scope = scope
        self._credential = credential

    @classmethod
    def from_options(cls, endpoint: str | None, key: str | None, scope: str | None) -> Api:
        """Flags first, then AKS_CONNECTOR_ENDPOINT / _KEY / _SCOPE, then the local default endpoint."""
        endpoint = endpoint or os.environ.get(ENDPOINT_VARIABLE) or DEFAULT_ENDPOINT
        if not endpoint.startswith(("http://", "https://")):
            raise usage_error(f"The endpoint must be an http(s) URL, not {endpoint!r}.", "--endpoint")
        key = key or os.environ.get(KEY_VARIABLE) or None
        scope = scope or os.environ.get(SCOPE_VARIABLE) or None
        return cls(endpoint, key=key, scope=scope)

    def _auth_headers(self) -> dict[str, str]:
        if self.key:
            return {"x-functions-key": self.key}
        if not self.scope:
            return {}
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        try:
            token = self._credential.get_token(self.scope)
        except Exception as exc:  # azure-identity raises several types; all mean "no token"
            raise CliError(
                {
                    "code": "AuthenticationFailed",
                    "message": f"Could not get an Entra token for {self.scope}: {type(exc).__name__}.",
                    "mitigation": "Sign in (az login) or set AKS_CONNECTOR_KEY to a function key.",
                    "target": "--scope",
                },
                EXIT_AUTH,
            ) from None
        return {"Authorization": f"Bearer {token.token}"}

    def url(self, path: str, api_version: str | None = API_VERSION) -> str:
        """An absolute URL for a path (an absolute URL is kept), with the api-version unless it has one."""
        url = path if path.startswith(("http://", "https://")) else self.endpoint + path
        if api_version and "api-version=" not in url:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"api-version": api_version})
        return url

    def call(
        self, method: str, path: str, body: Any = None, *, api_version: str | None = API_VERSION
    ) -> Response:
        """One request; an answer of 400 or more raises CliError with the ARM error and its exit code."""
        response = self.send(method, path, body, api_version=api_version)
        if response.status >= 400:
            raise api_error(response)
        return response

    def send(
        self, method: str, path: str, body: Any = None, *, api_version: str | None = API_VERSION
    ) -> Response:
        """One request, whatever its status (unreachable endpoints raise CliError)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url(path, api_version), data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in self._auth_headers().items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                status, headers, raw = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers or {}), error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CliError(
                {
                    "code": "EndpointUnreachable",
                    "message": f"Could not reach {self.endpoint}: {reason}.",
                    "mitigation": "Start the product (make run) or set --endpoint / AKS_CONNECTOR_ENDPOINT.",
                    "target": "--endpoint",
                }
            ) from None
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return Response(status, headers, parsed)


def api_error(response: Response) -> CliError:
    """The CliError for a refused request: the body's ARM error, or one made from the status."""
    body = response.body if isinstance(response.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else None
    if error is None:
        error = {"code": _STATUS_CODES.get(response.status, f"Http{response.status}"), "message": ""}
        if response.status == 401:
            error["message"] = "The endpoint refused the credentials (401)."
            error["mitigation"] = "Set AKS_CONNECTOR_KEY (or --key) to a function key, or --scope for Entra."
        else:
            error["message"] = f"The endpoint answered {response.status}."
    return CliError(error, exit_code_for_status(response.status, str(error.get("code") or "")))


_STATUS_CODES = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict"}
