"""The validator every e2e answer goes through: Azure's own answer passes, a broken one is named precisely."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.test_linker_shapes import LINKER_ID, RECORDED_SECRET_LINKER
from tests.contract.traffic import OavValidator, TrafficRecorder, describe, exemption

URL = f"https://127.0.0.1:7071{LINKER_ID}?api-version=2024-07-01-preview"


@pytest.fixture(scope="module")
def validator() -> Iterator[OavValidator]:
    """One oav process for this module."""
    running = OavValidator()
    try:
        yield running
    finally:
        running.close()


def _judge(validator: OavValidator, url: str, status: int, body: Any) -> list[dict[str, Any]]:
    recorder = TrafficRecorder()
    recorder.record("GET", url, None, status, {"Content-Type": "application/json"}, body)
    return validator.issues(recorder.take())


def test_the_answer_azure_gave_passes(validator: OavValidator) -> None:
    assert _judge(validator, URL, 200, RECORDED_SECRET_LINKER) == []


def test_a_property_outside_the_schema_is_named_with_its_path_and_rule(validator: OavValidator) -> None:
    broken = copy.deepcopy(RECORDED_SECRET_LINKER)
    broken["properties"]["lastError"] = {"code": "X"}
    broken["properties"]["authInfo"]["secretInfo"]["secretType"] = 7

    issues = _judge(validator, URL, 200, broken)

    found = {(i["operationId"], tuple(i["paths"]), i["code"]) for i in issues}
    assert ("Linker_Get", ("/properties/lastError",), "OBJECT_ADDITIONAL_PROPERTIES") in found
    assert any(i["code"] == "INVALID_TYPE" for i in issues), issues
    assert "Linker_Get 200: /properties/lastError breaks OBJECT_ADDITIONAL_PROPERTIES" in describe(issues)


def test_an_error_answer_is_judged_against_the_error_response(validator: OavValidator) -> None:
    good = {"error": {"code": "ResourceNotFound", "message": "gone", "target": None, "details": []}}
    bad = {"error": {"code": "ResourceNotFound", "message": "gone", "hint": "not ARM's"}}

    assert _judge(validator, URL, 404, good) == []
    assert [i["paths"] for i in _judge(validator, URL, 404, bad)] == [["/error/hint"]]


def test_an_error_at_an_unpublished_api_version_is_still_judged(validator: OavValidator) -> None:
    url = URL.replace("2024-07-01-preview", "2099-01-01")
    bad = {"error": {"code": "InvalidApiVersionParameter", "message": "no", "extra": 1}}

    assert [i["paths"] for i in _judge(validator, url, 400, bad)] == [["/error/extra"]]


def test_what_the_spec_does_not_describe_is_exempt_by_name() -> None:
    status_url = "/subscriptions/s/providers/Microsoft.ServiceLinker/locations/local/operationStatuses/o"
    assert exemption(status_url) is not None
    assert exemption("/api/health") is not None
    assert exemption(f"{LINKER_ID}?api-version=2022-05-01") is None
    assert exemption(f"{LINKER_ID}?api-version=2022-05-01", 401, None) is not None  # the host's key check
