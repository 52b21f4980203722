"""Secret values never show: not in repr, str, JSON dumps, emitted bodies, stored forms or error bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector.model import Connection, secret_fingerprint
from connector.validation import RequestValidationError
from connector.wire import parse_linker, to_linker_body

from .conftest import IDENTITY_CLIENT_ID, IDENTITY_PRINCIPAL_ID, LINKER_ID, RAW_PASSWORD, SECRET_BODY, body

SEAL_KEY = b"k" * 32


def _raw_value_body(password: str = RAW_PASSWORD) -> dict[str, Any]:
    request = body(SECRET_BODY)
    request["properties"]["authInfo"] = {
        "authType": "secret",
        "name": "dbuser",
        "secretInfo": {"secretType": "rawValue", "value": password},
    }
    return request


def _service_principal_body() -> dict[str, Any]:
    request = body(SECRET_BODY)
    request["properties"]["authInfo"] = {
        "authType": "servicePrincipalSecret",
        "clientId": IDENTITY_CLIENT_ID,
        "principalId": IDENTITY_PRINCIPAL_ID,
        "secret": RAW_PASSWORD,
    }
    return request


def _renderings(connection: Connection) -> list[str]:
    return [
        repr(connection),
        str(connection),
        repr(connection.auth),
        connection.model_dump_json(),
        json.dumps(connection.model_dump(mode="json")),
        json.dumps(to_linker_body(connection, "2024-04-01")),
        json.dumps(to_linker_body(connection, "2022-05-01")),
        json.dumps(connection.desired_state()),
        connection.desired_hash(),
    ]


@pytest.mark.parametrize(
    "make_body", [_raw_value_body, _service_principal_body], ids=["rawValue", "servicePrincipal"]
)
def test_a_secret_from_the_request_is_held_but_never_rendered(make_body: Any) -> None:
    connection = parse_linker(LINKER_ID, make_body(), "2024-04-01")

    assert connection.raw_secret() is not None
    assert connection.raw_secret().get_secret_value() == RAW_PASSWORD  # type: ignore[union-attr]
    for text in _renderings(connection):
        assert RAW_PASSWORD not in text


@pytest.mark.parametrize(
    "make_body", [_raw_value_body, _service_principal_body], ids=["rawValue", "servicePrincipal"]
)
def test_sealing_replaces_the_secret_by_a_token_and_only_then_can_it_be_stored(make_body: Any) -> None:
    connection = parse_linker(LINKER_ID, make_body(), "2024-04-01")
    with pytest.raises(ValueError, match="seal"):
        connection.to_stored()

    sealed = connection.with_sealed_secret("sealed-token-1", secret_fingerprint(RAW_PASSWORD, SEAL_KEY))

    assert sealed.raw_secret() is None
    assert not sealed.needs_sealing
    assert sealed.sealed_secret == "sealed-token-1"
    stored = sealed.to_stored()
    assert RAW_PASSWORD not in json.dumps(stored)
    assert Connection.from_stored(json.loads(json.dumps(stored))) == sealed
    # The token is ciphertext, but logs have no use for it either.
    assert "sealed-token-1" not in repr(sealed)
    assert "sealed-token-1" not in json.dumps(sealed.desired_state())


def test_connections_without_a_request_secret_cannot_be_sealed() -> None:
    auto = parse_linker(LINKER_ID, body(SECRET_BODY), "2024-04-01")
    assert not auto.needs_sealing
    with pytest.raises(ValueError):
        auto.with_sealed_secret("t", "f")
    assert auto.to_stored()["auth"]["kind"] == "auto"


def test_desired_hash_ignores_the_token_and_state_but_sees_a_changed_password_and_fields() -> None:
    connection = parse_linker(LINKER_ID, _raw_value_body(), "2024-04-01")
    fingerprint = secret_fingerprint(RAW_PASSWORD, SEAL_KEY)
    first = connection.with_sealed_secret("token-a", fingerprint)
    resealed = connection.with_sealed_secret("token-b", fingerprint).with_provisioning_state("Succeeded")
    other_password = parse_linker(LINKER_ID, _raw_value_body("another"), "2024-04-01").with_sealed_secret(
        "token-c", secret_fingerprint("another", SEAL_KEY)
    )
    moved = first.model_copy(update={"namespace": "apps"})

    assert first.desired_hash() == resealed.desired_hash()
    assert first.desired_hash() != other_password.desired_hash()
    assert first.desired_hash() != moved.desired_hash()


def test_fingerprints_are_keyed_and_do_not_contain_the_secret() -> None:
    fingerprint = secret_fingerprint(RAW_PASSWORD, SEAL_KEY)
    assert RAW_PASSWORD not in fingerprint
    assert fingerprint == secret_fingerprint(RAW_PASSWORD, SEAL_KEY)
    assert fingerprint != secret_fingerprint(RAW_PASSWORD, b"x" * 32)


def test_a_refused_request_does_not_echo_its_secret() -> None:
    request = _service_principal_body()
    request["properties"]["authInfo"]["principalId"] = RAW_PASSWORD  # a secret pasted in the wrong field

    with pytest.raises(RequestValidationError) as refused:
        parse_linker(LINKER_ID, request, "2024-04-01")

    # Values of authInfo fields are never echoed: someone may have pasted a secret into the wrong one.
    assert refused.value.target == "properties.authInfo.principalId"
    assert RAW_PASSWORD not in json.dumps(refused.value.to_arm_body())
    request = _raw_value_body()
    request["properties"]["clientType"] = "cobol"
    with pytest.raises(RequestValidationError) as refused:
        parse_linker(LINKER_ID, request, "2024-04-01")
    assert RAW_PASSWORD not in json.dumps(refused.value.to_arm_body())
    assert RAW_PASSWORD not in str(refused.value)
