"""The Entra stand-in's HTTP side: App Service managed identity, OpenID metadata, JWKS, client credentials.

Plain HTTP on 127.0.0.1, as App Service's own identity endpoint is (`IDENTITY_ENDPOINT` is a local http URL),
or HTTPS (`tls=True`, a fresh local CA in `ca_file`) for MSAL, which accepts only an https authority.
Routes, in the shapes the official clients read (azure-identity / MSAL):
- `GET /msi/token?api-version=2019-08-01&resource=R[&client_id=C]` with `X-IDENTITY-HEADER`: App Service's
  managed identity protocol; the system-assigned identity, or a user-assigned one by client id.
- `GET /{tenant}/v2.0/.well-known/openid-configuration` and `/{tenant}/.well-known/openid-configuration`:
  OpenID Provider metadata (issuer, token endpoint, `jwks_uri`).
- `GET /{tenant}/discovery/v2.0/keys` and `/common/discovery/keys`: the signing key as JWKS.
- `POST /{tenant}/oauth2/v2.0/token`: the client credentials grant (`client_id`, `client_secret`, `scope`),
  with the platform's error shape (`invalid_client`, `unauthorized_client`, `invalid_scope`).
Every token request is journaled (grant, resource, client id; never a token or a secret).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import ssl
import tempfile
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulators.entra.tokens import TokenIssuer, resource_of

DEFAULT_TENANT = "7e57c0de-0000-4000-8000-000000000001"
_TENANT_PATH = re.compile(r"^/(?P<tenant>[^/]+)/(?P<rest>.+)$")


@dataclass(frozen=True)
class TokenGrant:
    """One token the emulator issued, as the journal keeps it (no token value)."""

    grant: str  # "managed_identity" or "client_credentials"
    resource: str
    client_id: str


class EntraEmulator:
    """`with EntraEmulator() as entra:` then `entra.managed_identity_environment()` for azure-identity."""

    def __init__(
        self, tenant_id: str = DEFAULT_TENANT, *, host: str = "127.0.0.1", port: int = 0, tls: bool = False
    ) -> None:
        self.issuer = TokenIssuer(tenant_id)
        # MSAL (client credentials) accepts only an https authority; App Service's identity endpoint is http.
        self.tls = tls
        self.ca_file = ""
        self._ca_dir: tempfile.TemporaryDirectory[str] | None = None
        self.host = host
        self._requested_port = port
        self.port = 0
        self.identity_header = secrets.token_hex(16)
        # The app's system-assigned identity; user-assigned ones are added by client id.
        self.system_client_id = str(uuid.uuid4())
        self._identities: dict[str, str] = {self.system_client_id: str(uuid.uuid4())}
        self._applications: dict[str, str] = {}
        self._lock = threading.Lock()
        self.journal: list[TokenGrant] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- configuration ---------------------------------------------------------------------------
    @property
    def tenant_id(self) -> str:
        """The tenant every token names (`tid`)."""
        return self.issuer.tenant_id

    def add_user_assigned_identity(self, client_id: str | None = None) -> str:
        """Attach a user-assigned identity to the app; returns its client id."""
        client_id = client_id or str(uuid.uuid4())
        with self._lock:
            self._identities[client_id] = str(uuid.uuid4())
        return client_id

    def add_application(
        self, client_id: str | None = None, *, object_id: str | None = None, secret: str | None = None
    ) -> tuple[str, str]:
        """Register an application with a client secret; returns (client id, secret).

        `object_id` fixes its service principal's object id (`oid`), e.g. one a seed's role assignment names.
        """
        client_id = client_id or str(uuid.uuid4())
        secret = secret or secrets.token_urlsafe(24)
        with self._lock:
            self._applications[client_id] = secret
            self._identities[client_id] = object_id or self._identities.get(client_id) or str(uuid.uuid4())
        return client_id, secret

    def grants(self, resource: str | None = None) -> list[TokenGrant]:
        """The journaled token grants, optionally only those for one resource."""
        with self._lock:
            return [g for g in self.journal if resource is None or g.resource == resource]

    # ---- what clients are given -------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The emulator's base URL."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def managed_identity_environment(self) -> dict[str, str]:
        """The variables App Service sets for its managed identity endpoint (azure-identity reads them)."""
        return {"IDENTITY_ENDPOINT": f"{self.url}/msi/token", "IDENTITY_HEADER": self.identity_header}

    def openid_configuration(self) -> dict[str, Any]:
        """The tenant's OpenID Provider metadata."""
        base = f"{self.url}/{self.tenant_id}"
        return {
            "issuer": self.issuer.issuer,
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            # No interactive flows here, but MSAL reads this field of every provider's metadata.
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "tenant_region_scope": "NA",
        }

    # ---- token grants -----------------------------------------------------------------------------
    def _grant(self, grant: str, resource: str, client_id: str) -> dict[str, Any]:
        with self._lock:
            object_id = self._identities[client_id]
            self.journal.append(TokenGrant(grant, resource, client_id))
        token, expires_on = self.issuer.issue(resource, client_id, object_id)
        return {"access_token": token, "expires_on": expires_on, "token_type": "Bearer", "resource": resource}

    def managed_identity_token(self, query: dict[str, str], header: str) -> tuple[int, dict[str, Any]]:
        """App Service's identity endpoint: (status, body)."""
        if not header or not secrets.compare_digest(header, self.identity_header):
            return 401, {"statusCode": 401, "message": "X-IDENTITY-HEADER is missing or wrong."}
        resource = query.get("resource", "")
        if not resource:
            return 400, {"statusCode": 400, "message": "The resource parameter is required."}
        client_id = query.get("client_id") or self.system_client_id
        with self._lock:
            known = client_id in self._identities and client_id not in self._applications
        if not known:
            return 400, {"statusCode": 400, "message": "No Managed Identity found for specified ClientId."}
        body = self._grant("managed_identity", resource_of(resource), client_id)
        body["expires_on"] = str(body["expires_on"])  # App Service answers epoch seconds as a string
        body["client_id"] = client_id
        return 200, body

    def client_credentials_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The v2.0 token endpoint for `grant_type=client_credentials`: (status, body)."""
        if form.get("grant_type") != "client_credentials":
            return 400, _oauth_error("unsupported_grant_type", "AADSTS70003", "Only client_credentials.")
        client_id = form.get("client_id", "")
        with self._lock:
            expected = self._applications.get(client_id)
        if expected is None:
            return 400, _oauth_error("unauthorized_client", "AADSTS700016", f"Application '{client_id}' ...")
        if not secrets.compare_digest(form.get("client_secret", ""), expected):
            return 401, _oauth_error("invalid_client", "AADSTS7000215", "Invalid client secret provided.")
        scopes = form.get("scope", "").split()
        resources = [resource_of(scope) for scope in scopes if scope.endswith("/.default")]
        if len(resources) != 1:
            return 400, _oauth_error("invalid_scope", "AADSTS1002012", "One '<resource>/.default' scope.")
        body = self._grant("client_credentials", resources[0], client_id)
        body["expires_in"] = body.pop("expires_on") - int(self.issuer.clock())
        body.pop("resource")
        return 200, body

    # ---- HTTP -------------------------------------------------------------------------------------
    def route(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> Any:
        """(status, JSON body) for one request."""
        if method == "GET" and path == "/msi/token":
            return self.managed_identity_token(query, headers.get("X-IDENTITY-HEADER", ""))
        match = _TENANT_PATH.match(path)
        if match is None:
            return 404, {"error": "not_found"}
        tenant, rest = match.group("tenant"), match.group("rest")
        if method == "GET" and rest in ("discovery/v2.0/keys", "discovery/keys"):
            return 200, self.issuer.jwks()
        if tenant not in (self.tenant_id, "common", "organizations"):
            return 400, _oauth_error("invalid_tenant", "AADSTS90002", f"Tenant '{tenant}' not found.")
        if method == "GET" and rest in (
            "v2.0/.well-known/openid-configuration",
            ".well-known/openid-configuration",
        ):
            return 200, self.openid_configuration()
        if method == "POST" and rest == "oauth2/v2.0/token":
            form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
            return self.client_credentials_token(form)
        return 404, {"error": "not_found"}

    def start(self) -> EntraEmulator:
        """Listen on 127.0.0.1 and serve from a daemon thread."""
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                status, payload = emulator.route(
                    self.command, parts.path, query, self.headers, self.rfile.read(length) if length else b""
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the journal records what matters."""

        self._httpd = ThreadingHTTPServer((self.host, self._requested_port), Handler)
        self._httpd.daemon_threads = True
        if self.tls:
            self._wrap_tls(self._httpd)
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=f"entra-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def _wrap_tls(self, httpd: ThreadingHTTPServer) -> None:
        """Serve HTTPS with a certificate from a fresh local CA, written to `ca_file` for clients to trust."""
        import trustme

        ca = trustme.CA()
        self._ca_dir = tempfile.TemporaryDirectory(prefix="entra-ca-")
        self.ca_file = os.path.join(self._ca_dir.name, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(self.host, "localhost").configure_cert(context)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._ca_dir is not None:
            self._ca_dir.cleanup()
            self._ca_dir = None

    def __enter__(self) -> EntraEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _oauth_error(error: str, code: str, description: str) -> dict[str, Any]:
    """The platform's token error body: `error`, `error_description` starting with the AADSTS code."""
    return {"error": error, "error_description": f"{code}: {description}", "error_codes": [int(code[6:])]}
