"""Verifying Microsoft Entra ID access tokens as a relying party does (the ARM and kube emulators' side).

`EntraTrust` holds one tenant's issuer and signing keys (JWKS) and checks a bearer token in the order a
resource provider reports failures: well-formed and signed by a published key, then not expired, then the
issuer, then the audience. Each failure is its own exception so the caller can answer with its service's
real code (ARM: InvalidAuthenticationToken, ExpiredAuthenticationToken, InvalidAuthenticationTokenTenant,
InvalidAuthenticationTokenAudience; Kubernetes: 401 Unauthorized).

`EntraTrust.discover(authority)` reads the tenant's OpenID metadata and JWKS over HTTPS (the Entra stand-in
run as a process); `EntraTrust(issuer, jwks)` takes them directly (in-process tests).
"""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class TokenRejected(ValueError):
    """A bearer token that is not acceptable; subclasses say why."""


class MalformedToken(TokenRejected):
    """Not a JWT, or not signed by any of the trusted keys."""


class ExpiredToken(TokenRejected):
    """Signed correctly but past its `exp` (or before its `nbf`)."""

    def __init__(self, expires_on: float, now: float) -> None:
        super().__init__("token expired")
        self.expires_on = expires_on
        self.now = now


class WrongIssuer(TokenRejected):
    """Signed by a trusted key but naming another issuer (tenant)."""

    def __init__(self, issuer: str) -> None:
        super().__init__("wrong issuer")
        self.issuer = issuer


class WrongAudience(TokenRejected):
    """Valid, but obtained for another resource."""

    def __init__(self, audience: str) -> None:
        super().__init__("wrong audience")
        self.audience = audience


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public_keys(jwks: Mapping[str, Any]) -> dict[str, rsa.RSAPublicKey]:
    keys: dict[str, rsa.RSAPublicKey] = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") != "RSA":
            continue
        n = int.from_bytes(_unb64url(jwk["n"]), "big")
        e = int.from_bytes(_unb64url(jwk["e"]), "big")
        keys[str(jwk.get("kid", ""))] = rsa.RSAPublicNumbers(e, n).public_key()
    return keys


def normalized_audience(audience: str) -> str:
    """`https://management.azure.com/.default` and `https://management.azure.com/` both name one resource."""
    return audience.removesuffix("/.default").rstrip("/").lower()


class EntraTrust:
    """One tenant's issuer and signing keys; `check(token, audiences)` returns the claims or raises."""

    def __init__(
        self,
        issuer: str,
        jwks: Mapping[str, Any],
        *,
        authority: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.authority = authority  # named in ARM's WWW-Authenticate challenge
        self.clock = clock  # real time: tokens are issued on the wall clock, not an emulator's virtual one
        self._keys = _public_keys(jwks)

    @classmethod
    def discover(cls, authority: str, ca_file: str | None = None) -> EntraTrust:
        """Read `{authority}/v2.0/.well-known/openid-configuration` and its `jwks_uri`."""
        context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        authority = authority.rstrip("/")

        def get(url: str) -> Any:
            with urllib.request.urlopen(url, timeout=10, context=context) as response:
                return json.loads(response.read())

        metadata = get(f"{authority}/v2.0/.well-known/openid-configuration")
        return cls(str(metadata["issuer"]), get(str(metadata["jwks_uri"])), authority=authority)

    def check(self, token: str, audiences: Iterable[str]) -> dict[str, Any]:
        """The claims of a token signed by a trusted key, current, from this issuer and for `audiences`."""
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            header = json.loads(_unb64url(header_b64))
            claims = json.loads(_unb64url(claims_b64))
            signature = _unb64url(signature_b64)
        except ValueError:
            raise MalformedToken("not a JWT") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise MalformedToken("not a JWT")
        key = self._keys.get(str(header.get("kid", "")))
        if key is None or header.get("alg") != "RS256":
            raise MalformedToken("not signed by a trusted key")
        try:
            key.verify(
                signature, f"{header_b64}.{claims_b64}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:  # InvalidSignature, or a signature of the wrong length
            raise MalformedToken("bad signature") from None
        now = self.clock()
        expires_on = float(claims.get("exp", 0))
        if not (float(claims.get("nbf", 0)) <= now < expires_on):
            raise ExpiredToken(expires_on, now)
        if claims.get("iss") != self.issuer:
            raise WrongIssuer(str(claims.get("iss")))
        wanted = {normalized_audience(a) for a in audiences}
        if normalized_audience(str(claims.get("aud", ""))) not in wanted:
            raise WrongAudience(str(claims.get("aud")))
        return claims
