"""Finds the functions of a Python v2-model app the way the Functions worker does."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azure.functions.decorators.function_app import FunctionRegister

# The trigger dict key that overrides the function name as the Durable name, per trigger type.
_DURABLE_NAME_KEYS = {
    "orchestrationTrigger": "orchestration",
    "activityTrigger": "activity",
    "entityTrigger": "entityName",
}

# get_functions() builds every function and can run only once per app object (a second call
# raises "does not have a unique function name"), so indexes are kept per app object.
_INDEX_CACHE: dict[int, tuple[FunctionRegister, FunctionIndex]] = {}


@dataclass
class FunctionInfo:
    """One function of the app, with its trigger and bindings as function.json would list them."""

    name: str
    trigger_type: str
    trigger: dict[str, Any]
    bindings: list[dict[str, Any]]
    user_function: Callable[..., Any]
    durable_name: str | None = None
    client_binding_name: str | None = None
    input_binding_name: str = ""


@dataclass
class FunctionIndex:
    """Every function of the app, by function name, with lookups by trigger type and Durable name."""

    functions: dict[str, FunctionInfo] = field(default_factory=dict)

    def by_trigger(self, trigger_type: str) -> list[FunctionInfo]:
        """The functions whose trigger has this type (e.g. "httpTrigger")."""
        return [f for f in self.functions.values() if f.trigger_type == trigger_type]

    def _by_durable_name(self, trigger_type: str) -> dict[str, FunctionInfo]:
        return {f.durable_name: f for f in self.by_trigger(trigger_type) if f.durable_name}

    @property
    def orchestrators(self) -> dict[str, FunctionInfo]:
        """Orchestrator functions by orchestration name."""
        return self._by_durable_name("orchestrationTrigger")

    @property
    def activities(self) -> dict[str, FunctionInfo]:
        """Activity functions by activity name."""
        return self._by_durable_name("activityTrigger")

    @property
    def entities(self) -> dict[str, FunctionInfo]:
        """Entity functions by entity name (as given, case preserved)."""
        return self._by_durable_name("entityTrigger")


def missing_function(name: str, kind: str) -> str:
    """The Durable extension's words for a name that no enabled `kind` function (orchestrator, ...) has."""
    return f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function."


def find_function_app(module: Any) -> FunctionRegister:
    """The one FunctionRegister (FunctionApp/DFApp) instance defined at the module's top level."""
    apps = [value for value in vars(module).values() if isinstance(value, FunctionRegister)]
    unique = list({id(app): app for app in apps}.values())
    if not unique:
        raise ValueError(f"no FunctionApp instance found in module {module.__name__!r}")
    if len(unique) > 1:
        raise ValueError(f"more than one FunctionApp instance found in module {module.__name__!r}")
    return unique[0]


def index_app(app: FunctionRegister) -> FunctionIndex:
    """Index an app object's functions; get_functions() is called once per app object."""
    cached = _INDEX_CACHE.get(id(app))
    if cached is not None and cached[0] is app:
        return cached[1]
    index = FunctionIndex()
    for function in app.get_functions():
        info = _describe(function)
        index.functions[info.name] = info
    _INDEX_CACHE[id(app)] = (app, index)
    return index


def load_app(module: str = "function_app", app_dir: str | None = None) -> FunctionIndex:
    """Import the app module (from app_dir if given) and index its functions."""
    if app_dir is not None and app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    return index_app(find_function_app(importlib.import_module(module)))


def _describe(function: Any) -> FunctionInfo:
    # The raw bindings are the JSON the worker reports to the host: enums already turned into strings.
    bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
    trigger_obj = function.get_trigger()
    trigger_type = trigger_obj.get_binding_name()
    trigger_name = trigger_obj.name
    trigger = next(
        (b for b in bindings if b.get("type") == trigger_type and b.get("name") == trigger_name),
        {"type": trigger_type, "name": trigger_name},
    )
    name = function.get_function_name()
    durable_key = _DURABLE_NAME_KEYS.get(trigger_type)
    durable_name = (trigger.get(durable_key) or name) if durable_key else None
    client = next((b["name"] for b in bindings if b.get("type") == "durableClient"), None)
    return FunctionInfo(
        name=name,
        trigger_type=trigger_type,
        trigger=trigger,
        bindings=bindings,
        user_function=function.get_user_function(),
        durable_name=durable_name,
        client_binding_name=client,
        input_binding_name=trigger_name,
    )
