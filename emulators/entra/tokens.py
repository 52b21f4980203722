"""Signed access tokens in Microsoft Entra ID's v1 shape (RS256, `kid`), and their verification.

Claims follow the "access token claims reference" of the Microsoft identity platform: `aud` is the resource
(the scope without `/.default`), `iss` is `https://sts.windows.net/<tenant>/` (the issuer Azure Storage and
Azurite accept), `appid`/`oid`/`sub` name the client, `idtyp` is `app`. The emulator's key pair is made
fresh per instance: its public half is published as JWKS, so a relying party can check signatures.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

V1_ISSUER = "https://sts.windows.net/{tenant}/"
TOKEN_LIFETIME_SECONDS = 3600


class InvalidToken(ValueError):
    """A token that is malformed, not signed by this issuer, expired, or for another audience."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def resource_of(scope: str) -> str:
    """The audience a scope or resource names: `https://storage.azure.com/.default` → `https://storage.azure.com`.

    Trailing slashes go too: the Service Bus SDK asks for `https://servicebus.azure.net//.default`.
    """
    return scope.removesuffix("/.default").rstrip("/")


class TokenIssuer:
    """One tenant's signing key: issues access tokens and verifies the ones it issued."""

    def __init__(self, tenant_id: str, clock: Callable[[], float] = time.time) -> None:
        self.tenant_id = tenant_id
        self.clock = clock
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self._key.public_key().public_numbers()
        self._n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        self._e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        self.key_id = _b64url(hashlib.sha256(self._n).digest()[:20])

    @property
    def issuer(self) -> str:
        """The `iss` of every token this tenant issues."""
        return V1_ISSUER.format(tenant=self.tenant_id)

    def jwks(self) -> dict[str, Any]:
        """The public key as a JSON Web Key Set (what `jwks_uri` serves)."""
        key = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.key_id, "x5t": self.key_id}
        return {"keys": [{**key, "n": _b64url(self._n), "e": _b64url(self._e)}]}

    def issue(self, resource: str, client_id: str, object_id: str) -> tuple[str, int]:
        """A signed token for `resource` on behalf of a client; returns (token, expires_on epoch seconds)."""
        now = int(self.clock())
        expires_on = now + TOKEN_LIFETIME_SECONDS
        claims = {
            "aud": resource,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": expires_on,
            "appid": client_id,
            "appidacr": "1",
            "idtyp": "app",
            "oid": object_id,
            "sub": object_id,
            "tid": self.tenant_id,
            "uti": _b64url(uuid.uuid4().bytes),
            "ver": "1.0",
        }
        header = {"typ": "JWT", "alg": "RS256", "kid": self.key_id, "x5t": self.key_id}
        signing_input = ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims))
        signature = self._key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}", expires_on

    def verify(self, token: str, audience: str | None = None) -> Mapping[str, Any]:
        """The claims of a token this issuer signed, still valid, for `audience` when given."""
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            header = json.loads(_unb64url(header_b64))
            claims = json.loads(_unb64url(claims_b64))
            signature = _unb64url(signature_b64)
        except ValueError as error:
            raise InvalidToken(f"not a JWT: {type(error).__name__}") from None
        if header.get("alg") != "RS256" or header.get("kid") != self.key_id:
            raise InvalidToken("not signed with this issuer's key")
        try:
            self._key.public_key().verify(
                signature, f"{header_b64}.{claims_b64}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:  # cryptography's InvalidSignature, or a signature of the wrong length
            raise InvalidToken("bad signature") from None
        now = self.clock()
        if not (claims.get("nbf", 0) <= now < claims.get("exp", 0)):
            raise InvalidToken("expired or not yet valid")
        if claims.get("iss") != self.issuer:
            raise InvalidToken(f"issuer {claims.get('iss')!r} is not {self.issuer!r}")
        if audience is not None and claims.get("aud", "").rstrip("/") != audience.rstrip("/"):
            raise InvalidToken(f"audience {claims.get('aud')!r} is not {audience!r}")
        return dict(claims)
