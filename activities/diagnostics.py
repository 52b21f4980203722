"""Diagnostics for a failed or stuck extension: a compact report of what the troubleshooting guide checks.

Each part is read on its own; a part that cannot be read is named in `unavailable` instead of failing the
whole report (diagnostics are collected precisely when things are broken).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from activities.clients import Clients, get_clients
from activities.extension import EXTENSION_NAME, RELEASE_NAMESPACE, read_extension
from activities.failures import classified, to_failure
from activities.kube_resources import REQUEST_TIMEOUT_SECONDS, with_kube
from connector.errors import redact
from connector.ids import parse_cluster

JOB_NAME = "sc-job"
LOG_TAIL_LINES = 50
MAX_EVENTS = 10
_MAX_TEXT = 500


def _short(text: Any) -> str | None:
    return None if text is None else redact(str(text))[:_MAX_TEXT]


def _raw(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(response.data)
    return data


def _helm_release(api: k8s.ApiClient) -> dict[str, Any] | None:
    listed = k8s.CoreV1Api(api).list_namespaced_secret(
        RELEASE_NAMESPACE,
        label_selector=f"owner=helm,name={EXTENSION_NAME}",
        _preload_content=False,
        _request_timeout=REQUEST_TIMEOUT_SECONDS,
    )
    releases = []
    for item in _raw(listed).get("items") or []:
        labels = (item.get("metadata") or {}).get("labels") or {}
        try:
            version = int(labels.get("version", "0"))
        except ValueError:
            version = 0
        releases.append(
            {"name": item["metadata"].get("name"), "status": labels.get("status"), "version": version}
        )
    return max(releases, key=lambda r: r["version"]) if releases else None


def _job(api: k8s.ApiClient) -> dict[str, Any] | None:
    try:
        response = k8s.BatchV1Api(api).read_namespaced_job(
            JOB_NAME, RELEASE_NAMESPACE, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_SECONDS
        )
    except ApiException as exc:
        if exc.status == 404:
            return None  # sc-job is deleted automatically when it succeeds
        raise
    status = _raw(response).get("status") or {}
    return {
        "name": JOB_NAME,
        "active": status.get("active", 0),
        "succeeded": status.get("succeeded", 0),
        "failed": status.get("failed", 0),
        "conditions": [
            {k: _short(c.get(k)) for k in ("type", "status", "reason", "message") if c.get(k) is not None}
            for c in status.get("conditions") or []
        ],
    }


def _job_logs(api: k8s.ApiClient) -> dict[str, Any] | None:
    core = k8s.CoreV1Api(api)
    pods = (
        _raw(
            core.list_namespaced_pod(
                RELEASE_NAMESPACE,
                label_selector=f"job-name={JOB_NAME}",
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT_SECONDS,
            )
        ).get("items")
        or []
    )
    if not pods:
        return None
    # The most recent pod tells what the last attempt did.
    pod = max(pods, key=lambda p: (p.get("metadata") or {}).get("creationTimestamp") or "")
    name = pod["metadata"]["name"]
    text = core.read_namespaced_pod_log(
        name, RELEASE_NAMESPACE, tail_lines=LOG_TAIL_LINES, _request_timeout=REQUEST_TIMEOUT_SECONDS
    )
    lines = [redact(line) for line in str(text or "").splitlines()][-LOG_TAIL_LINES:]
    return {"pod": name, "lines": lines}


def _events(api: k8s.ApiClient) -> list[dict[str, Any]]:
    items = (
        _raw(
            k8s.CoreV1Api(api).list_namespaced_event(
                RELEASE_NAMESPACE, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        ).get("items")
        or []
    )

    def when(event: dict[str, Any]) -> str:
        return str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or "")

    recent = sorted(items, key=when)[-MAX_EVENTS:]
    return [
        {
            "type": e.get("type"),
            "reason": e.get("reason"),
            "object": "{kind}/{name}".format(
                **{"kind": None, "name": None, **(e.get("involvedObject") or {})}
            ),
            "message": _short(e.get("message")),
            "time": when(e) or None,
        }
        for e in recent
    ]


def _namespace_exists(api: k8s.ApiClient) -> bool:
    try:
        k8s.CoreV1Api(api).read_namespace(
            RELEASE_NAMESPACE, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_SECONDS
        )
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


@classified
def collect_diagnostics(cluster_id: str, *, clients: Clients | None = None) -> dict[str, Any]:
    """Extension statuses, sc-system, the Helm release status, sc-job status and log tail, recent events."""
    clients = clients or get_clients()
    ref = parse_cluster(cluster_id)
    report: dict[str, Any] = {"clusterId": ref.id, "unavailable": {}}

    def part(name: str, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except Exception as exc:
            error = to_failure(exc).error
            report["unavailable"][name] = f"{error.code}: {error.message}"[:_MAX_TEXT]
            return None

    extension = part("extension", lambda: read_extension(ref.id, clients=clients))
    report["extension"] = (
        {k: extension.get(k) for k in ("present", "provisioningState", "version", "statuses", "error")}
        if extension
        else None
    )
    exists = part("releaseNamespace", lambda: with_kube(clients, ref, _namespace_exists))
    report["releaseNamespaceExists"] = exists
    if exists:
        report["helmRelease"] = part("helmRelease", lambda: with_kube(clients, ref, _helm_release))
        report["job"] = part("job", lambda: with_kube(clients, ref, _job))
        report["jobLogs"] = part("jobLogs", lambda: with_kube(clients, ref, _job_logs))
        report["events"] = part("events", lambda: with_kube(clients, ref, _events)) or []
    return report
