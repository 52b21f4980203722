"""Seal and unseal secrets that arrive in requests (AES-256-GCM).

A raw secret from a request (a database password, a service principal secret) is sealed by the HTTP trigger
before it is stored or handed to an orchestration; only the activity that writes the Kubernetes Secret
unseals it.

Token format: ``scv1.<base64url(nonce || ciphertext+tag)>`` with a fresh 96-bit random nonce per seal. The
``context`` is bound as associated data: the product seals with `linker_context(linker id)`, so a token copied
onto another linker does not unseal there (`SealedSecretMismatch`).
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_PREFIX = "scv1."
_NONCE_BYTES = 12
_KEY_BYTES = 32


class SealingError(ValueError):
    """A token could not be unsealed or a key is unusable; the message never contains secret material."""


class SealedSecretMismatch(SealingError):
    """A well-formed token that was sealed for another context (linker) or with another key."""


def linker_context(linker_id: str) -> str:
    """The sealing context of a linker's secrets: its id, lower-cased (ARM ids are case-insensitive)."""
    return linker_id.lower()


def key_from_setting(value: str) -> bytes:
    """Decode the base64 SECRET_SEALING_KEY setting into a 32-byte key."""
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SealingError("SECRET_SEALING_KEY is not valid base64") from exc
    _check_key(key)
    return key


def is_sealed(value: str) -> bool:
    """Whether a string looks like a token produced by `seal`."""
    return value.startswith(TOKEN_PREFIX)


def seal(plaintext: str, key: bytes, *, context: str = "") -> str:
    """Encrypt plaintext into an opaque, URL-safe token."""
    _check_key(key)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(token: str, key: bytes, *, context: str = "") -> str:
    """Decrypt a token made by `seal` with the same key and context."""
    _check_key(key)
    if not is_sealed(token):
        raise SealingError("not a sealed token")
    try:
        raw = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise SealingError("sealed token is malformed") from exc
    if len(raw) < _NONCE_BYTES + 16:
        raise SealingError("sealed token is too short")
    try:
        plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode("utf-8"))
    except InvalidTag as exc:
        # Wrong key, wrong context or a tampered token: indistinguishable by design.
        raise SealedSecretMismatch("sealed token does not match the sealing key or context") from exc
    return plain.decode("utf-8")


def _check_key(key: bytes) -> None:
    if len(key) != _KEY_BYTES:
        raise SealingError(f"sealing key must be {_KEY_BYTES} bytes, got {len(key)}")
