"""History as the status API shows it with `showHistory=true` (the Durable extension's documented shape).

The extension does not return its internal events: it drops OrchestratorStarted/OrchestratorCompleted, folds
each TaskScheduled (and SubOrchestrationInstanceCreated) into the event that completed it as `FunctionName`,
`ScheduledTime` and `Input`, renames ExecutionStarted's `Name` to `FunctionName`, names `EventType` and
`OrchestrationStatus` by their enum names, and returns a `Result` only with `showHistoryOutput=true`, as JSON
rather than as the JSON text it is stored as. This follows DurableClient.GetDurableOrchestrationStatusAsync of
Azure/azure-functions-durable-extension and the example in the HTTP API reference ("Get instance status").
"""

from __future__ import annotations

import json
from typing import Any

from devhost.durable.history import EventType

# Scheduling event -> the events that complete it (matched by the completion's TaskScheduledId).
_COMPLETIONS = {
    EventType.TaskScheduled: (EventType.TaskCompleted, EventType.TaskFailed),
    EventType.SubOrchestrationInstanceCreated: (
        EventType.SubOrchestrationInstanceCompleted,
        EventType.SubOrchestrationInstanceFailed,
    ),
}
_SCHEDULED_BY = {done: scheduled for scheduled, dones in _COMPLETIONS.items() for done in dones}
_WITH_OUTPUT = (
    EventType.TaskCompleted,
    EventType.SubOrchestrationInstanceCompleted,
    EventType.ExecutionCompleted,
)
_INTERNAL = (EventType.OrchestratorStarted, EventType.OrchestratorCompleted)


def _parsed(text: Any) -> Any:
    """A stored JSON text as JSON (the extension's ParseToJToken: text that is not JSON stays a string)."""
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    if not stripped:
        return ""
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        return text


def public_history(
    events: list[dict[str, Any]], *, show_output: bool, show_input: bool
) -> list[dict[str, Any]]:
    """The history events of one instance as the status API returns them."""
    scheduled: dict[tuple[EventType, int], tuple[int, dict[str, Any]]] = {}
    folded: set[int] = set()
    shown: list[dict[str, Any] | None] = []
    for index, event in enumerate(events):
        kind = EventType(event["EventType"])
        item = {k: v for k, v in event.items() if k not in ("EventId", "IsPlayed")}
        item["EventType"] = kind.name
        if kind in _INTERNAL:
            shown.append(None)
            continue
        if kind in _COMPLETIONS:
            scheduled[(kind, event.get("EventId", -1))] = (index, event)
            item.pop("Version", None)
        elif kind in _SCHEDULED_BY:
            found = scheduled.get((_SCHEDULED_BY[kind], item.pop("TaskScheduledId", -1)))
            if found is not None:
                origin_index, origin = found
                item["ScheduledTime"] = origin["Timestamp"]
                item["FunctionName"] = origin.get("Name")
                item["Input"] = origin.get("Input")
                folded.add(origin_index)
        elif kind == EventType.ExecutionStarted:
            item["FunctionName"] = item.pop("Name", None)
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags"):
                item.pop(key, None)
        elif kind == EventType.TimerFired:
            item.pop("TimerId", None)
        if kind in _WITH_OUTPUT:
            if show_output:
                item["Result"] = _parsed(item.get("Result"))
            else:
                item.pop("Result", None)
        if not show_input:
            item.pop("Input", None)
        shown.append(item)
    return [item for index, item in enumerate(shown) if item is not None and index not in folded]
