"""`aks-connector` against the product on DevHost: every verb, its JSON output, its errors and exit codes.

The CLI runs in-process through click's CliRunner (stdout and stderr apart, neither a terminal), with the
endpoint and key in AKS_CONNECTOR_ENDPOINT / AKS_CONNECTOR_KEY as a user would set them. Expected shapes come
from ServiceLinker's REST API (the linker, validateLinker's validationDetail, listConfigurations) and from
`az aks connection`'s verbs and flags (azure-cli's serviceconnector module, _params.py).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import typer
from click.testing import CliRunner

from aks_connector import app as cli_app
from aks_connector.argv import rewrite
from tests.e2e.conftest import BLOB, CLUSTER, E2E, POSTGRES_DB, STORAGE, SUB

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
FOREIGN_BLOB = BLOB.replace(SUB, "99999999-9999-9999-9999-999999999999")


@dataclass
class Ran:
    """One CLI run: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.out)


def cli(e2e: E2E, *argv: str, key: str | None = None) -> Ran:
    """Run `aks-connector argv...` as the console script does (az's key=value words rewritten first)."""
    rewritten = rewrite(list(argv))
    cli_app._SECRETS.update(rewritten.secrets)
    env = {"AKS_CONNECTOR_ENDPOINT": e2e.url, "AKS_CONNECTOR_KEY": key or e2e.key, "COLUMNS": "200"}
    result = CliRunner().invoke(typer.main.get_command(cli_app.app), rewritten.args, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def _create_blob(e2e: E2E, name: str, *extra: str) -> Ran:
    return cli(
        e2e,
        "create",
        "storage-blob",
        "--connection",
        name,
        "--source-id",
        CLUSTER,
        "--target-id",
        BLOB,
        "--secret",
        "--client-type",
        "python",
        "-o",
        "json",
        *extra,
    )


def test_the_acceptance_command_prints_the_succeeded_linker(e2e: E2E) -> None:
    ran = _create_blob(e2e, "x")

    assert ran.code == 0, ran.err
    linker = ran.json()
    assert linker["id"] == f"{LINKERS}/x"
    assert linker["properties"]["provisioningState"] == "Succeeded"
    assert linker["properties"]["authInfo"]["authType"] == "secret"
    assert linker["properties"]["clientType"] == "python"
    # Not a terminal: progress is one line per change on stderr, ending with the outcome; stdout is the JSON.
    assert ran.err.strip().splitlines()[-1].endswith("Succeeded"), ran.err
    assert e2e.kube_secret(CLUSTER, "default", "sc-x-secret") is not None


def test_reads_list_show_list_configuration_validate_and_query(e2e: E2E) -> None:
    assert _create_blob(e2e, "blob1").code == 0
    assert _create_blob(e2e, "blob2", "--no-wait").code == 0
    assert cli(e2e, "wait", "--connection", "blob2", "--source-id", CLUSTER, "--interval", "0.2").code == 0

    listed = cli(e2e, "list", "--source-id", CLUSTER, "-o", "json")
    assert listed.code == 0 and sorted(i["name"] for i in listed.json()) == ["blob1", "blob2"]  # two pages
    names = cli(e2e, "list", "--source-id", CLUSTER, "--query", "[].name", "-o", "tsv")
    assert names.out.split() == ["blob1", "blob2"]

    shown = cli(e2e, "show", "--id", f"{LINKERS}/blob1", "-o", "json")
    assert shown.json()["properties"]["targetService"]["id"].lower() == BLOB.lower()
    by_group = cli(
        e2e, "show", "--connection", "blob1", "-g", "rg-demo", "-n", "aks-demo-1", "--subscription", SUB
    )
    assert by_group.json()["name"] == "blob1"

    configuration = cli(
        e2e, "list-configuration", "--connection", "blob1", "--source-id", CLUSTER, "-o", "json"
    )
    settings = [(c["name"], c["value"]) for c in configuration.json()["configurations"]]
    assert settings == [("AZURE_STORAGEBLOB_CONNECTIONSTRING", None)]  # a secret's value is never listed

    validated = cli(e2e, "validate", "--connection", "blob1", "--source-id", CLUSTER, "-o", "json")
    assert validated.code == 0, validated.err
    result = validated.json()
    assert result["isConnectionAvailable"] is True
    assert {d["result"] for d in result["validationDetail"]} == {"success"}
    table = cli(e2e, "validate", "--connection", "blob1", "--source-id", CLUSTER)
    assert "success" in table.out and "Check" in table.out


def test_update_then_delete_with_force_cleanup(e2e: E2E) -> None:
    assert _create_blob(e2e, "moving").code == 0

    updated = cli(
        e2e,
        "update",
        "storage-blob",
        "--connection",
        "moving",
        "--source-id",
        CLUSTER,
        "--client-type",
        "dotnet",
        "--customized-keys",
        "AZURE_STORAGEBLOB_CONNECTIONSTRING=BLOB_CS",
        "-o",
        "json",
    )
    assert updated.code == 0, updated.err
    props = updated.json()["properties"]
    assert props["clientType"] == "dotnet" and props["provisioningState"] == "Succeeded"
    assert props["configurationInfo"]["customizedKeys"] == {"AZURE_STORAGEBLOB_CONNECTIONSTRING": "BLOB_CS"}
    assert set(e2e.kube_secret(CLUSTER, "default", "sc-moving-secret") or {}) == {"BLOB_CS"}

    refused = cli(e2e, "delete", "--connection", "moving", "--source-id", CLUSTER)
    assert refused.code == 2 and "--yes" in refused.err  # not a terminal: no prompt, nothing deleted
    deleted = cli(e2e, "delete", "--connection", "moving", "--source-id", CLUSTER, "--yes", "--force-cleanup")
    assert deleted.code == 0, deleted.err
    assert deleted.json()["status"] == "Succeeded"
    assert e2e.kube_secret(CLUSTER, "default", "sc-moving-secret") is None  # ForcedCleanup removed it
    gone = cli(e2e, "wait", "--connection", "moving", "--source-id", CLUSTER, "--deleted")
    assert gone.code == 0 and gone.json()["status"] == "Deleted"
    missing = cli(e2e, "show", "--connection", "moving", "--source-id", CLUSTER)
    assert missing.code == 1 and "NotFound" in missing.err


def test_operations_wait_show_reconcile_reset_extension_and_diagnose(e2e: E2E) -> None:
    started = _create_blob(e2e, "ops", "--no-wait")
    operation = started.json()["operation"]
    waited = cli(e2e, "wait", "--operation", operation, "-o", "json")
    assert waited.code == 0 and waited.json()["status"] == "Succeeded"
    operation_id = operation.split("?")[0].rsplit("/", 1)[-1]
    shown = cli(e2e, "operation", "show", operation_id, "--subscription", SUB, "-o", "json")
    assert shown.json()["name"] == operation_id and shown.json()["status"] == "Succeeded"

    reconciled = cli(e2e, "reconcile", "-o", "json")
    assert reconciled.code == 0, reconciled.err
    assert reconciled.json()["status"] == "Succeeded"

    reset = cli(e2e, "reset-extension", "--source-id", CLUSTER, "--yes", "-o", "json")
    assert reset.code == 0, reset.err
    assert reset.json()["status"] == "Succeeded"

    diagnosed = cli(e2e, "diagnose", "--source-id", CLUSTER, "-o", "json")
    body = diagnosed.json()
    assert body["clusterId"] == CLUSTER and body["failed"] == 0
    assert [c["provisioningState"] for c in body["connections"]] == ["Succeeded"]
    # What the cluster shows now, read for the command: the reinstalled extension, and the sc-job's state.
    collected = body["collected"]
    assert collected["extension"]["present"] is True
    assert collected["extension"]["provisioningState"] == "Succeeded"
    assert collected["unavailable"] == {}
    registry_only = cli(e2e, "diagnose", "--source-id", CLUSTER, "--registry-only", "-o", "json")
    assert "collected" not in registry_only.json()
    table = cli(e2e, "diagnose", "--source-id", CLUSTER)
    assert "ops" in table.out and "Succeeded" in table.out
    assert "sc-extension: Succeeded" in table.out


def test_list_support_types_comes_from_the_catalog() -> None:
    result = CliRunner().invoke(typer.main.get_command(cli_app.app), ["list-support-types", "-o", "json"])
    kinds = {row["targetType"]: row for row in json.loads(result.stdout)}
    assert result.exit_code == 0
    assert {"storage-blob", "keyvault", "postgres-flexible", "servicebus", "openai"} <= set(kinds)
    assert "userAssignedIdentity" in kinds["storage-blob"]["authTypes"]
    assert "csi" in kinds["keyvault"]["authTypes"]


def test_a_failed_operation_exits_1_with_its_code_mitigation_and_scope(e2e: E2E) -> None:
    action = "Microsoft.Storage/storageAccounts/listKeys/action"
    e2e.arm.admin.call("POST", "/arm/deny", {"action": action, "scope": STORAGE, "method": "POST"})
    ran = _create_blob(e2e, "denied")

    assert ran.code == 1
    assert "ERROR: (AuthorizationFailed)" in ran.err
    lines = ran.err.splitlines()
    assert f"Target: {STORAGE}" in lines
    mitigation = next(line for line in lines if line.startswith("Mitigation: "))
    assert action in mitigation and STORAGE in mitigation
    shown = cli(e2e, "show", "--connection", "denied", "--source-id", CLUSTER, "-o", "json")
    assert shown.json()["properties"]["provisioningState"] == "Failed"
    diagnosed = cli(e2e, "diagnose", "--source-id", CLUSTER)
    assert "AuthorizationFailed" in diagnosed.out and "Mitigation:" in diagnosed.out


def test_exit_codes_for_usage_and_authorization(e2e: E2E) -> None:
    bad_client = _create_blob(e2e, "bad", "--client-type", "cobol")
    assert bad_client.code == 2 and "(UnknownClientType)" in bad_client.err
    assert "Target: properties.clientType" in bad_client.err
    no_source = cli(e2e, "create", "storage-blob", "--connection", "y", "--target-id", BLOB, "--secret")
    assert no_source.code == 2 and "--source-id" in no_source.err
    unknown_kind = cli(e2e, "create", "floppy-disk", "--connection", "y", "--source-id", CLUSTER, "--secret")
    assert unknown_kind.code == 2 and "storage-blob" in unknown_kind.err
    far = ("--connection", "far", "--source-id", CLUSTER, "--target-id", FOREIGN_BLOB, "--secret")
    outside = cli(e2e, "create", "storage-blob", *far)
    assert outside.code == 3 and "(AuthorizationFailed)" in outside.err
    wrong_key = cli(e2e, "list", "--source-id", CLUSTER, key="not-a-key")
    assert wrong_key.code == 3 and "(Unauthorized)" in wrong_key.err
    bad_query = cli(e2e, "list", "--source-id", CLUSTER, "--query", "[[")
    assert bad_query.code == 2


def test_a_password_given_on_the_command_line_is_never_printed(e2e: E2E) -> None:
    canary = "Canary-" + uuid.uuid4().hex
    database = POSTGRES_DB.rsplit("/", 1)[-1]
    created = cli(
        e2e,
        "create",
        "postgres-flexible",
        "--connection",
        "pg",
        "--source-id",
        CLUSTER,
        "--tg",
        "rg-demo",
        "--server",
        "psql-demo-0001",
        "--database",
        database,
        "--secret",
        "name=appuser",
        f"secret={canary}",
        "--client-type",
        "python",
        "-o",
        "yaml",
    )
    assert created.code == 0, created.err
    assert "provisioningState: Succeeded" in created.out
    # The Secret holds it; nothing the CLI prints does, whatever the verb or format.
    assert any(canary in v for v in (e2e.kube_secret(CLUSTER, "default", "sc-pg-secret") or {}).values())
    runs = [
        created,
        cli(e2e, "show", "--connection", "pg", "--source-id", CLUSTER, "-o", "json"),
        cli(e2e, "list-configuration", "--connection", "pg", "--source-id", CLUSTER, "-o", "tsv"),
        cli(e2e, "diagnose", "--source-id", CLUSTER, "-o", "yaml"),
        # A refused request that carries the canary: the error names the field, never the value.
        cli(
            e2e,
            "update",
            "postgres-flexible",
            "--connection",
            "pg",
            "--source-id",
            CLUSTER,
            "--secret",
            "name=appuser",
            f"secret={canary}",
            "--client-type",
            "cobol",
        ),
    ]
    assert runs[-1].code == 2
    for ran in runs:
        assert canary not in ran.out + ran.err


@pytest.mark.parametrize("fmt", ["json", "yaml", "table", "tsv"])
def test_every_output_format_prints_the_linker(e2e: E2E, fmt: str) -> None:
    assert _create_blob(e2e, "fmt").code == 0
    shown = cli(e2e, "show", "--connection", "fmt", "--source-id", CLUSTER, "-o", fmt)
    assert shown.code == 0 and "fmt" in shown.out and "Succeeded" in shown.out
