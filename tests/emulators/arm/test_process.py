# mypy: disable-error-code="union-attr, index, operator, no-untyped-call"
# (SDK models type every field Optional and the kubernetes client is untyped; these tests assert on both.)
"""The ARM emulator as a process: starts in under 2 s with the demo seed, linked to a kube emulator."""

from __future__ import annotations

import signal
from pathlib import Path

import yaml
from azure.mgmt.containerservice import ContainerServiceClient
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from emulators.kube import KubeEmulator
from tests.fixtures.arm import DEMO_SEED, DEMO_SUBSCRIPTION, StaticTokenCredential
from tests.fixtures.process import module_process


def test_process_starts_under_two_seconds_and_serves_the_demo_seed(
    kube_emulator: KubeEmulator, tmp_path: Path
) -> None:
    ca_file = tmp_path / "arm-ca.pem"
    with module_process(
        "emulators.arm",
        "--port",
        "0",
        "--state",
        str(DEMO_SEED),
        "--ca-file",
        str(ca_file),
        "--kube-admin-url",
        kube_emulator.url,
        "--kube-ca-file",
        kube_emulator.ca_file,
    ) as started:
        line = started.ready_line
        assert line.startswith("arm emulator ready on https://127.0.0.1:"), line
        assert started.seconds < 2.0, f"started in {started.seconds:.2f}s"
        url = line.rsplit(" ", 1)[-1]
        aks = ContainerServiceClient(
            StaticTokenCredential(),
            DEMO_SUBSCRIPTION,
            base_url=url,
            connection_verify=str(ca_file),
            retry_total=0,
        )
        assert aks.managed_clusters.get("rg-demo", "aks-demo-1").provisioning_state == "Succeeded"
        # The SDK decodes the base64 `value` (format: byte) into the kubeconfig YAML bytes.
        value = (
            aks.managed_clusters.list_cluster_user_credentials("rg-demo", "aks-demo-1").kubeconfigs[0].value
        )
        assert isinstance(value, bytes)
        kubeconfig = yaml.safe_load(value)
        api = k8s_config.new_client_from_config_dict(kubeconfig)
        try:
            assert isinstance(k8s.CoreV1Api(api).list_namespace().items, list)
        finally:
            api.close()
        started.process.send_signal(signal.SIGTERM)
        started.process.wait(timeout=10)
