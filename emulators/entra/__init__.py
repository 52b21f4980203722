"""A local Microsoft Entra ID stand-in: managed identity and client credential tokens, OIDC metadata, JWKS."""

from emulators.entra.server import DEFAULT_TENANT, EntraEmulator, TokenGrant
from emulators.entra.tokens import InvalidToken, TokenIssuer

__all__ = ["DEFAULT_TENANT", "EntraEmulator", "InvalidToken", "TokenGrant", "TokenIssuer"]
