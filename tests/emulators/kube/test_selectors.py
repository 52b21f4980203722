"""Label selectors of every operator, and field selectors, as `list_*` calls send them."""

# mypy: disable-error-code="union-attr, index, arg-type, operator"
# (the kubernetes models declare every field Optional; these tests assert the emulator fills them)

from __future__ import annotations

import json

import pytest
from kubernetes import client

from .helpers import meta, status_of

LABELS = {
    "a": {"app": "web", "tier": "front", "replicas": "3"},
    "b": {"app": "web", "tier": "back"},
    "c": {"app": "db"},
    "d": {},
}


@pytest.fixture
def labelled(core: client.CoreV1Api) -> client.CoreV1Api:
    for name, labels in LABELS.items():
        core.create_namespaced_config_map("apps", client.V1ConfigMap(metadata=meta(name, labels=labels)))
    return core


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["a", "b"]),
        ("app==web", ["a", "b"]),
        ("app!=web", ["c", "d"]),
        ("app=web,tier=back", ["b"]),
        ("tier in (front, back)", ["a", "b"]),
        ("app notin (web)", ["c", "d"]),
        ("tier", ["a", "b"]),
        ("!tier", ["c", "d"]),
        ("app in (web,db),!replicas", ["b", "c"]),
        ("replicas>2", ["a"]),
        ("replicas<2", []),
        ("", ["a", "b", "c", "d"]),
    ],
)
def test_label_selector_operators(labelled: client.CoreV1Api, selector: str, expected: list[str]) -> None:
    items = labelled.list_namespaced_config_map("apps", label_selector=selector).items
    assert [i.metadata.name for i in items] == expected


def test_list_items_carry_no_kind_and_list_kind_is_set(labelled: client.CoreV1Api) -> None:
    listed = labelled.api_client.call_api(
        *labelled.api_client.param_serialize(
            "GET",
            "/api/v1/namespaces/apps/configmaps",
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
    )
    body = json.loads(listed.read())
    assert body["kind"] == "ConfigMapList" and body["apiVersion"] == "v1"
    assert "kind" not in body["items"][0]


def test_selector_across_all_namespaces(labelled: client.CoreV1Api) -> None:
    labelled.create_namespace(client.V1Namespace(metadata=meta("other")))
    labelled.create_namespaced_config_map(
        "other", client.V1ConfigMap(metadata=meta("e", labels={"app": "web"}))
    )
    items = labelled.list_config_map_for_all_namespaces(label_selector="app=web").items
    assert sorted((i.metadata.namespace, i.metadata.name) for i in items) == [
        ("apps", "a"),
        ("apps", "b"),
        ("other", "e"),
    ]


def test_field_selectors(labelled: client.CoreV1Api) -> None:
    named = labelled.list_namespaced_config_map("apps", field_selector="metadata.name=c")
    assert [i.metadata.name for i in named.items] == ["c"]
    others = labelled.list_namespaced_config_map("apps", field_selector="metadata.name!=c")
    assert [i.metadata.name for i in others.items] == ["a", "b", "d"]
    labelled.create_namespaced_secret("apps", client.V1Secret(metadata=meta("h"), type="helm.sh/release.v1"))
    helm = labelled.list_namespaced_secret("apps", field_selector="type=helm.sh/release.v1")
    assert [i.metadata.name for i in helm.items] == ["h"]


@pytest.mark.parametrize("selector", ["app in web", "app=(x", "a b", "app=web,"])
def test_malformed_label_selectors_are_bad_requests(labelled: client.CoreV1Api, selector: str) -> None:
    status = status_of(lambda: labelled.list_namespaced_config_map("apps", label_selector=selector))
    assert (status["code"], status["reason"]) == (400, "BadRequest")
    assert status["message"].startswith("unable to parse requirement")


def test_unsupported_field_selector_is_a_bad_request(labelled: client.CoreV1Api) -> None:
    status = status_of(lambda: labelled.list_namespaced_config_map("apps", field_selector="data.x=1"))
    assert status["message"] == "field label not supported: data.x"
