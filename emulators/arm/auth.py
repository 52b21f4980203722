"""Bearer authentication of ARM requests: presence always; with an `EntraTrust`, Entra ID token verification.

Without a trust (the documented fallback: `python -m emulators.arm` with no `--entra-authority`) any bearer
token is accepted, as before. With one, the token must be signed by the tenant's published key, current, from
its issuer and for ARM. The codes and messages are ARM's, as clients meet them (Azure CLI and SDK issue
reports): `InvalidAuthenticationToken` ("The access token is invalid."), `ExpiredAuthenticationToken` ("The
access token expiry UTC time '…' is earlier than current UTC time '…'."), `InvalidAuthenticationTokenTenant`
("The access token is from the wrong issuer '…'…"), `InvalidAuthenticationTokenAudience` ("The access token
has been obtained for wrong audience or resource '…'. It should exactly match with one of the allowed
audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/',
'https://management.azure.com'."). Each 401 carries ARM's `WWW-Authenticate: Bearer authorization_uri=…,
error="invalid_token", error_description=…` challenge.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from emulators.arm import errors
from emulators.arm.errors import ArmError
from emulators.common.entra_trust import (
    EntraTrust,
    ExpiredToken,
    MalformedToken,
    WrongAudience,
    WrongIssuer,
)
from emulators.common.http import Request

ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)


def _utc(epoch: float) -> str:
    """ARM's timestamp wording in these messages: `5/14/2023 5:01:02 PM`."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return f"{moment.month}/{moment.day}/{moment.year} {moment.strftime('%I:%M:%S %p').lstrip('0')}"


def _unauthenticated(trust: EntraTrust | None, code: str, message: str) -> ArmError:
    error = ArmError(401, code, message)
    authority = trust.authority if trust is not None else "https://login.microsoftonline.com/common"
    description = message.replace('"', "'")
    error.headers["WWW-Authenticate"] = (
        f'Bearer authorization_uri="{authority}", error="invalid_token", error_description="{description}"'
    )
    return error


def authenticate(request: Request, trust: EntraTrust | None) -> dict[str, Any] | None:
    """The caller's token claims (None without a trust); raises ARM's 401 for a missing or refused token."""
    header = request.header("Authorization")
    if not header:
        error = errors.authentication_missing()
        raise _unauthenticated(trust, error.code, error.message)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        error = errors.authentication_malformed()
        raise _unauthenticated(trust, error.code, error.message)
    if trust is None:
        return None
    try:
        return trust.check(token.strip(), ARM_AUDIENCES)
    except MalformedToken:
        raise _unauthenticated(trust, "InvalidAuthenticationToken", "The access token is invalid.") from None
    except ExpiredToken as exc:
        raise _unauthenticated(
            trust,
            "ExpiredAuthenticationToken",
            f"The access token expiry UTC time '{_utc(exc.expires_on)}' is earlier than current UTC time "
            f"'{_utc(exc.now)}'.",
        ) from None
    except WrongIssuer as exc:
        raise _unauthenticated(
            trust,
            "InvalidAuthenticationTokenTenant",
            f"The access token is from the wrong issuer '{exc.issuer}'. It must match the tenant "
            f"'{trust.issuer}' associated with this subscription. Please use the authority (URL) "
            f"'{trust.authority}' to get the token.",
        ) from None
    except WrongAudience as exc:
        allowed = ",".join(f"'{a}'" for a in ARM_AUDIENCES)
        raise _unauthenticated(
            trust,
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for wrong audience or resource '{exc.audience}'. It should "
            f"exactly match with one of the allowed audiences {allowed}.",
        ) from None
