"""The published package: .funcignore leaves function_app.py's import closure, host.json and requirements.txt.

The package's file list is computed the way a publish reads .funcignore (gitignore rules, through pathspec)
over the working tree's files (`git ls-files` with untracked, not-ignored files: a publish uploads the
directory, committed or not). The app's side is the import graph of function_app.py, followed statically
through every import statement of our own modules (lazy imports included) and checked against what a real
import loads, so a module the app imports but the ignore rules drop fails here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pathspec

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "function_app.py"
# What the host itself reads besides the Python code.
HOST_FILES = {"host.json", "requirements.txt"}


def working_tree_files() -> set[str]:
    """Files a publish would see: tracked ones and untracked ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return {name for name in listed if (ROOT / name).is_file()}


def package_files() -> set[str]:
    """The working tree's files that .funcignore does not exclude."""
    lines = (ROOT / ".funcignore").read_text(encoding="utf-8").splitlines()
    ignore = pathspec.GitIgnoreSpec.from_lines(lines)
    return {name for name in working_tree_files() if not ignore.match_file(name)}


def module_file(name: str) -> str | None:
    """The repository file of a module name, or None when the module is not ours (stdlib, site-packages)."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(ROOT).as_posix()
    return None


def with_packages(name: str) -> list[str]:
    """A module and every package above it: importing a.b.c runs a/__init__.py and a/b/__init__.py."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def imported_names(path: Path, module: str) -> set[str]:
    """Module names one file imports, anywhere in it (lazy imports inside functions included)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            names.add(base)
            # `from package import module` imports a module, not only a name.
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def static_import_closure() -> set[str]:
    """Repository files reached from function_app.py by following import statements."""
    seen: set[str] = set()
    pending = ["function_app"]
    while pending:
        module = pending.pop()
        for name in with_packages(module):
            file = module_file(name)
            if file is None or file in seen:
                continue
            seen.add(file)
            pending.extend(imported_names(ROOT / file, name))
    return seen


def runtime_import_closure() -> set[str]:
    """Repository files loaded by actually importing function_app.py (catches importlib-based imports)."""
    script = (
        "import sys, function_app\n"
        "for m in list(sys.modules.values()):\n"
        "    f = getattr(m, '__file__', None)\n"
        "    if f: print(f)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    files = set()
    for line in out.splitlines():
        path = Path(line).resolve()
        if path.is_relative_to(ROOT) and not path.relative_to(ROOT).parts[0].startswith(".venv"):
            files.add(path.relative_to(ROOT).as_posix())
    return files


def test_the_package_is_exactly_what_the_app_imports() -> None:
    imported = static_import_closure()
    assert runtime_import_closure() <= imported
    expected = imported | HOST_FILES
    package = package_files()
    assert not expected - package, (
        f"imported by the app but left out by .funcignore: {sorted(expected - package)}"
    )
    assert not package - expected, f"published but never imported: {sorted(package - expected)}"


def test_the_package_leaves_out_the_development_tree() -> None:
    package = package_files()
    for prefix in (
        "node_modules/",
        "tests/",
        "emulators/",
        "devhost/",
        "bench/",
        "scripts/",
        "spec/",
        ".venv",
    ):
        assert not any(name.startswith(prefix) for name in package), prefix
    assert {ENTRY, "host.json", "requirements.txt"} <= package
    assert any(name.startswith("activities/") for name in package)


def test_ignore_rules_follow_gitignore_semantics() -> None:
    """The reading of .funcignore is pathspec's gitignore matching, not a homemade one."""
    spec = pathspec.GitIgnoreSpec.from_lines(["tests/", "*.md", "!keep.md"])
    assert spec.match_file("tests/unit/test_x.py") and spec.match_file("connector/CATALOG.md")
    assert not spec.match_file("keep.md") and not spec.match_file("connector/targets.py")
