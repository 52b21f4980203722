"""Fixtures for the ARM emulator tests: the kube emulator behind it, the ARM harness, and oav over the
vendored ARM specs (the spec example replays)."""

from tests.fixtures.arm import arm, arm_emulator, mgmt_client  # noqa: F401
from tests.fixtures.kube import kube, kube_client_for, kube_emulator  # noqa: F401
from tests.fixtures.oav_arm import oav  # noqa: F401
