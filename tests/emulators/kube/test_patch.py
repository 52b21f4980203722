"""Merge, strategic merge, JSON patch and server-side apply."""

# mypy: disable-error-code="union-attr, index, arg-type, operator"
# (the kubernetes models declare every field Optional; these tests assert the emulator fills them)

from __future__ import annotations

import base64

from kubernetes import client

from .helpers import apply_secret, meta, raw_call, status_of

A, B, C = (base64.b64encode(v).decode() for v in (b"a", b"b", b"c"))


def _pod(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod(
        "apps",
        client.V1Pod(
            metadata=meta("p", labels={"app": "x"}),
            spec=client.V1PodSpec(
                containers=[
                    client.V1Container(name="app", image="app:1", env=[client.V1EnvVar(name="A", value="1")]),
                    client.V1Container(name="side", image="side:1"),
                ]
            ),
        ),
    )


def test_merge_patch_merges_maps_and_null_deletes(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(
        "apps", client.V1ConfigMap(metadata=meta("cm"), data={"a": "1", "b": "2"})
    )
    patched = core.patch_namespaced_config_map(
        "cm", "apps", {"data": {"b": None, "c": "3"}}, _content_type="application/merge-patch+json"
    )
    assert patched.data == {"a": "1", "c": "3"}


def test_strategic_merge_patch_merges_containers_by_name(core: client.CoreV1Api) -> None:
    _pod(core)
    patch = {
        "spec": {"containers": [{"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]}]}
    }
    patched = core.patch_namespaced_pod("p", "apps", patch)
    containers = {c.name: c for c in patched.spec.containers}
    assert set(containers) == {"app", "side"}
    assert containers["app"].image == "app:2"
    assert [(e.name, e.value) for e in containers["app"].env] == [("A", "1"), ("B", "2")]
    deleted = core.patch_namespaced_pod(
        "p", "apps", {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}
    )
    assert [c.name for c in deleted.spec.containers] == ["app"]


def test_merge_patch_replaces_lists_where_strategic_would_merge(core: client.CoreV1Api) -> None:
    _pod(core)
    patched = core.patch_namespaced_pod(
        "p",
        "apps",
        {"spec": {"containers": [{"name": "only", "image": "x"}]}},
        _content_type="application/merge-patch+json",
    )
    assert [c.name for c in patched.spec.containers] == ["only"]


def test_json_patch_operations_and_failed_test(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret(
        "apps", client.V1Secret(metadata=meta("s", labels={"a": "1"}), data={"x": A})
    )
    patched = core.patch_namespaced_secret(
        "s",
        "apps",
        [
            {"op": "test", "path": "/data/x", "value": A},
            {"op": "add", "path": "/data/y", "value": B},
            {"op": "replace", "path": "/data/x", "value": C},
            {"op": "remove", "path": "/metadata/labels/a"},
        ],
    )
    assert patched.data == {"x": C, "y": B}
    assert not patched.metadata.labels
    status = status_of(
        lambda: core.patch_namespaced_secret("s", "apps", [{"op": "test", "path": "/data/x", "value": A}])
    )
    assert (status["code"], status["reason"]) == (422, "Invalid")
    status = status_of(
        lambda: core.patch_namespaced_secret("s", "apps", [{"op": "remove", "path": "/data/zz"}])
    )
    assert status["code"] == 422


def test_patch_of_a_missing_object_is_not_found(core: client.CoreV1Api) -> None:
    assert (
        status_of(lambda: core.patch_namespaced_secret("nope", "apps", {"data": {}}))["reason"] == "NotFound"
    )


def test_patch_carrying_a_stale_resource_version_conflicts(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("apps", client.V1ConfigMap(metadata=meta("cm")))
    stale = {"metadata": {"resourceVersion": "1"}, "data": {"a": "1"}}
    assert status_of(lambda: core.patch_namespaced_config_map("cm", "apps", stale))["reason"] == "Conflict"


def test_apply_creates_then_updates(core: client.CoreV1Api) -> None:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": A}}
    created = core.patch_namespaced_secret_with_http_info(
        "s", "apps", body, field_manager="sc", _content_type="application/apply-patch+yaml"
    )
    assert created[1] == 201
    updated = apply_secret(core, "s", {"k": B})
    assert updated.data == {"k": B}
    assert int(updated.metadata.resource_version) > int(created[0].metadata.resource_version)
    assert [(m.manager, m.operation) for m in updated.metadata.managed_fields] == [("sc", "Apply")]


def test_apply_that_changes_nothing_keeps_the_resource_version(core: client.CoreV1Api) -> None:
    first = apply_secret(core, "s", {"k": A}, labels={"app": "x"})
    again = apply_secret(core, "s", {"k": A}, labels={"app": "x"})
    assert again.metadata.resource_version == first.metadata.resource_version
    assert again.metadata.managed_fields[0].time == first.metadata.managed_fields[0].time


def test_apply_removes_fields_the_manager_stopped_applying(core: client.CoreV1Api) -> None:
    apply_secret(core, "s", {"k": A, "old": B})
    core.patch_namespaced_secret("s", "apps", {"data": {"theirs": C}})  # another manager's field survives
    reapplied = apply_secret(core, "s", {"k": A})
    assert reapplied.data == {"k": A, "theirs": C}


def test_apply_conflicts_with_another_manager_unless_forced(core: client.CoreV1Api) -> None:
    apply_secret(core, "s", {"k": A}, manager="first")
    status = status_of(lambda: apply_secret(core, "s", {"k": B}, manager="second"))
    assert (status["code"], status["reason"]) == (409, "Conflict")
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "first": .data.k'
    forced = apply_secret(core, "s", {"k": B}, manager="second", force=True)
    assert forced.data == {"k": B}
    owners = {m.manager: m.fields_v1 for m in forced.metadata.managed_fields}
    assert owners == {"second": {"f:data": {"f:k": {}}}}


def test_apply_requires_a_field_manager(core: client.CoreV1Api) -> None:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
    status = status_of(
        lambda: core.patch_namespaced_secret("s", "apps", body, _content_type="application/apply-patch+yaml")
    )
    assert (status["code"], status["reason"]) == (422, "Invalid")
    assert "fieldManager: Required value: is required for apply patch" in status["message"]


def test_apply_into_a_missing_namespace_is_not_found(core: client.CoreV1Api) -> None:
    status = status_of(lambda: apply_secret(core, "s", {"k": A}, namespace="ghost"))
    assert status["message"] == 'namespaces "ghost" not found'


def test_apply_with_string_data_stores_base64(core: client.CoreV1Api) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"url": "https://x"},
    }
    applied = core.patch_namespaced_secret(
        "s", "apps", body, field_manager="sc", _content_type="application/apply-patch+yaml"
    )
    assert base64.b64decode(applied.data["url"]) == b"https://x"
    assert applied.type == "Opaque"


def test_custom_resources_refuse_strategic_merge(core: client.CoreV1Api) -> None:
    custom = client.CustomObjectsApi(core.api_client)
    args = ("secrets-store.csi.x-k8s.io", "v1", "apps", "secretproviderclasses")
    custom.create_namespaced_custom_object(
        *args,
        {
            "apiVersion": "secrets-store.csi.x-k8s.io/v1",
            "kind": "SecretProviderClass",
            "metadata": {"name": "kv"},
            "spec": {"provider": "azure"},
        },
    )
    status, body = raw_call(
        custom.api_client,
        "PATCH",
        "/apis/secrets-store.csi.x-k8s.io/v1/namespaces/apps/secretproviderclasses/kv",
        {"spec": {"provider": "x"}},
        "application/strategic-merge-patch+json",
    )
    assert (status, body["reason"]) == (415, "UnsupportedMediaType")


def test_json_patch_replaces_a_list_element_in_place(core: client.CoreV1Api) -> None:
    _pod(core)
    patched = core.patch_namespaced_pod(
        "p", "apps", [{"op": "replace", "path": "/spec/containers/0/image", "value": "app:9"}]
    )
    assert [(c.name, c.image) for c in patched.spec.containers] == [("app", "app:9"), ("side", "side:1")]
    moved = core.patch_namespaced_pod(
        "p", "apps", [{"op": "replace", "path": "/spec/containers/1", "value": {"name": "b", "image": "b:1"}}]
    )
    assert [c.name for c in moved.spec.containers] == ["app", "b"]
