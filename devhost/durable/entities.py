"""Durable entities: operation batches run through the SDK's entity handler (durable-protocol.md §4)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import azure.functions as func

from devhost.discovery import FunctionIndex, missing_function
from devhost.durable import history as h
from devhost.durable.history import EventType
from devhost.durable.store import TaskHubStore

# Pending operations are inbox messages of the entity's scheduler id with this execution id.
ENTITY_EXECUTION = "entity"


def scheduler_id(name: str, key: str) -> str:
    """The "@name@key" id the SDK uses for an entity (the name is case-insensitive)."""
    return f"@{name.lower()}@{key}"


def split_scheduler_id(entity_id: str) -> tuple[str, str]:
    """(name, key) of an "@name@key" id."""
    _, name, key = entity_id.split("@", 2)
    return name, key


def operation_message(
    operation: str,
    input_text: str | None,
    *,
    signal: bool,
    request_id: str | None = None,
    parent: str | None = None,
    parent_execution: str | None = None,
) -> dict[str, Any]:
    """An operation request for an entity's inbox; calls name the orchestration that awaits the answer."""
    return {
        "EntityOperation": {
            "id": request_id or str(uuid.uuid4()),
            "name": operation,
            "signal": signal,
            "input": input_text,
            "parent": parent,
            "parentExecution": parent_execution,
        }
    }


class EntityRunner:
    """Runs the pending operations of one entity as a batch and answers the orchestrations that called."""

    def __init__(
        self,
        store: TaskHubStore,
        index: FunctionIndex,
        record: Callable[[str, str, str, float, str, str | None], None],
    ) -> None:
        self.store = store
        self.index = index
        self.record = record

    def _function(self, name: str) -> Any:
        for durable_name, info in self.index.entities.items():
            if durable_name.lower() == name.lower():
                return info.user_function
        return None

    def run_batch(self, entity_id: str, ts: str) -> bool:
        """Deliver every visible operation of the entity in one invocation; False when none was waiting."""
        messages = self.store.visible_messages(entity_id, ts)
        if not messages:
            return False
        name, key = split_scheduler_id(entity_id)
        exists, state = self.store.entity_state(entity_id)
        operations = [m.event["EntityOperation"] for m in messages]
        batch = [
            {
                "id": op["id"],
                "name": op["name"],
                "signal": op["signal"],
                # The SDK decodes operation input twice (json.loads, then df_loads).
                "input": json.dumps(op["input"] if op["input"] is not None else "null"),
            }
            for op in operations
        ]
        started = time.perf_counter()
        handler = self._function(name)
        results: list[dict[str, Any]]
        error: str | None = None
        if handler is None:
            error = missing_function(name, "entity")
            results = [{"isError": True, "result": json.dumps(error)} for _ in operations]
        else:
            context = {"self": {"name": name, "key": key}, "state": state, "exists": exists, "batch": batch}
            try:
                output = json.loads(handler(func.EntityContext(json.dumps(context))))
            except Exception as exc:  # the whole batch failed: every operation gets the error
                error = f"{type(exc).__name__}: {exc}"
                results = [{"isError": True, "result": json.dumps(error)} for _ in operations]
            else:
                results = output["results"]
                exists, state = bool(output.get("entityExists")), output.get("entityState")
        with self.store.transaction():
            self.store.delete_messages([m.id for m in messages])
            self.store.put_entity_state(entity_id, exists, state, ts)
            for op, result in zip(operations, results, strict=False):
                if op["signal"] or not op["parent"]:
                    continue
                answer: dict[str, Any] = {"result": result.get("result")}
                if result.get("isError"):
                    answer["exceptionType"] = "Exception"
                self.store.send(
                    op["parent"],
                    op["parentExecution"],
                    ts,
                    h.event(EventType.EventRaised, ts, Name=op["id"], Input=json.dumps(answer)),
                )
        failed = error or next((json.loads(r["result"]) for r in results if r.get("isError")), None)
        self.record("entity", name, entity_id, started, "Failed" if failed else "Succeeded", failed)
        return True
