"""The Azurite helper, driven through azure-data-tables as the product's registry will use it."""

from __future__ import annotations

import re
import signal
import socket
import uuid
from pathlib import Path

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.data.tables import TableServiceClient, UpdateMode

from emulators.azurite import Azurite, AzuriteNotInstalled
from tests.fixtures.process import module_process

FREE_PORTS = ("--blob-port", "0", "--queue-port", "0", "--table-port", "0")


def _table_name() -> str:
    return "t" + uuid.uuid4().hex[:12]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _process_exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_tables_can_be_created_written_read_and_queried(azurite_connection_string: str) -> None:
    service = TableServiceClient.from_connection_string(azurite_connection_string)
    table = service.create_table(_table_name())

    table.upsert_entity({"PartitionKey": "cluster-a", "RowKey": "linker-1", "state": "Succeeded"})
    table.upsert_entity({"PartitionKey": "cluster-a", "RowKey": "linker-2", "state": "Failed"})
    table.upsert_entity({"PartitionKey": "cluster-b", "RowKey": "linker-3", "state": "Failed"})

    assert table.get_entity("cluster-a", "linker-1")["state"] == "Succeeded"
    failed = table.query_entities("state eq @state", parameters={"state": "Failed"})
    assert sorted(entity["RowKey"] for entity in failed) == ["linker-2", "linker-3"]
    with pytest.raises(ResourceExistsError):
        service.create_table(table.table_name)


def test_a_stale_etag_is_refused_with_412(azurite_connection_string: str) -> None:
    table = TableServiceClient.from_connection_string(azurite_connection_string).create_table(_table_name())
    table.upsert_entity({"PartitionKey": "p", "RowKey": "r", "generation": 1})
    stale = table.get_entity("p", "r")
    table.update_entity(
        {"PartitionKey": "p", "RowKey": "r", "generation": 2},
        mode=UpdateMode.REPLACE,
        etag=stale.metadata["etag"],
        match_condition=MatchConditions.IfNotModified,
    )

    with pytest.raises(ResourceModifiedError) as refused:
        table.update_entity(
            {"PartitionKey": "p", "RowKey": "r", "generation": 3},
            mode=UpdateMode.REPLACE,
            etag=stale.metadata["etag"],
            match_condition=MatchConditions.IfNotModified,
        )
    assert refused.value.status_code == 412
    assert table.get_entity("p", "r")["generation"] == 2


def test_the_session_instance_uses_free_ports_it_reports_in_its_connection_string(azurite: Azurite) -> None:
    for service in ("blob", "queue", "table"):
        port = azurite.ports[service]
        endpoint = f"{service.capitalize()}Endpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        assert endpoint in azurite.connection_string
        assert _listening(port)


def test_stopping_by_pid_leaves_no_process_and_frees_the_ports() -> None:
    with Azurite() as azurite:
        pid, port = azurite.pid, azurite.ports["table"]
        assert pid is not None and _process_exists(pid)
        TableServiceClient.from_connection_string(azurite.connection_string).create_table(_table_name())

    assert not _process_exists(pid)
    assert not _listening(port)
    assert azurite.pid is None


def test_a_checkout_without_node_modules_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AzuriteNotInstalled, match="run `make deps`"):
        Azurite(root=tmp_path).start()


def test_the_process_entry_point_prints_a_ready_line_and_stops_azurite_on_sigterm() -> None:
    with module_process("emulators.azurite", *FREE_PORTS, ready_timeout=20) as started:
        process, line = started.process, started.ready_line
        assert line, "no ready line"
        match = re.match(r"azurite ready pid=(\d+) connection_string=(\S+)", line)
        assert match is not None, line
        azurite_pid = int(match.group(1))
        table = TableServiceClient.from_connection_string(match.group(2)).create_table(_table_name())
        table.upsert_entity({"PartitionKey": "p", "RowKey": "r"})

        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert not _process_exists(azurite_pid)
