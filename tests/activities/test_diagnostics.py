"""Diagnostics for a failed extension install: statuses, Helm release, sc-job status and its log lines."""

from __future__ import annotations

from activities.diagnostics import collect_diagnostics
from activities.extension import ensure_extension, read_extension
from activities.provider import register_provider
from connector.errors import extension_failed
from tests.activities.conftest import CLUSTER_1, SUB, World

JOB_LOG_LINE = "ERROR sc-operator: job failed, exiting with code 1"


def _install(world: World, *, fail: bool) -> None:
    register_provider(SUB, clients=world.clients)
    world.arm.advance(60)
    if fail:
        world.arm.admin.call(
            "POST",
            "/arm/install-failures",
            {"clusterId": CLUSTER_1, "logs": f"INFO sc-operator: start\n{JOB_LOG_LINE}\n"},
        )
    ensure_extension(CLUSTER_1, clients=world.clients)
    world.arm.advance(300)


def test_failed_install_diagnostics_carry_the_sc_job_logs(world: World) -> None:
    _install(world, fail=True)
    extension = read_extension(CLUSTER_1, clients=world.clients)
    assert extension["provisioningState"] == "Failed"
    report = collect_diagnostics(CLUSTER_1, clients=world.clients)
    assert report["unavailable"] == {}
    assert report["extension"]["provisioningState"] == "Failed"
    assert report["extension"]["statuses"][0]["message"]
    assert report["releaseNamespaceExists"] is True
    assert report["helmRelease"]["status"] == "failed"
    assert report["job"]["failed"] >= 1
    assert any(c.get("type") == "Failed" for c in report["job"]["conditions"])
    assert report["jobLogs"]["pod"].startswith("sc-job-")
    assert JOB_LOG_LINE in report["jobLogs"]["lines"]

    # The orchestrator attaches the report to the failure it records.
    error = extension_failed(extension["statuses"][0]["message"], resource=CLUSTER_1, diagnostics=report)
    assert JOB_LOG_LINE in error.to_failure_text()


def test_healthy_install_diagnostics(world: World) -> None:
    _install(world, fail=False)
    report = collect_diagnostics(CLUSTER_1, clients=world.clients)
    assert report["extension"]["provisioningState"] == "Succeeded"
    assert report["helmRelease"]["status"] == "deployed"
    assert report["job"] is None and report["jobLogs"] is None


def test_diagnostics_without_extension_or_namespace(world: World) -> None:
    report = collect_diagnostics(CLUSTER_1, clients=world.clients)
    assert report["extension"]["present"] is False
    assert report["releaseNamespaceExists"] is False
    assert "helmRelease" not in report


def test_unreadable_parts_are_named_not_fatal(world: World) -> None:
    _install(world, fail=True)
    world.kube_admin.add_fault("/jobs/sc-job", method="GET", status=500)
    report = collect_diagnostics(CLUSTER_1, clients=world.clients)
    assert "job" in report["unavailable"]
    assert JOB_LOG_LINE in report["jobLogs"]["lines"]
