"""The real kubectl runs the troubleshooting flow against the kube emulator, after a connection and after a
failed extension install (what Service Connector's users are told to run: `kubectl get ns`, `get secret -o
yaml`, `get job`, `describe job/sc-job` and `logs job/sc-job -n sc-system`)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from emulators.arm.handlers.aks import kube_key
from emulators.arm.kube_effects import DEFAULT_FAILURE_LOGS
from emulators.kube import kubeconfig
from tests.e2e.conftest import CLUSTER, CLUSTER_2, E2E, blob_secret_body

API = "2024-04-01"
pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


def _kubectl(kubeconfig: Path, context: str, *args: str) -> str:
    done = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "--context", context, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout


def _connect(e2e: E2E, cluster: str, name: str) -> dict[str, object]:
    status, headers, body = e2e.http(
        "PUT",
        f"{cluster}/providers/Microsoft.ServiceLinker/linkers/{name}?api-version={API}",
        blob_secret_body(),
    )
    assert status in (200, 201), body
    return e2e.wait_operation(headers["Azure-AsyncOperation"])


def test_the_troubleshooting_flow_works_with_kubectl(e2e: E2E, tmp_path: Path) -> None:
    e2e.arm.admin.call("POST", "/arm/install-failures", {"clusterId": CLUSTER_2})
    assert _connect(e2e, CLUSTER, "blobconn")["status"] == "Succeeded"
    assert _connect(e2e, CLUSTER_2, "blobconn")["status"] == "Failed"
    # One kubeconfig per cluster, its context named after the cluster (make run's merged file is
    # test_make_run's).
    kubeconfigs: dict[str, Path] = {}
    for cluster in (CLUSTER, CLUSTER_2):
        name = cluster.rsplit("/", 1)[-1]
        kubeconfigs[name] = tmp_path / f"kubeconfig-{name}"
        config = kubeconfig(name, e2e.arm.kube.cluster(kube_key(cluster)))
        kubeconfigs[name].write_text(yaml.safe_dump(config), encoding="utf-8")

    namespaces = _kubectl(kubeconfigs["aks-demo-1"], "aks-demo-1", "get", "ns")
    assert "default" in namespaces and "sc-system" in namespaces
    secret = yaml.safe_load(
        _kubectl(kubeconfigs["aks-demo-1"], "aks-demo-1", "get", "secret", "sc-blobconn-secret", "-o", "yaml")
    )
    value = base64.b64decode(secret["data"]["AZURE_STORAGEBLOB_CONNECTIONSTRING"]).decode()
    assert "AccountName=stdemo0001" in value

    jobs = _kubectl(kubeconfigs["aks-demo-2"], "aks-demo-2", "get", "job", "-n", "sc-system")
    assert "sc-job" in jobs
    described = _kubectl(kubeconfigs["aks-demo-2"], "aks-demo-2", "describe", "job/sc-job", "-n", "sc-system")
    assert "BackoffLimitExceeded" in described and "batch.kubernetes.io/controller-uid" in described
    logs = _kubectl(kubeconfigs["aks-demo-2"], "aks-demo-2", "logs", "job/sc-job", "-n", "sc-system")
    assert logs == DEFAULT_FAILURE_LOGS
