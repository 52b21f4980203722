"""The app settings the product code reads, computed from the code itself (not listed by hand).

Three sources, so that a setting read any of these ways is found:
- every `from_env` of the product, called with a mapping that records each name asked for;
- string literals the code passes with an environment mapping (`os.environ.get("X")`, `env.get("X")`,
  `_text(env, "X")`, `os.getenv("X")`, `os.environ["X"]`);
- binding expressions (`%X%`) in the code and host.json, and the `connection=` names of trigger bindings.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("function_app.py", "triggers", "orchestrators", "activities", "connector", "sealing")
_ENV_NAMES = {"env", "environ", "environment"}
_SETTING_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_BINDING_EXPRESSION = re.compile(r"%([A-Za-z0-9_]+)%")
# The Functions host always reads it (host storage, timers' leases, the Durable Azure Storage backend).
HOST_SETTINGS = {"AzureWebJobsStorage"}


class RecordingEnv(dict[str, str]):
    """An empty environment that remembers every name looked up in it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: Any, default: Any = None) -> Any:
        self.asked.add(str(key))
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def product_files() -> Iterator[Path]:
    """Every Python file of the deployed app's own packages."""
    for entry in PRODUCT:
        path = ROOT / entry
        if path.is_file():
            yield path
        else:
            yield from sorted(path.rglob("*.py"))


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _is_env(node: ast.AST) -> bool:
    """`env`, `environ`, `os.environ`."""
    if isinstance(node, ast.Name):
        return node.id in _ENV_NAMES
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _literal_names(nodes: list[ast.expr]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SETTING_NAME.match(node.value):
            yield node.value


def literal_reads(tree: ast.AST) -> set[str]:
    """Setting names passed as literals alongside an environment mapping, or looked up in one."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            on_env = isinstance(func, ast.Attribute) and _is_env(func.value)
            getenv = isinstance(func, ast.Attribute) and func.attr == "getenv"
            with_env = any(_is_env(arg) for arg in node.args)
            if on_env or getenv or with_env:
                found.update(_literal_names(node.args))
        elif isinstance(node, ast.Subscript) and _is_env(node.value):
            found.update(_literal_names([node.slice]))
    return found


def binding_settings(tree: ast.AST) -> set[str]:
    """`%NAME%` in the trigger and binding decorators, and their `connection=` names."""
    found: set[str] = set()
    decorators = [
        decorator
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call)
    ]
    for call in decorators:
        for node in ast.walk(call):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update(_BINDING_EXPRESSION.findall(node.value))
        connections = [kw.value for kw in call.keywords if kw.arg == "connection"]
        found.update(_literal_names(connections))
    return found


def from_env_reads(trees: Mapping[Path, ast.AST]) -> set[str]:
    """Names asked for by every `from_env` classmethod of the product, run on an empty environment."""
    asked: set[str] = set()
    for path, tree in trees.items():
        classes = [
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(isinstance(item, ast.FunctionDef) and item.name == "from_env" for item in node.body)
        ]
        if not classes:
            continue
        module = importlib.import_module(_module_name(path))
        for name in classes:
            env = RecordingEnv()
            # A required setting missing still leaves the names read so far.
            with contextlib.suppress(Exception):
                getattr(module, name).from_env(env)
            asked |= env.asked
    return asked


def host_json_settings() -> set[str]:
    """`%NAME%` binding expressions in host.json."""
    return set(_BINDING_EXPRESSION.findall(json.dumps(json.loads((ROOT / "host.json").read_text()))))


def settings_the_code_reads() -> set[str]:
    """Every app setting the deployed app reads, from the code and host.json."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in product_files()}
    found = set(HOST_SETTINGS) | host_json_settings() | from_env_reads(trees)
    for tree in trees.values():
        found |= literal_reads(tree) | binding_settings(tree)
    return found
