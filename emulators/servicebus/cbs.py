"""Claims-based security (`$cbs` put-token): which tokens the broker grants, and a journal of them.

By default every token is granted, as the official emulator does (it checks no signatures). Given a
verifier (`ServiceBusEmulator.trust_jwt(verifier)`, e.g. the Entra stand-in's `issuer.verify`), a `jwt`
token must pass it for the audience Service Bus tokens carry (`https://servicebus.azure.net`); a refused
put-token is answered with status 401, which the SDK raises as an authentication error. SAS tokens are
still granted: the connection-string clients keep working next to the identity-based ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SERVICEBUS_AUDIENCE = "https://servicebus.azure.net"
JWT = "jwt"
SAS = "servicebus.windows.net:sastoken"
SAS_PREFIX = "SharedAccessSignature "
JwtVerifier = Callable[[str, str], Mapping[str, Any]]


@dataclass(frozen=True)
class PutToken:
    """One put-token the broker answered (never the token itself)."""

    token_type: str  # "jwt" or "servicebus.windows.net:sastoken"
    entity: str  # the `name` the token was put for: the entity's URL
    granted: bool
    client_id: str | None  # a verified JWT's `appid`


class TokenPolicy:
    """Decides put-token requests and keeps their journal."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._verifier: JwtVerifier | None = None
        self._journal: list[PutToken] = []

    def trust_jwt(self, verifier: JwtVerifier | None) -> None:
        """Verify `jwt` tokens with `verifier(token, audience)` (raises when invalid); None: grant all."""
        with self._lock:
            self._verifier = verifier

    def decide(self, token_type: str, entity: str, token: Any) -> str | None:
        """None when granted, else why the token was refused."""
        with self._lock:
            verifier = self._verifier
        refusal: str | None = None
        client_id: str | None = None
        text = token.decode("utf-8", "replace") if isinstance(token, bytes) else str(token or "")
        # The SDK types a SAS token `jwt` too on some paths; the service tells them apart by the text.
        if text.startswith(SAS_PREFIX):
            token_type = SAS
        if token_type == JWT and verifier is not None:
            try:
                client_id = str(verifier(text, SERVICEBUS_AUDIENCE).get("appid") or "") or None
            except Exception as invalid:  # the verifier's own error type; its message says what failed
                refusal = f"InvalidSignature: the token is not valid ({invalid})."
        with self._lock:
            self._journal.append(PutToken(token_type, entity, refusal is None, client_id))
        return refusal

    def journal(self) -> list[PutToken]:
        """Every put-token answered so far."""
        with self._lock:
            return list(self._journal)
