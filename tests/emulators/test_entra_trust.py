"""`EntraTrust.discover`: what `--entra-authority` gives the ARM and kube emulator processes (make run): the
tenant's issuer and keys, read from the Entra stand-in's OpenID metadata over HTTPS, that check tokens."""

from __future__ import annotations

import pytest

from emulators.common.entra_trust import EntraTrust, ExpiredToken, MalformedToken, WrongAudience
from emulators.entra import EntraEmulator, TokenIssuer


def test_discovered_trust_accepts_the_tenants_tokens_and_refuses_others() -> None:
    with EntraEmulator(tls=True) as entra:
        trust = EntraTrust.discover(f"{entra.url}/{entra.tenant_id}", entra.ca_file)
        assert trust.issuer == f"https://sts.windows.net/{entra.tenant_id}/"
        token, _ = entra.issuer.issue("https://management.azure.com", "app", "oid")
        assert trust.check(token, ["https://management.azure.com/"])["oid"] == "oid"
        with pytest.raises(WrongAudience):
            trust.check(token, ["6dae42f8-4368-4678-94ff-3960e28e3630"])
        stranger, _ = TokenIssuer(entra.tenant_id).issue("https://management.azure.com", "app", "oid")
        with pytest.raises(MalformedToken):
            trust.check(stranger, ["https://management.azure.com"])
        trust.clock = lambda: entra.issuer.clock() + 7200
        with pytest.raises(ExpiredToken):
            trust.check(token, ["https://management.azure.com"])
