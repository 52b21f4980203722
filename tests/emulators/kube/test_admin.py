"""The admin API through KubeLink: what the ARM emulator does when it installs the extension."""

# mypy: disable-error-code="union-attr, index, arg-type, operator"
# (the kubernetes models declare every field Optional; these tests assert the emulator fills them)

from __future__ import annotations

import base64

import pytest
import yaml
from kubernetes import client

from emulators.common import AdminCallError
from emulators.kube import kubeconfig, kubeconfig_yaml
from tests.fixtures.kube import KubeHarness, api_client_from_kubeconfig

from .helpers import BUILT_IN_NAMESPACES, namespace_names

HELM_RELEASE = {
    "apiVersion": "v1",
    "kind": "Secret",
    "type": "helm.sh/release.v1",
    "metadata": {
        "name": "sh.helm.release.v1.sc-extension.v1",
        "namespace": "sc-system",
        "labels": {"owner": "helm", "name": "sc-extension", "status": "deployed", "version": "1"},
    },
    "data": {"release": base64.b64encode(b"H4sI...").decode()},
}
FAILED_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "sc-job", "namespace": "sc-system"},
    "spec": {
        "backoffLimit": 0,
        "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "sc-job", "image": "sc"}]}},
    },
    "status": {
        "failed": 1,
        "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
    },
}
JOB_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "sc-job-abcde", "namespace": "sc-system", "labels": {"job-name": "sc-job"}},
    "spec": {"containers": [{"name": "sc-job", "image": "sc"}]},
    "status": {"phase": "Failed"},
}


def test_register_cluster_is_idempotent_and_gives_a_working_kubeconfig(kube: KubeHarness) -> None:
    first = kube.link.register_cluster("aks-one")
    assert kube.link.register_cluster("aks-one") == first
    assert first["server"] == f"{kube.emulator.url}/clusters/aks-one"
    assert base64.b64decode(first["caData"]) == kube.emulator.ca_pem
    api_client = api_client_from_kubeconfig(kubeconfig("aks-one", first))
    assert namespace_names(client.CoreV1Api(api_client)) == BUILT_IN_NAMESPACES
    api_client.close()  # type: ignore[no-untyped-call]


def test_kubeconfig_yaml_loads_with_the_client(kube: KubeHarness, tmp_path: object) -> None:
    info = kube.link.register_cluster("aks-two")
    loaded = yaml.safe_load(kubeconfig_yaml("aks-two", info))
    api_client = api_client_from_kubeconfig(loaded)
    assert client.VersionApi(api_client).get_code().major == "1"
    api_client.close()  # type: ignore[no-untyped-call]


def test_bad_cluster_key_is_refused(kube: KubeHarness) -> None:
    with pytest.raises(AdminCallError) as info:
        kube.link.register_cluster("Not_Valid")
    assert info.value.status == 400


def test_extension_install_artifacts_are_visible_to_the_client(kube: KubeHarness) -> None:
    kube.link.register_cluster("aks")
    kube.link.apply_object(
        "aks", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sc-system"}}
    )
    for obj in (HELM_RELEASE, FAILED_JOB, JOB_POD):
        kube.link.apply_object("aks", obj)
    kube.link.set_pod_log("aks", "sc-system", "sc-job-abcde", "line 1\nError: unauthorized\n")
    api_client = kube.client_for("aks")
    core, batch = client.CoreV1Api(api_client), client.BatchV1Api(api_client)
    releases = core.list_namespaced_secret("sc-system", label_selector="owner=helm,name=sc-extension")
    assert [s.type for s in releases.items] == ["helm.sh/release.v1"]
    job = batch.read_namespaced_job("sc-job", "sc-system")
    assert job.status.failed == 1 and job.status.conditions[0].reason == "BackoffLimitExceeded"
    pods = core.list_namespaced_pod("sc-system", label_selector="job-name=sc-job")
    assert [p.status.phase for p in pods.items] == ["Failed"]  # the admin path keeps status as given
    log = core.read_namespaced_pod_log("sc-job-abcde", "sc-system", tail_lines=1)
    assert log == "Error: unauthorized\n"


def test_apply_object_upserts_and_bumps_resource_version(kube: KubeHarness) -> None:
    kube.link.register_cluster("aks")
    kube.link.apply_object(
        "aks", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sc-system"}}
    )
    first = kube.link.apply_object("aks", HELM_RELEASE)
    changed = dict(HELM_RELEASE, data={"release": base64.b64encode(b"v2").decode()})
    second = kube.link.apply_object("aks", changed)
    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])


def test_apply_object_needs_its_namespace(kube: KubeHarness) -> None:
    kube.link.register_cluster("aks")
    with pytest.raises(AdminCallError) as info:
        kube.link.apply_object("aks", HELM_RELEASE)
    assert info.value.status == 404 and 'namespaces \\"sc-system\\" not found' in info.value.body


def test_delete_object(kube: KubeHarness) -> None:
    kube.link.register_cluster("aks")
    kube.link.apply_object(
        "aks", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sc-system"}}
    )
    kube.link.apply_object("aks", FAILED_JOB)
    kube.link.delete_object("aks", "batch/v1", "Job", "sc-system", "sc-job")
    batch = client.BatchV1Api(kube.client_for("aks"))
    assert batch.list_namespaced_job("sc-system").items == []
    with pytest.raises(AdminCallError) as info:
        kube.link.delete_object("aks", "batch/v1", "Job", "sc-system", "sc-job")
    assert info.value.status == 404


def test_seed_document_loads_clusters_objects_and_logs(kube: KubeHarness) -> None:
    kube.link.seed(
        {
            "clusters": [
                {
                    "key": "seeded",
                    "token": "t0ken",
                    "objects": [
                        JOB_POD,
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sc-system"}},
                    ],
                    "podLogs": [{"namespace": "sc-system", "pod": "sc-job-abcde", "text": "seeded log\n"}],
                }
            ]
        }
    )
    info = kube.link.register_cluster("seeded")
    assert info["token"] == "t0ken"
    core = client.CoreV1Api(kube.client_for("seeded"))
    assert core.read_namespaced_pod_log("sc-job-abcde", "sc-system") == "seeded log\n"
