"""Pod logs: text/plain, `tailLines`, container choice."""

# mypy: disable-error-code="union-attr, index, arg-type, operator"
# (the kubernetes models declare every field Optional; these tests assert the emulator fills them)

from __future__ import annotations

from typing import Any

from kubernetes import client

from tests.fixtures.kube import KubeHarness

from .helpers import meta, status_of

LOG = "starting\nconnecting to ARM\nerror: forbidden\nexit 1\n"


def _pod(core: client.CoreV1Api, name: str, containers: list[str]) -> None:
    spec = client.V1PodSpec(containers=[client.V1Container(name=c, image="img") for c in containers])
    core.create_namespaced_pod("apps", client.V1Pod(metadata=meta(name), spec=spec))


def test_log_tail_lines(core: client.CoreV1Api, harness: KubeHarness) -> None:
    _pod(core, "sc-job-x", ["job"])
    harness.link.set_pod_log("c1", "apps", "sc-job-x", LOG)
    assert core.read_namespaced_pod_log("sc-job-x", "apps") == LOG
    assert core.read_namespaced_pod_log("sc-job-x", "apps", tail_lines=2) == "error: forbidden\nexit 1\n"
    assert core.read_namespaced_pod_log("sc-job-x", "apps", container="job", tail_lines=1) == "exit 1\n"


def test_log_per_container_and_container_required_when_ambiguous(
    core: client.CoreV1Api, harness: KubeHarness
) -> None:
    _pod(core, "p", ["main", "sidecar"])
    harness.link.set_pod_log("c1", "apps", "p", "main log\n", container="main")
    harness.link.set_pod_log("c1", "apps", "p", "sidecar log\n", container="sidecar")
    assert core.read_namespaced_pod_log("p", "apps", container="sidecar") == "sidecar log\n"
    status = status_of(lambda: core.read_namespaced_pod_log("p", "apps"))
    assert status["message"] == "a container name must be specified for pod p, choose one of: [main sidecar]"
    status = status_of(lambda: core.read_namespaced_pod_log("p", "apps", container="nope"))
    assert status["message"] == "container nope is not valid for pod p"


def test_log_of_a_missing_pod_is_not_found(core: client.CoreV1Api) -> None:
    status = status_of(lambda: core.read_namespaced_pod_log("ghost", "apps"))
    assert (status["reason"], status["message"]) == ("NotFound", 'pods "ghost" not found')


def test_log_is_served_as_plain_text(core: client.CoreV1Api, harness: KubeHarness) -> None:
    _pod(core, "p", ["c"])
    harness.link.set_pod_log("c1", "apps", "p", "{not json}\n")
    raw: Any = core.read_namespaced_pod_log("p", "apps", _preload_content=False)  # a urllib3 response
    assert raw.headers["Content-Type"].startswith("text/plain")
    assert raw.data == b"{not json}\n"
