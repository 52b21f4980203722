"""requirements.txt pins what the deployed app imports: nothing it needs is pinned only for development, and
nothing it never imports is deployed (SDKs only the tests drive live in requirements-dev.txt)."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from functools import cache
from importlib.metadata import distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What is deployed with the app (devhost, emulators, scripts, bench and tests are not).
PRODUCT = ["function_app.py", "activities", "connector", "orchestrators", "triggers", "sealing", "telemetry"]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned(path: Path) -> set[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {_canonical(line.split("==")[0]) for line in lines if "==" in line}


@cache
def _owner_of_file() -> dict[str, str]:
    """site-packages-relative file path -> the distribution that installed it."""
    return {
        str(file): _canonical(dist.metadata["Name"]) for dist in distributions() for file in dist.files or ()
    }


def _distribution_of(module: str) -> str | None:
    """The distribution that ships `module` (azure.* namespace packages are told apart by file)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or "site-packages/" not in spec.origin:
        return None
    return _owner_of_file().get(spec.origin.split("site-packages/", 1)[1])


def _imported_modules() -> set[str]:
    """Every absolute third-party module product code imports (at module level or inside functions)."""
    ours = {Path(entry).stem for entry in PRODUCT} | {"__future__"}
    found: set[str] = set()
    for entry in PRODUCT:
        path = REPO / entry
        for source in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module)
    outside = ours | sys.stdlib_module_names
    return {module for module in found if module.split(".")[0] not in outside}


def test_every_distribution_the_app_imports_is_pinned_for_run_time() -> None:
    imported = {_distribution_of(module) for module in _imported_modules()} - {None}
    assert imported, "the product imports third-party packages"
    assert imported - _pinned(REPO / "requirements.txt") == set()


def test_nothing_is_pinned_for_run_time_that_the_app_never_imports() -> None:
    imported = {_distribution_of(module) for module in _imported_modules()}
    assert _pinned(REPO / "requirements.txt") - imported == set()
