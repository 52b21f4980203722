"""What an extension install or delete leaves on the cluster, written to the kube emulator through KubeLink.

A successful install leaves the release namespace and Helm's release Secret
(`sh.helm.release.v1.<release>.v<N>`, type `helm.sh/release.v1`, labels name/owner/status/version, as Helm 3's
secret storage driver writes them). An injected failure leaves the release Secret with status `failed`, a
failed Job `sc-job` and its pod with log lines: what `kubectl describe/logs job/sc-job -n sc-system` shows
(reference/service-connector.md §1.1).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from typing import Any

from emulators.arm.state import ArmState, InstallFailure, KubeLinkLike, Resource
from emulators.common.admin import AdminCallError

JOB_NAME = "sc-job"

DEFAULT_FAILURE_MESSAGE = (
    "Helm installation failed : Timed out waiting for resource readiness : Recommendation Please check if "
    "there are any failed pods in the release namespace and the job sc-job has completed : InnerError "
    "[job failed: BackoffLimitExceeded]"
)
DEFAULT_FAILURE_LOGS = (
    "INFO  sc-operator: reconciling connection resources\n"
    'ERROR sc-operator: failed to apply resources: Get "https://kubernetes.default.svc": '
    "dial tcp: i/o timeout\n"
    "ERROR sc-operator: job failed, exiting with code 1\n"
)


def release_namespace(ext: Resource) -> str:
    """Where the extension's chart is installed (`scope.cluster.releaseNamespace`)."""
    scope = ext.properties.get("scope") or {}
    cluster_scope = scope.get("cluster") or {}
    namespace = cluster_scope.get("releaseNamespace") or (scope.get("namespace") or {}).get("targetNamespace")
    return str(namespace or "default")


def extension_done(state: ArmState, ext: Resource) -> None:
    """Finish an install or update: Succeeded, or Failed when a failure is injected for the cluster."""
    failure = state.install_failures.get(str(ext.extra.get("cluster_id", "")).lower())
    revision = int(ext.extra.get("revision", 1))
    if failure is None:
        ext.properties["provisioningState"] = "Succeeded"
        ext.properties["statuses"] = []
        ext.properties["errorInfo"] = None
        ext.properties["currentVersion"] = ext.properties.get("version") or "1.0.0"
        if ext.properties.get("autoUpgradeMinorVersion"):
            # Under auto-upgrade Azure reports the installed version in `version` (CreateExtension.json).
            ext.properties["version"] = ext.properties["currentVersion"]
        ext.extra.pop("failure_error", None)
        _write_release(state, ext, revision, "deployed")
        _delete_job(state, ext)
        return
    error = {"code": failure.code, "message": failure.message}
    ext.properties["provisioningState"] = failure.outcome
    ext.properties["statuses"] = [
        {
            "code": "InstallationFailed",
            "level": "Error",
            "displayStatus": failure.outcome,
            "message": failure.message,
            "time": state.timestamp(),
        }
    ]
    ext.properties["errorInfo"] = error
    ext.extra["failure_error"] = error
    _write_release(state, ext, revision, "failed")
    _write_failed_job(state, ext, failure)


def extension_deleted(state: ArmState, ext: Resource) -> None:
    """Helm uninstall: the release Secrets and the job go; the namespace stays (as with `helm uninstall`)."""
    key = ext.extra.get("kube_key")
    if state.kube is None or not key:
        return
    namespace = release_namespace(ext)
    for revision in range(1, int(ext.extra.get("revision", 1)) + 1):
        _ignore_missing(
            lambda r=revision: state.kube.delete_object(
                key, "v1", "Secret", namespace, _release_secret_name(ext, r)
            )
        )
    _delete_job(state, ext)


def release_name(ext: Resource) -> str:
    """The Helm release of an extension: its name, lowercased (Helm release names are RFC 1123 labels;
    extension names such as the spec examples' "ClusterMonitor" need not be)."""
    return ext.name.lower()


def _release_secret_name(ext: Resource, revision: int) -> str:
    return f"sh.helm.release.v1.{release_name(ext)}.v{revision}"


