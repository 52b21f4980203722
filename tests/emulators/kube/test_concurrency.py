"""Concurrent writers through separate clients: unique resourceVersions, exactly one winner per name."""

# mypy: disable-error-code="union-attr, index, arg-type, operator"
# (the kubernetes models declare every field Optional; these tests assert the emulator fills them)

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from kubernetes import client

from tests.fixtures.kube import KubeHarness

from .helpers import meta


def test_concurrent_creates_get_unique_resource_versions(
    core: client.CoreV1Api, harness: KubeHarness
) -> None:
    apis = [client.CoreV1Api(harness.client_for("c1")) for _ in range(4)]

    def create(i: int) -> str:
        cm = client.V1ConfigMap(metadata=meta(f"cm{i}"))
        return str(apis[i % 4].create_namespaced_config_map("apps", cm).metadata.resource_version)

    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(create, range(24)))
    assert len(set(versions)) == 24
    assert len(core.list_namespaced_config_map("apps").items) == 24


def test_racing_creates_of_one_name_have_one_winner(core: client.CoreV1Api, harness: KubeHarness) -> None:
    apis = [client.CoreV1Api(harness.client_for("c1")) for _ in range(6)]

    def create(api: client.CoreV1Api) -> int:
        try:
            api.create_namespaced_secret("apps", client.V1Secret(metadata=meta("same")))
            return 201
        except client.ApiException as exc:
            return int(exc.status)

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = sorted(pool.map(create, apis))
    assert outcomes == [201, 409, 409, 409, 409, 409]
