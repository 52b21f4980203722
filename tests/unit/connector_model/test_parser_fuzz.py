"""Whatever a request holds, the parser answers with a Connection or a RequestValidationError, only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.model import Connection
from connector.validation import ALL_CODES, RequestValidationError
from connector.wire import parse_linker, parse_patch, to_linker_body

from .conftest import (
    IDENTITY_CLIENT_ID,
    KEYVAULT_ID,
    LINKER_ID,
    RAW_PASSWORD,
    SECRET_BODY,
    WORKLOAD_IDENTITY_BODY,
    body,
)

pytestmark = pytest.mark.slow  # thousands of examples: about 20 s in all

HUGE = "x" * 50_000


def _valid_bodies() -> list[dict[str, Any]]:
    raw_value = body(SECRET_BODY)
    raw_value["properties"]["authInfo"] = {
        "authType": "secret",
        "name": "dbuser",
        "secretInfo": {"secretType": "rawValue", "value": RAW_PASSWORD},
    }
    kv_reference = body(SECRET_BODY)
    kv_reference["properties"]["authInfo"] = {
        "authType": "secret",
        "secretInfo": {"secretType": "keyVaultSecretReference", "name": "pw", "version": "1"},
    }
    kv_reference["properties"]["secretStore"] = {"keyVaultId": KEYVAULT_ID}
    service_principal = body(SECRET_BODY)
    service_principal["properties"]["authInfo"] = {
        "authType": "servicePrincipalSecret",
        "clientId": IDENTITY_CLIENT_ID,
        "principalId": IDENTITY_CLIENT_ID,
        "secret": RAW_PASSWORD,
    }
    csi = body(WORKLOAD_IDENTITY_BODY)
    csi["properties"]["targetService"] = {
        "type": "AzureResource",
        "id": KEYVAULT_ID,
        "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": True},
    }
    csi["properties"]["authInfo"] = {"authType": "userAssignedIdentity"}
    customized = body(WORKLOAD_IDENTITY_BODY)
    customized["properties"]["configurationInfo"] = {
        "customizedKeys": {"AZURE_STORAGEBLOB_CLIENTID": "CID"},
        "deleteOrUpdateBehavior": "ForcedCleanup",
    }
    return [
        body(WORKLOAD_IDENTITY_BODY),
        body(SECRET_BODY),
        raw_value,
        kv_reference,
        service_principal,
        csi,
        customized,
    ]


VALID_BODIES = _valid_bodies()
INTERESTING_STRINGS = [
    "",
    " ",
    "default",
    "userAssignedIdentity",
    "secret",
    "servicePrincipalSecret",
    "rawValue",
    "keyVaultSecretReference",
    "KeyVault",
    "AppConfig",
    "AzureResource",
    "python",
    "Default",
    "ForcedCleanup",
    IDENTITY_CLIENT_ID,
    KEYVAULT_ID,
    "/subscriptions//resourceGroups//providers//",
    "\x00",
    "ü-名前",
    HUGE,
]

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from(INTERESTING_STRINGS),
)
json_values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """A copy of `value` with a few random changes: replaced, deleted, nulled, retyped or wrapped fields."""
    if isinstance(value, dict) and value and depth < 6:
        result = dict(value)
        for _ in range(draw(st.integers(1, 3))):
            if not result:
                break
            key = draw(st.sampled_from(sorted(result)))
            operation = draw(
                st.sampled_from(["recurse", "recurse", "delete", "replace", "null", "wrap", "add"])
            )
            if operation == "recurse":
                result[key] = draw(mutated(result[key], depth + 1))
            elif operation == "delete":
                del result[key]
            elif operation == "replace":
                result[key] = draw(json_values)
            elif operation == "null":
                result[key] = None
            elif operation == "wrap":
                result[key] = [result[key]]
            else:
                result[draw(st.text(max_size=12))] = draw(json_values)
        return result
    if draw(st.booleans()):
        return value
    return draw(json_values)


linker_ids = st.one_of(
    st.just(LINKER_ID),
    st.sampled_from(
        [
            LINKER_ID.replace("testconn", "test-conn"),
            LINKER_ID.upper(),
            LINKER_ID + "/extra",
            LINKER_ID.replace("testconn", ""),
            LINKER_ID.replace("testconn", HUGE),
            "",
        ]
    ),
    st.text(max_size=80),
    st.text(max_size=30).map(lambda name: LINKER_ID.rsplit("/", 1)[0] + "/" + name),
)
api_versions = st.sampled_from(["2024-04-01", "2022-05-01", "2023-04-01-preview", "", "2024-04-01 "])


def _check_outcome(call: Any) -> Connection | None:
    try:
        result = call()
    except RequestValidationError as error:
        arm = error.to_arm_body()
        json.dumps(arm)  # the error body is always JSON
        assert arm["error"]["code"] in ALL_CODES
        assert all(detail["code"] in ALL_CODES for detail in arm["error"]["details"])
        assert RAW_PASSWORD not in json.dumps(arm)
        assert len(json.dumps(arm)) < 20_000  # huge input is never echoed back whole
        return None
    assert isinstance(result, Connection)
    emitted = json.dumps(to_linker_body(result, "2024-04-01"))
    assert RAW_PASSWORD not in emitted
    return result


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_valid_bodies_give_a_connection_or_a_validation_error(data: st.DataObject) -> None:
    start = data.draw(st.sampled_from(VALID_BODIES))
    request = data.draw(mutated(start))
    api_version = data.draw(api_versions)
    _check_outcome(lambda: parse_linker(LINKER_ID, request, api_version))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linker_id=linker_ids, request=json_values, api_version=api_versions)
def test_random_json_and_ids_give_a_connection_or_a_validation_error(
    linker_id: Any, request: Any, api_version: Any
) -> None:
    _check_outcome(lambda: parse_linker(linker_id, request, api_version))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_patches_give_a_connection_or_a_validation_error(data: st.DataObject) -> None:
    existing = parse_linker(LINKER_ID, data.draw(st.sampled_from(VALID_BODIES)), "2024-04-01")
    patch = data.draw(mutated(data.draw(st.sampled_from(VALID_BODIES))))
    api_version = data.draw(api_versions)
    _check_outcome(lambda: parse_patch(existing, patch, api_version))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_bodies_that_parse_round_trip_through_the_emitted_form(data: st.DataObject) -> None:
    request = data.draw(mutated(data.draw(st.sampled_from(VALID_BODIES))))
    parsed = _check_outcome(lambda: parse_linker(LINKER_ID, request, "2024-04-01"))
    if parsed is None:
        return
    again = parse_linker(LINKER_ID, to_linker_body(parsed, "2024-04-01"), "2024-04-01", existing=parsed)
    assert again == parsed
