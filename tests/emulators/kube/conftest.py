"""Fixtures for the kube emulator's own tests."""

from collections.abc import Callable

import pytest
from kubernetes import client

from tests.fixtures.kube import KubeHarness, kube, kube_client_for, kube_emulator  # noqa: F401


@pytest.fixture
def core(kube_client_for: Callable[[str], client.ApiClient]) -> client.CoreV1Api:  # noqa: F811
    """CoreV1Api for cluster `c1`, with namespace `apps` created."""
    api = client.CoreV1Api(kube_client_for("c1"))
    api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="apps")))
    return api


@pytest.fixture
def harness(kube: KubeHarness) -> KubeHarness:  # noqa: F811
    """The reset emulator harness."""
    return kube
