"""`python -m emulators.kube` as a process: ready line in under 2 s, seed file, CA file, stop by PID."""

# mypy: disable-error-code="union-attr, index, arg-type, operator"
# (the kubernetes models declare every field Optional; these tests assert the emulator fills them)

from __future__ import annotations

import pathlib
import signal
import time

import yaml
from kubernetes import client

from emulators.kube import KubeLink, kubeconfig
from tests.fixtures.kube import api_client_from_kubeconfig
from tests.fixtures.process import module_process

from .helpers import BUILT_IN_NAMESPACES, namespace_names


def test_process_starts_fast_and_serves_its_seed(tmp_path: pathlib.Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        yaml.safe_dump(
            {
                "clusters": [
                    {
                        "key": "demo",
                        "objects": [
                            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
                        ],
                    }
                ]
            }
        )
    )
    ca_file = tmp_path / "ca.pem"
    with module_process(
        "emulators.kube", "--port", "0", "--state", str(seed), "--ca-file", str(ca_file)
    ) as started:
        line = started.ready_line
        assert line.startswith("kube emulator ready on https://127.0.0.1:"), line
        assert started.seconds < 2.0, f"took {started.seconds:.2f}s to get ready"
        url = line.rsplit(" ", 1)[1]
        link = KubeLink(url, str(ca_file))
        info = link.register_cluster("demo")
        # A process runs on real time; advancing its clock shifts it forward from now.
        assert link.advance_clock(3600) >= time.time() + 3599
        api_client = api_client_from_kubeconfig(kubeconfig("demo", info))
        names = namespace_names(client.CoreV1Api(api_client))
        assert names == sorted([*BUILT_IN_NAMESPACES, "team-a"])
        api_client.close()  # type: ignore[no-untyped-call]
        started.process.send_signal(signal.SIGTERM)
        assert started.process.wait(timeout=5) == 0
