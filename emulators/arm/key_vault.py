"""The Key Vault secrets data plane of the seeded `Microsoft.KeyVault/vaults` (for azure-keyvault-secrets).

A vault is a host in Key Vault (`https://{vault}.vault.azure.net/`), and azure-keyvault-secrets parses secret
ids as `{scheme}://{host}/secrets/{name}/{version}`, so each vault gets its own HTTPS listener on 127.0.0.1
(same CA, started when the vault is seeded: `VaultListeners`); its `properties.vaultUri` is
`https://127.0.0.1:{port}/`. Requests to that listener enter the emulator's router as `/keyvault/{vault}/...`
(journal, faults). Operations, from the Key Vault data-plane spec (Azure/azure-rest-api-specs,
specification/keyvault/data-plane/Microsoft.KeyVault/stable/7.6/secrets.json): SetSecret (PUT /secrets/{name}:
a new version each time), GetSecret (latest or a version), GetSecretVersions, GetSecrets, DeleteSecret (soft
delete: the name stays taken until purged or recovered), GetDeletedSecret, PurgeDeletedSecret,
RecoverDeletedSecret. Pages hold `maxresults` items (25 by default) with a nextLink. api-version 7.4 to 7.6.

Authentication is the challenge the SDK expects: a request without a bearer token gets 401 with
`WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/{tenant}",
resource="https://vault.azure.net"`; the SDK then asks its credential for `https://vault.azure.net/.default`
and resends. Tokens are not checked further. Clients pointed at this emulator must pass
`verify_challenge_resource=False`, since the resource's domain is not the emulator's host.

Errors are Key Vault's envelope `{"error": {"code", "message", "innererror"?}}` with its codes
(SecretNotFound, BadParameter, Conflict/ObjectIsDeletedButRecoverable, Unauthorized). Secret values live only
in emulator memory: the journal records paths, never bodies.
"""

from __future__ import annotations

import re
import secrets
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trustme

from emulators.arm.state import ArmState, Resource
from emulators.common.http import Handler, Request, Response
from emulators.common.server import _make_handler, _Server

VAULT_TYPE = "Microsoft.KeyVault/vaults"
PATH_PREFIX = "/keyvault"
# The stable data-plane versions whose secrets.json defines these operations.
API_VERSIONS = ("7.4", "7.5", "7.6")
RESOURCE = "https://vault.azure.net"
DEFAULT_PAGE = 25
RECOVERABLE_DAYS = 90
_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")


@dataclass
class KeyVaultError(Exception):
    """A Key Vault error response."""

    status: int
    code: str
    message: str
    inner: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """Key Vault's error envelope."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.inner:
            error["innererror"] = {"code": self.inner}
        return {"error": error}


@dataclass
class SecretVersion:
    """One version of a secret: its value and attributes (times in Unix seconds, as the API sends them)."""

    version: str
    value: str
    created: int
    content_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    enabled: bool = True


@dataclass
class StoredSecret:
    """A secret with all its versions, oldest first; `deleted_at` set while soft-deleted."""

    name: str
    versions: list[SecretVersion] = field(default_factory=list)
    deleted_at: int | None = None


class _VaultFront:
    """What a vault's listener calls: the emulator's own dispatch, with the path placed under the vault."""

    name = "keyvault"

    def __init__(self, vault_name: str, handle: Callable[[Request], Response | None]) -> None:
        self._prefix = f"{PATH_PREFIX}/{vault_name}"
        self._handle = handle

    def handle(self, request: Request) -> Response | None:
        """Dispatch `/secrets/...` as `/keyvault/{vault}/secrets/...`."""
        request.path = self._prefix + (request.path if request.path.startswith("/") else "/" + request.path)
        return self._handle(request)


class VaultListeners:
    """One HTTPS listener per vault name, kept across resets so a vault's URI is stable; `stop` closes all."""

    def __init__(self, ca: trustme.CA, handle: Callable[[Request], Response | None]) -> None:
        self._ca = ca
        self._handle = handle
        self._lock = threading.Lock()
        self._servers: dict[str, _Server] = {}

    def uri(self, vault_name: str) -> str:
        """The vault's data-plane URI, starting its listener on first use."""
        key = vault_name.lower()
        with self._lock:
            server = self._servers.get(key)
            if server is None:
                ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
                front: Any = _VaultFront(vault_name, self._handle)
                server = _Server(("127.0.0.1", 0), _make_handler(front, ctx))
                threading.Thread(
                    target=server.serve_forever, args=(0.05,), name=f"keyvault-{key}", daemon=True
                ).start()
                self._servers[key] = server
        return f"https://127.0.0.1:{server.server_address[1]}/"

    def stop(self) -> None:
        """Close every vault listener."""
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.shutdown()
            server.server_close()


def _store(vault: Resource) -> dict[str, StoredSecret]:
    found: dict[str, StoredSecret] = vault.extra.setdefault("kv_secrets", {})
    return found


