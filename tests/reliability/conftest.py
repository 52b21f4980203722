"""The proof suite prints its figures at the end of the run (see figures.py)."""

from __future__ import annotations

import pytest

from tests.fixtures.arm import arm_emulator  # noqa: F401
from tests.fixtures.azurite import azurite, azurite_connection_string  # noqa: F401
from tests.fixtures.kube import kube_emulator  # noqa: F401
from tests.fixtures.servicebus import servicebus_emulator  # noqa: F401
from tests.reliability.figures import full_scale, recorded
from tests.reliability.stack import stack  # noqa: F401  (the product on DevHost, one per module)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print each proof's figure, so the README can copy them with the command that produced them."""
    figures = recorded()
    if not figures:
        return
    scale = "full (make proof)" if full_scale() else "short (make test)"
    terminalreporter.section(f"reliability figures, {scale} scale")
    for name, figure in sorted(figures.items()):
        terminalreporter.write_line(f"{name}: {figure}")
