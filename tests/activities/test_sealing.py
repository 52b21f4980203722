"""Sealing: what the HTTP trigger seals, only the Secret-writing activity can read back."""

import base64
import os

import pytest

from sealing import (
    SealedSecretMismatch,
    SealingError,
    is_sealed,
    key_from_setting,
    linker_context,
    seal,
    unseal,
)

KEY = os.urandom(32)


def test_round_trip_and_token_hides_plaintext() -> None:
    token = seal("p@ssw0rd-ü", KEY)
    assert is_sealed(token)
    assert "p@ssw0rd" not in token
    assert unseal(token, KEY) == "p@ssw0rd-ü"


def test_each_seal_uses_a_fresh_nonce() -> None:
    assert seal("same", KEY) != seal("same", KEY)


def test_wrong_key_or_context_or_tampering_is_refused_without_leaking() -> None:
    token = seal("hunter2", KEY, context="linker-a")
    with pytest.raises(SealingError) as wrong_key:
        unseal(token, os.urandom(32), context="linker-a")
    with pytest.raises(SealingError):
        unseal(token, KEY, context="linker-b")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(SealingError):
        unseal(tampered, KEY, context="linker-a")
    assert "hunter2" not in str(wrong_key.value)
    assert unseal(token, KEY, context="linker-a") == "hunter2"


@pytest.mark.parametrize(
    "token", ["plain", "scv1.", "scv1.!!!", "scv1." + base64.urlsafe_b64encode(b"x").decode()]
)
def test_malformed_tokens_raise_sealing_error(token: str) -> None:
    with pytest.raises(SealingError):
        unseal(token, KEY)


def test_key_from_setting_accepts_the_sample_key_and_refuses_bad_ones() -> None:
    assert len(key_from_setting("ZGV2LW9ubHktc2VhbGluZy1rZXktMzItYnl0ZXMhISE=")) == 32
    with pytest.raises(SealingError):
        key_from_setting("not base64!")
    with pytest.raises(SealingError):
        key_from_setting(base64.b64encode(b"short").decode())
    with pytest.raises(SealingError):
        seal("x", b"short")


def test_a_token_sealed_for_one_linker_does_not_unseal_for_another() -> None:
    linker_a = (
        "/subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/C"
        "/providers/Microsoft.ServiceLinker/linkers/a"
    )
    linker_b = linker_a[:-1] + "b"
    token = seal("hunter2", KEY, context=linker_context(linker_a))
    with pytest.raises(SealedSecretMismatch):
        unseal(token, KEY, context=linker_context(linker_b))
    # ARM ids are case-insensitive: the same linker spelled in another case is the same context.
    assert unseal(token, KEY, context=linker_context(linker_a.upper())) == "hunter2"
