"""Create, read, list, replace and delete of every served kind, through the real kubernetes client."""

# mypy: disable-error-code="union-attr, index, arg-type, operator"
# (the kubernetes models declare every field Optional; these tests assert the emulator fills them)

from __future__ import annotations

import base64

from kubernetes import client

from tests.fixtures.kube import KubeHarness

from .helpers import BUILT_IN_NAMESPACES, meta, namespace_names, status_of


def test_a_new_cluster_has_the_built_in_namespaces(kube: KubeHarness) -> None:
    core = client.CoreV1Api(kube.client_for("fresh"))
    assert namespace_names(core) == BUILT_IN_NAMESPACES
    core.create_namespaced_secret("default", client.V1Secret(metadata=meta("s")))
    assert core.read_namespace("kube-system").status.phase == "Active"


def test_namespace_lifecycle_and_cluster_scoped_list(core: client.CoreV1Api) -> None:
    ns = core.read_namespace("apps")
    assert ns.status.phase == "Active"
    assert ns.metadata.labels["kubernetes.io/metadata.name"] == "apps"
    core.create_namespace(client.V1Namespace(metadata=meta("other")))
    assert namespace_names(core) == sorted([*BUILT_IN_NAMESPACES, "apps", "other"])
    core.delete_namespace("other")
    assert status_of(lambda: core.read_namespace("other"))["reason"] == "NotFound"


