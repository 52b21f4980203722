"""The Entra stand-in as a process: `python -m emulators.entra` prints the managed identity environment."""

from __future__ import annotations

import re

import pytest
from azure.identity import ManagedIdentityCredential

from tests.fixtures.process import module_process


def test_the_process_serves_managed_identity_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    with module_process("emulators.entra", "--port", "0") as started:
        line = started.ready_line
        assert line.startswith("entra ready url=http://127.0.0.1:"), line
        endpoint = re.search(r"IDENTITY_ENDPOINT=(\S+)", line)
        header = re.search(r"IDENTITY_HEADER=(\S+)", line)
        assert endpoint and header
        monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.group(1))
        monkeypatch.setenv("IDENTITY_HEADER", header.group(1))
        token = ManagedIdentityCredential().get_token("https://storage.azure.com/.default")
        assert token.token.count(".") == 2 and token.expires_on > 0