def secret_versions(vault: Resource, name: str) -> list[SecretVersion]:
    """A secret's versions in a vault (for admin views and tests); empty when absent."""
    stored = _store(vault).get(name.lower())
    return list(stored.versions) if stored else []


class KeyVaultHandlers:
    """Handlers of the secrets data plane, bound to the ARM state that holds the vaults."""

    def __init__(self, state: ArmState) -> None:
        self.state = state

    # ----- plumbing
    def routes(self) -> list[tuple[str, str, str, Handler]]:
        """(method, regex, journal name, handler) for every data-plane operation, most specific first."""
        vault = PATH_PREFIX + r"/(?P<vault>[^/]+)"
        secret = vault + r"/secrets/(?P<name>[^/]+)"
        deleted = vault + r"/deletedsecrets/(?P<name>[^/]+)"
        table: list[tuple[str, str, str, Callable[[Request, Resource], Response]]] = [
            ("GET", secret + r"/versions/?", "kv/secretVersions", self.list_versions),
            ("GET", secret + r"/(?P<version>[^/]+)/?", "kv/secret", self.get),
            ("GET", secret + r"/?", "kv/secret", self.get),
            ("PUT", secret + r"/?", "kv/secret", self.set),
            ("DELETE", secret + r"/?", "kv/secret", self.delete),
            ("GET", vault + r"/secrets/?", "kv/secrets", self.list_secrets),
            ("POST", deleted + r"/recover/?", "kv/deletedSecret/recover", self.recover),
            ("GET", deleted + r"/?", "kv/deletedSecret", self.get_deleted),
            ("DELETE", deleted + r"/?", "kv/deletedSecret", self.purge),
        ]
        return [(method, pattern, name, self._wrap(handler)) for method, pattern, name, handler in table]

    def _wrap(self, handler: Callable[[Request, Resource], Response]) -> Handler:
        def run(request: Request) -> Response:
            try:
                self._authenticate(request)
                _check_api_version(request)
                with self.state.lock:
                    vault = self._vault(request.params["vault"])
                    return handler(request, vault)
            except KeyVaultError as exc:
                return Response.json(exc.status, exc.body(), exc.headers)

        return run

    def _authenticate(self, request: Request) -> None:
        scheme, _, token = request.header("Authorization").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            challenge = (
                f'Bearer authorization="https://login.microsoftonline.com/{self.state.tenant_id}", '
                f'resource="{RESOURCE}"'
            )
            raise KeyVaultError(
                401,
                "Unauthorized",
                "AKV10000: Request is missing a Bearer or PoP token.",
                headers={"WWW-Authenticate": challenge},
            )

    def _vault(self, name: str) -> Resource:
        # Vault names are global in Azure (they are DNS names): a second seeded vault of the same name (the
        # foreign-subscription copy of a seed) shares the first one's listener and secrets.
        for vault in self.state.of_type(VAULT_TYPE):
            if vault.name.lower() == name.lower():
                return vault
        raise KeyVaultError(404, "VaultNotFound", f"No vault named '{name}' is known to this emulator.")

    def _uri(self, vault: Resource) -> str:
        return str(vault.properties.get("vaultUri") or "")

    # ----- bundles
    def _bundle(self, vault: Resource, stored: StoredSecret, item: SecretVersion) -> dict[str, Any]:
        body = self._item(vault, stored, item, with_version=True)
        body["value"] = item.value
        return body

    def _item(
        self, vault: Resource, stored: StoredSecret, item: SecretVersion, *, with_version: bool
    ) -> dict[str, Any]:
        secret_id = f"{self._uri(vault)}secrets/{stored.name}"
        return {
            "id": f"{secret_id}/{item.version}" if with_version else secret_id,
            "contentType": item.content_type,
            "tags": dict(item.tags),
            "attributes": {
                "enabled": item.enabled,
                "created": item.created,
                "updated": item.created,
                "recoveryLevel": "Recoverable+Purgeable",
                "recoverableDays": RECOVERABLE_DAYS,
            },
        }

    def _deleted_bundle(self, vault: Resource, stored: StoredSecret) -> dict[str, Any]:
        body = self._bundle(vault, stored, stored.versions[-1])
        deleted_at = stored.deleted_at or self._now()
        body.update(
            recoveryId=f"{self._uri(vault)}deletedsecrets/{stored.name}",
            deletedDate=deleted_at,
            scheduledPurgeDate=deleted_at + RECOVERABLE_DAYS * 86400,
        )
        return body

    def _now(self) -> int:
        return int(self.state.now())

    def _live(self, vault: Resource, name: str) -> StoredSecret:
        stored = _store(vault).get(_checked_name(name).lower())
        if stored is None or stored.deleted_at is not None or not stored.versions:
            raise _not_found(name)
        return stored

    def _deleted(self, vault: Resource, name: str) -> StoredSecret:
        stored = _store(vault).get(_checked_name(name).lower())
        if stored is None or stored.deleted_at is None:
            raise KeyVaultError(
                404,
                "SecretNotFound",
                f"Deleted Secret not found: {name}",
            )
        return stored

    # ----- operations
    def set(self, request: Request, vault: Resource) -> Response:
        """SetSecret: a new version; 409 while the name is soft-deleted."""
        name = _checked_name(request.params["name"])
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("value"), str):
            raise KeyVaultError(400, "BadParameter", "The request body must carry the secret 'value'.")
        store = _store(vault)
        stored = store.get(name.lower())
        if stored is not None and stored.deleted_at is not None:
            raise KeyVaultError(
                409,
                "Conflict",
                f"Secret {name} is currently in a deleted but recoverable state, and its name cannot be "
                "reused; in this state, the secret can only be recovered or purged.",
                inner="ObjectIsDeletedButRecoverable",
            )
        if stored is None:
            stored = store[name.lower()] = StoredSecret(name)
        raw_attributes = body.get("attributes")
        attributes: dict[str, Any] = raw_attributes if isinstance(raw_attributes, dict) else {}
        item = SecretVersion(
            version=secrets.token_hex(16),
            value=body["value"],
            created=self._now(),
            content_type=body.get("contentType"),
            tags={str(k): str(v) for k, v in (body.get("tags") or {}).items()},
            enabled=bool(attributes.get("enabled", True)),
        )
        stored.versions.append(item)
        return Response.json(200, self._bundle(vault, stored, item))

    def get(self, request: Request, vault: Resource) -> Response:
        """GetSecret: the latest version, or the one named."""
        stored = self._live(vault, request.params["name"])
        version = request.params.get("version") or ""
        if not version:
            return Response.json(200, self._bundle(vault, stored, stored.versions[-1]))
        for item in stored.versions:
            if item.version.lower() == version.lower():
                return Response.json(200, self._bundle(vault, stored, item))
        raise _not_found(f"{stored.name}/{version}")

    def list_versions(self, request: Request, vault: Resource) -> Response:
        """GetSecretVersions: every version's id and attributes (no values)."""
        stored = self._live(vault, request.params["name"])
        items = [self._item(vault, stored, item, with_version=True) for item in stored.versions]
        return Response.json(200, self._page(request, vault, f"secrets/{stored.name}/versions", items))

    def list_secrets(self, request: Request, vault: Resource) -> Response:
        """GetSecrets: each live secret once, with its latest version's attributes (no values)."""
        live = sorted(
            (s for s in _store(vault).values() if s.deleted_at is None and s.versions),
            key=lambda s: s.name.lower(),
        )
        items = [self._item(vault, s, s.versions[-1], with_version=False) for s in live]
        return Response.json(200, self._page(request, vault, "secrets", items))

    def delete(self, request: Request, vault: Resource) -> Response:
        """DeleteSecret: soft delete (every version); the DeletedSecretBundle."""
        stored = self._live(vault, request.params["name"])
        stored.deleted_at = self._now()
        return Response.json(200, self._deleted_bundle(vault, stored))

    def get_deleted(self, request: Request, vault: Resource) -> Response:
        """GetDeletedSecret (what the SDK's delete poller waits on)."""
        return Response.json(200, self._deleted_bundle(vault, self._deleted(vault, request.params["name"])))

    def purge(self, request: Request, vault: Resource) -> Response:
        """PurgeDeletedSecret: gone for good; 204."""
        stored = self._deleted(vault, request.params["name"])
        del _store(vault)[stored.name.lower()]
        return Response.empty(204)

    def recover(self, request: Request, vault: Resource) -> Response:
        """RecoverDeletedSecret: live again, with its versions."""
        stored = self._deleted(vault, request.params["name"])
        stored.deleted_at = None
        return Response.json(200, self._bundle(vault, stored, stored.versions[-1]))

    def _page(
        self, request: Request, vault: Resource, path: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        size = _page_size(request)
        start = int(request.arg("$skiptoken") or 0)
        chunk = items[start : start + size]
        next_link = None
        if start + size < len(items):
            version = request.arg("api-version")
            next_link = (
                f"{self._uri(vault)}{path}?api-version={version}&maxresults={size}&$skiptoken={start + size}"
            )
        return {"value": chunk, "nextLink": next_link}


def _check_api_version(request: Request) -> None:
    version = request.arg("api-version")
    if version not in API_VERSIONS:
        raise KeyVaultError(
            400,
            "BadParameter",
            f"The specified version ({version}) is not recognized. Consider using the latest supported "
            f"version ({API_VERSIONS[-1]}).",
        )


def _checked_name(name: str) -> str:
    if not _NAME.match(name):
        raise KeyVaultError(400, "BadParameter", f"The request URI contains an invalid name: {name}")
    return name


def _page_size(request: Request) -> int:
    raw = request.arg("maxresults")
    if raw is None:
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= DEFAULT_PAGE:
        raise KeyVaultError(400, "BadParameter", f"maxresults must be between 1 and {DEFAULT_PAGE}.")
    return int(raw)


def _not_found(name: str) -> KeyVaultError:
    return KeyVaultError(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {name} was not found in this key vault. If you recently deleted this "
        "secret you may be able to recover it using the correct recovery command. For help resolving this "
        "issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
    )