def test_deleting_a_namespace_deletes_what_is_in_it(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("apps", client.V1ConfigMap(metadata=meta("cm"), data={"a": "1"}))
    core.delete_namespace("apps")
    core.create_namespace(client.V1Namespace(metadata=meta("apps")))
    assert core.list_namespaced_config_map("apps").items == []


def test_secret_crud_with_uid_resource_version_and_timestamp(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_secret(
        "apps", client.V1Secret(metadata=meta("s1"), data={"k": base64.b64encode(b"v").decode()})
    )
    assert created.type == "Opaque"
    assert len(created.metadata.uid) == 36
    assert created.metadata.creation_timestamp is not None
    read = core.read_namespaced_secret("s1", "apps")
    assert base64.b64decode(read.data["k"]) == b"v"
    assert read.metadata.resource_version == created.metadata.resource_version
    read.data["k"] = base64.b64encode(b"w").decode()
    replaced = core.replace_namespaced_secret("s1", "apps", read)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert replaced.metadata.uid == created.metadata.uid
    deleted = core.delete_namespaced_secret("s1", "apps")
    assert deleted["status"] == "Success"
    assert status_of(lambda: core.read_namespaced_secret("s1", "apps"))["message"] == 'secrets "s1" not found'


def test_string_data_is_merged_into_data_as_base64(core: client.CoreV1Api) -> None:
    secret = core.create_namespaced_secret(
        "apps", client.V1Secret(metadata=meta("s"), data={"a": "YQ=="}, string_data={"b": "plain"})
    )
    assert secret.data == {"a": "YQ==", "b": base64.b64encode(b"plain").decode()}
    assert secret.string_data is None


def test_resource_versions_increase_across_kinds(core: client.CoreV1Api) -> None:
    versions = [
        int(
            core.create_namespaced_config_map(
                "apps", client.V1ConfigMap(metadata=meta("a"))
            ).metadata.resource_version
        ),
        int(
            core.create_namespaced_service_account(
                "apps", client.V1ServiceAccount(metadata=meta("b"))
            ).metadata.resource_version
        ),
        int(
            core.create_namespaced_secret(
                "apps", client.V1Secret(metadata=meta("c"))
            ).metadata.resource_version
        ),
    ]
    assert versions == sorted(versions) and len(set(versions)) == 3
    listed = core.list_namespaced_secret("apps")
    assert listed.metadata.resource_version == str(versions[-1])


def test_service_account_and_config_map_round_trip(core: client.CoreV1Api) -> None:
    sa = client.V1ServiceAccount(
        metadata=meta("wl", annotations={"azure.workload.identity/client-id": "cid"})
    )
    core.create_namespaced_service_account("apps", sa)
    assert core.read_namespaced_service_account("wl", "apps").metadata.annotations == {
        "azure.workload.identity/client-id": "cid"
    }
    core.create_namespaced_config_map("apps", client.V1ConfigMap(metadata=meta("cm"), data={"x": "1"}))
    cm = core.read_namespaced_config_map("cm", "apps")
    cm.data["y"] = "2"
    assert core.replace_namespaced_config_map("cm", "apps", cm).data == {"x": "1", "y": "2"}
    core.delete_namespaced_service_account("wl", "apps")
    assert core.list_namespaced_service_account("apps").items == []


def test_pods_start_pending_and_keep_status_on_update(core: client.CoreV1Api) -> None:
    pod = client.V1Pod(
        metadata=meta("p"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
        status=client.V1PodStatus(phase="Running"),
    )
    created = core.create_namespaced_pod("apps", pod)
    assert created.status.phase == "Pending"  # status comes from the server, not the client
    assert created.metadata.generation == 1
    assert core.read_namespaced_pod_status("p", "apps").status.phase == "Pending"


def test_jobs_track_generation_when_spec_changes(core: client.CoreV1Api, harness: object) -> None:
    batch = client.BatchV1Api(core.api_client)
    template = client.V1PodTemplateSpec(
        spec=client.V1PodSpec(
            restart_policy="Never", containers=[client.V1Container(name="c", image="busybox")]
        )
    )
    job = batch.create_namespaced_job(
        "apps", client.V1Job(metadata=meta("j"), spec=client.V1JobSpec(template=template, backoff_limit=1))
    )
    assert job.metadata.generation == 1
    relabelled = batch.patch_namespaced_job("j", "apps", {"metadata": {"labels": {"a": "b"}}})
    assert relabelled.metadata.generation == 1
    changed = batch.patch_namespaced_job("j", "apps", {"spec": {"backoffLimit": 3}})
    assert changed.metadata.generation == 2
    assert batch.list_namespaced_job("apps").items[0].spec.backoff_limit == 3
    assert (
        status_of(lambda: batch.read_namespaced_job("nope", "apps"))["message"]
        == 'jobs.batch "nope" not found'
    )
    batch.delete_namespaced_job("j", "apps")
    assert batch.list_job_for_all_namespaces().items == []


def test_events_list_by_involved_object(core: client.CoreV1Api) -> None:
    for name, pod in (("e1", "p1"), ("e2", "p2")):
        core.create_namespaced_event(
            "apps",
            client.CoreV1Event(
                metadata=meta(name),
                involved_object=client.V1ObjectReference(kind="Pod", name=pod, namespace="apps"),
                reason="BackOff",
                message="Back-off restarting failed container",
                type="Warning",
            ),
        )
    events = core.list_namespaced_event("apps", field_selector="involvedObject.name=p2")
    assert [e.metadata.name for e in events.items] == ["e2"]


def test_secret_provider_class_as_a_custom_object(core: client.CoreV1Api) -> None:
    custom = client.CustomObjectsApi(core.api_client)
    group, version, plural = "secrets-store.csi.x-k8s.io", "v1", "secretproviderclasses"
    body = {
        "apiVersion": f"{group}/{version}",
        "kind": "SecretProviderClass",
        "metadata": {"name": "kv"},
        "spec": {"provider": "azure", "parameters": {"keyvaultName": "kv1"}},
    }
    custom.create_namespaced_custom_object(group, version, "apps", plural, body)
    patched = custom.patch_namespaced_custom_object(
        group, version, "apps", plural, "kv", {"spec": {"parameters": {"tenantId": "t"}}}
    )
    assert patched["spec"]["parameters"] == {"keyvaultName": "kv1", "tenantId": "t"}
    assert patched["metadata"]["generation"] == 2
    listed = custom.list_namespaced_custom_object(group, version, "apps", plural)
    assert listed["kind"] == "SecretProviderClassList" and len(listed["items"]) == 1
    custom.delete_namespaced_custom_object(group, version, "apps", plural, "kv")
    assert custom.list_namespaced_custom_object(group, version, "apps", plural)["items"] == []


def test_list_pages_with_limit_and_continue(core: client.CoreV1Api) -> None:
    for i in range(5):
        core.create_namespaced_config_map("apps", client.V1ConfigMap(metadata=meta(f"cm{i}")))
    first = core.list_namespaced_config_map("apps", limit=2)
    assert [c.metadata.name for c in first.items] == ["cm0", "cm1"]
    assert first.metadata.remaining_item_count == 3
    rest = core.list_namespaced_config_map("apps", limit=10, _continue=first.metadata._continue)
    assert [c.metadata.name for c in rest.items] == ["cm2", "cm3", "cm4"]
    assert rest.metadata._continue is None


def test_generate_name(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map(
        "apps", client.V1ConfigMap(metadata=client.V1ObjectMeta(generate_name="sc-"))
    )
    assert created.metadata.name.startswith("sc-") and len(created.metadata.name) == 8


def test_version_endpoint(core: client.CoreV1Api) -> None:
    info = client.VersionApi(core.api_client).get_code()
    assert info.major == "1"
