"""Fixtures for the ARM emulator tests: the kube emulator behind it and the ARM harness."""

from tests.fixtures.arm import arm, arm_emulator, mgmt_client  # noqa: F401
from tests.fixtures.kube import kube, kube_client_for, kube_emulator  # noqa: F401