def _write_release(state: ArmState, ext: Resource, revision: int, status: str) -> None:
    key = ext.extra.get("kube_key")
    if state.kube is None or not key:
        return
    namespace = release_namespace(ext)
    state.kube.apply_object(key, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    release = {
        "name": release_name(ext),
        "namespace": namespace,
        "version": revision,
        "info": {
            "status": status,
            "last_deployed": state.timestamp(),
            "description": "Install complete" if status == "deployed" else "Install failed",
        },
        "chart": {
            "metadata": {
                "name": str(ext.properties.get("extensionType")),
                "version": str(ext.properties.get("version") or "1.0.0"),
            }
        },
        "config": dict(ext.properties.get("configurationSettings") or {}),
    }
    # Helm stores base64(gzip(json)) in the `release` key; the Secret's data adds the usual base64 layer.
    helm_payload = base64.b64encode(gzip.compress(json.dumps(release).encode(), mtime=0))
    for older in range(1, revision):
        _ignore_missing(
            lambda r=older: state.kube.apply_object(
                key, _release_secret(ext, namespace, r, "superseded", helm_payload)
            )
        )
    state.kube.apply_object(key, _release_secret(ext, namespace, revision, status, helm_payload))


def _release_secret(
    ext: Resource, namespace: str, revision: int, status: str, payload: bytes
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {
            "name": _release_secret_name(ext, revision),
            "namespace": namespace,
            "labels": {
                "name": release_name(ext),
                "owner": "helm",
                "status": status,
                "version": str(revision),
            },
        },
        "data": {"release": base64.b64encode(payload).decode()},
    }


def _write_failed_job(state: ArmState, ext: Resource, failure: InstallFailure) -> None:
    key = ext.extra.get("kube_key")
    if state.kube is None or not key:
        return
    namespace = release_namespace(ext)
    now = state.timestamp()
    suffix = hashlib.sha256(f"{ext.id}:{ext.extra.get('revision')}".encode()).hexdigest()[:5]
    pod_name = f"{JOB_NAME}-{suffix}"
    container = {"name": JOB_NAME, "image": "scaksextension.azurecr.io/prod/image/sc-operator:20250101.1"}
    job = state.kube.apply_object(
        key,
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": JOB_NAME,
                "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "Helm"},
                "annotations": {
                    "meta.helm.sh/release-name": release_name(ext),
                    "meta.helm.sh/release-namespace": namespace,
                },
            },
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "metadata": {"labels": {"job-name": JOB_NAME}},
                    "spec": {"restartPolicy": "Never", "containers": [container]},
                },
            },
            "status": {
                "failed": 1,
                "startTime": now,
                "conditions": [
                    {
                        "type": "Failed",
                        "status": "True",
                        "reason": "BackoffLimitExceeded",
                        "message": "Job has reached the specified backoff limit",
                        "lastTransitionTime": now,
                        "lastProbeTime": now,
                    }
                ],
            },
        },
    )
    state.kube.apply_object(
        key,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": namespace,
                # The Job controller's labels and owner: kubectl finds the pod through the Job's selector.
                "labels": job["spec"]["template"]["metadata"]["labels"],
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "name": JOB_NAME,
                        "uid": job["metadata"]["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {"restartPolicy": "Never", "containers": [container]},
            "status": {
                "phase": "Failed",
                "containerStatuses": [
                    {
                        "name": JOB_NAME,
                        "ready": False,
                        "restartCount": 0,
                        "image": container["image"],
                        "imageID": f"{container['image']}@sha256:{'0' * 64}",
                        "containerID": f"containerd://{suffix * 12}",
                        "state": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": now}},
                    }
                ],
            },
        },
    )
    state.kube.set_pod_log(key, namespace, pod_name, failure.logs)
    _write_job_events(state.kube, key, job, pod_name, now)
    ext.extra["failed_pod"] = pod_name


def _write_job_events(kube: KubeLinkLike, key: str, job: dict[str, Any], pod_name: str, now: str) -> None:
    """The job controller's events, which `kubectl describe job/sc-job` lists under Events."""
    meta = job["metadata"]
    involved = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
    }
    for suffix, kind, reason, message in (
        ("created", "Normal", "SuccessfulCreate", f"Created pod: {pod_name}"),
        ("failed", "Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
    ):
        kube.apply_object(
            key,
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": f"{meta['name']}.{meta['uid'][:8]}-{suffix}",
                    "namespace": meta["namespace"],
                },
                "involvedObject": involved,
                "type": kind,
                "reason": reason,
                "message": message,
                "source": {"component": "job-controller"},
                "count": 1,
                "firstTimestamp": now,
                "lastTimestamp": now,
            },
        )


def _delete_job(state: ArmState, ext: Resource) -> None:
    key = ext.extra.get("kube_key")
    if state.kube is None or not key:
        return
    namespace = release_namespace(ext)
    _ignore_missing(lambda: state.kube.delete_object(key, "batch/v1", "Job", namespace, JOB_NAME))
    pod = ext.extra.pop("failed_pod", None)
    if pod:
        _ignore_missing(lambda: state.kube.delete_object(key, "v1", "Pod", namespace, pod))


def _ignore_missing(call: Any) -> None:
    """Run a kube admin call where absence is fine (deleting what an earlier install never wrote)."""
    try:
        call()
    except AdminCallError as exc:
        if exc.status != 404:
            raise
