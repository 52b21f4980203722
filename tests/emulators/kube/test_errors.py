"""Status errors with the API server's reasons and messages, authentication, and validation."""

# mypy: disable-error-code="union-attr, index, arg-type, operator"
# (the kubernetes models declare every field Optional; these tests assert the emulator fills them)

from __future__ import annotations

import base64

import pytest
from kubernetes import client

from emulators.kube import kubeconfig
from tests.fixtures.kube import KubeHarness, api_client_from_kubeconfig

from .helpers import meta, namespace_names, raw_call, status_of


def test_creating_into_a_missing_namespace_is_not_found(core: client.CoreV1Api) -> None:
    status = status_of(lambda: core.create_namespaced_secret("ghost", client.V1Secret(metadata=meta("s"))))
    assert status["reason"] == "NotFound"
    assert status["message"] == 'namespaces "ghost" not found'
    assert status["details"] == {"name": "ghost", "kind": "namespaces"}


def test_duplicate_create_is_already_exists(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("apps", client.V1Secret(metadata=meta("s1")))
    status = status_of(lambda: core.create_namespaced_secret("apps", client.V1Secret(metadata=meta("s1"))))
    assert (status["reason"], status["code"]) == ("AlreadyExists", 409)
    assert status["message"] == 'secrets "s1" already exists'


def test_replace_with_a_stale_resource_version_is_a_conflict(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("apps", client.V1ConfigMap(metadata=meta("cm"), data={"a": "1"}))
    first = core.read_namespaced_config_map("cm", "apps")
    second = core.read_namespaced_config_map("cm", "apps")
    first.data["a"] = "2"
    core.replace_namespaced_config_map("cm", "apps", first)
    second.data["a"] = "3"
    status = status_of(lambda: core.replace_namespaced_config_map("cm", "apps", second))
    assert (status["reason"], status["code"]) == ("Conflict", 409)
    assert status["message"] == (
        'Operation cannot be fulfilled on configmaps "cm": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert core.read_namespaced_config_map("cm", "apps").data == {"a": "2"}


def test_replace_of_a_missing_object_is_not_found(core: client.CoreV1Api) -> None:
    status = status_of(
        lambda: core.replace_namespaced_secret("nope", "apps", client.V1Secret(metadata=meta("nope")))
    )
    assert status["reason"] == "NotFound"


def test_delete_of_a_missing_object_is_not_found(core: client.CoreV1Api) -> None:
    status = status_of(lambda: core.delete_namespaced_secret("nope", "apps"))
    assert (status["reason"], status["message"]) == ("NotFound", 'secrets "nope" not found')


def test_delete_with_a_stale_precondition_is_a_conflict(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("apps", client.V1Secret(metadata=meta("s")))
    options = client.V1DeleteOptions(preconditions=client.V1Preconditions(resource_version="1"))
    status = status_of(lambda: core.delete_namespaced_secret("s", "apps", body=options))
    assert status["reason"] == "Conflict" and "Precondition failed" in status["message"]
    core.read_namespaced_secret("s", "apps")


@pytest.mark.parametrize("name", ["Bad_Name", "-lead", "trail-", "a" * 254])
def test_names_must_be_dns_subdomains(core: client.CoreV1Api, name: str) -> None:
    status = status_of(lambda: core.create_namespaced_secret("apps", client.V1Secret(metadata=meta(name))))
    assert (status["reason"], status["code"]) == ("Invalid", 422)
    assert status["message"].startswith(
        f'Secret "{name}" is invalid: metadata.name: Invalid value: "{name}": '
    )
    assert status["details"]["causes"][0]["field"] == "metadata.name"


def test_dotted_names_are_fine_for_secrets_but_not_namespaces(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("apps", client.V1Secret(metadata=meta("sh.helm.release.v1.x.v1")))
    status = status_of(lambda: core.create_namespace(client.V1Namespace(metadata=meta("a.b"))))
    assert status["message"].startswith(
        'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label must '
    )


def test_missing_name_is_required(core: client.CoreV1Api) -> None:
    status = status_of(
        lambda: core.create_namespaced_config_map("apps", client.V1ConfigMap(metadata=meta("")))
    )
    assert status["message"] == (
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    )


def test_secret_data_must_be_base64(core: client.CoreV1Api) -> None:
    bad = client.V1Secret(metadata=meta("s"), data={"k": "not base64!"})
    status = status_of(lambda: core.create_namespaced_secret("apps", bad))
    # The real API server fails to decode the body, so this is a BadRequest rather than Invalid.
    assert (status["reason"], status["code"]) == ("BadRequest", 400)
    assert "illegal base64 data at input byte 3" in status["message"]


def test_secret_keys_and_label_values_are_validated(core: client.CoreV1Api) -> None:
    bad_key = client.V1Secret(metadata=meta("s"), data={"bad key": base64.b64encode(b"x").decode()})
    status = status_of(lambda: core.create_namespaced_secret("apps", bad_key))
    assert status["reason"] == "Invalid" and "data[bad key]" in status["message"]
    bad_label = client.V1ConfigMap(metadata=meta("c", labels={"app": "no spaces"}))
    status = status_of(lambda: core.create_namespaced_config_map("apps", bad_label))
    assert status["reason"] == "Invalid" and "metadata.labels" in status["message"]


def test_secret_type_is_immutable(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("apps", client.V1Secret(metadata=meta("s"), type="helm.sh/release.v1"))
    current = core.read_namespaced_secret("s", "apps")
    current.type = "Opaque"
    status = status_of(lambda: core.replace_namespaced_secret("s", "apps", current))
    assert status["message"] == 'Secret "s" is invalid: type: Invalid value: "Opaque": field is immutable'


def test_body_namespace_must_match_the_url(core: client.CoreV1Api) -> None:
    core.create_namespace(client.V1Namespace(metadata=meta("other")))
    body = client.V1Secret(metadata=meta("s", namespace="other"))
    status = status_of(lambda: core.create_namespaced_secret("apps", body))
    assert status["reason"] == "BadRequest"
    assert "does not match the namespace sent on the request" in status["message"]


def test_wrong_or_missing_token_is_unauthorized(kube: KubeHarness) -> None:
    info = kube.cluster("c1")
    wrong = dict(info, token="not-the-token")
    api = client.CoreV1Api(api_client_from_kubeconfig(kubeconfig("c1", wrong)))
    status = status_of(api.list_namespace)
    assert (status["reason"], status["code"], status["message"]) == ("Unauthorized", 401, "Unauthorized")
    configuration = client.Configuration(host=info["server"])
    configuration.ssl_ca_cert = kube.emulator.ca_file
    anonymous = client.CoreV1Api(client.ApiClient(configuration))
    assert status_of(anonymous.list_namespace)["reason"] == "Unauthorized"
    api.api_client.close()
    anonymous.api_client.close()


def test_each_cluster_has_its_own_token_and_objects(kube: KubeHarness) -> None:
    one = client.CoreV1Api(kube.client_for("one"))
    two = client.CoreV1Api(kube.client_for("two"))
    one.create_namespace(client.V1Namespace(metadata=meta("only-in-one")))
    assert "only-in-one" not in namespace_names(two)
    borrowed = dict(kube.cluster("two"), token=kube.cluster("one")["token"])
    intruder = client.CoreV1Api(api_client_from_kubeconfig(kubeconfig("two", borrowed)))
    assert status_of(intruder.list_namespace)["reason"] == "Unauthorized"
    intruder.api_client.close()


def test_unknown_paths_are_not_found_after_authentication(kube: KubeHarness) -> None:
    status, body = raw_call(kube.client_for("c1"), "GET", "/api/v1/namespaces/x/widgets")
    assert (status, body["reason"]) == (404, "NotFound")
    assert body["message"] == "the server could not find the requested resource"
    status, body = raw_call(kube.client_for("c1"), "POST", "/api/v1/namespaces/x/secrets/s")
    assert (status, body["reason"]) == (405, "MethodNotAllowed")


def test_system_namespaces_cannot_be_deleted(core: client.CoreV1Api) -> None:
    status = status_of(lambda: core.delete_namespace("kube-system"))
    assert (status["code"], status["reason"]) == (403, "Forbidden")
    assert status["message"] == 'namespaces "kube-system" is forbidden: this namespace may not be deleted'


def test_apply_without_kind_is_a_bad_request_that_does_not_echo_the_body(core: client.CoreV1Api) -> None:
    body = {"apiVersion": "v1", "metadata": {"name": "s"}, "data": {"password": "c2VjcmV0"}}
    status = status_of(
        lambda: core.patch_namespaced_secret(
            "s", "apps", body, field_manager="sc", _content_type="application/apply-patch+yaml"
        )
    )
    assert status["reason"] == "BadRequest" and "c2VjcmV0" not in status["message"]


def test_secrets_are_limited_to_one_mebibyte(core: client.CoreV1Api) -> None:
    big = base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()
    status = status_of(
        lambda: core.create_namespaced_secret("apps", client.V1Secret(metadata=meta("big"), data={"k": big}))
    )
    assert status["message"] == 'Secret "big" is invalid: data: Too long: must have at most 1048576 bytes'


def test_malformed_apply_yaml_is_a_bad_request_that_does_not_echo_the_body(core: client.CoreV1Api) -> None:
    body = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2: x\n"
    status, answer = raw_call(
        core.api_client,
        "PATCH",
        "/api/v1/namespaces/apps/secrets/s?fieldManager=sc",
        body,
        "application/apply-patch+yaml",
    )
    assert (status, answer["reason"]) == (400, "BadRequest")
    assert "hunter2" not in answer["message"]
    assert "yaml: line 6: mapping values are not allowed here" in answer["message"]
