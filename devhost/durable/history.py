"""History events and action shapes of the Durable out-of-proc protocol (durable-protocol.md §1-§2)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

# Runtime statuses after which an instance takes no more work.
TERMINAL = ("Completed", "Failed", "Terminated")


class EventType(IntEnum):
    """HistoryEventType numbers, as the SDK reads them."""

    ExecutionStarted = 0
    ExecutionCompleted = 1
    ExecutionFailed = 2
    ExecutionTerminated = 3
    TaskScheduled = 4
    TaskCompleted = 5
    TaskFailed = 6
    SubOrchestrationInstanceCreated = 7
    SubOrchestrationInstanceCompleted = 8
    SubOrchestrationInstanceFailed = 9
    TimerCreated = 10
    TimerFired = 11
    OrchestratorStarted = 12
    OrchestratorCompleted = 13
    EventSent = 14
    EventRaised = 15
    ContinueAsNew = 16
    GenericEvent = 17
    HistoryState = 18
    ExecutionSuspended = 19
    ExecutionResumed = 20


class ActionType(IntEnum):
    """ActionType numbers of the actions an orchestrator episode returns."""

    CallActivity = 0
    CallActivityWithRetry = 1
    CallSubOrchestrator = 2
    CallSubOrchestratorWithRetry = 3
    ContinueAsNew = 4
    CreateTimer = 5
    WaitForExternalEvent = 6
    CallEntity = 7
    CallHttp = 8
    SignalEntity = 9
    WhenAny = 11
    WhenAll = 12


# Actions that take a task id from the SDK's sequence (WaitForExternalEvent is keyed by name instead).
ID_CONSUMING_ACTIONS = frozenset(ActionType) - {
    ActionType.WaitForExternalEvent,
    ActionType.WhenAny,
    ActionType.WhenAll,
}


def format_timestamp(when: datetime) -> str:
    """Fixed-width UTC ISO-8601 with a `Z` (sorts as text; a naive stamp breaks the SDK's comparisons)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_status_time(when: str | None) -> str | None:
    """The status API's `YYYY-MM-DDTHH:MM:SSZ` form of a stored timestamp."""
    return None if when is None else when[:19] + "Z"


def parse_timestamp(text: str) -> datetime:
    """Parse a timestamp written by format_timestamp or sent by the SDK (any ISO-8601 with Z or offset)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def event(kind: EventType, timestamp: str, *, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    """A history event as the host sends it: EventType, EventId, IsPlayed, Timestamp and the extra fields."""
    return {"EventType": int(kind), "EventId": event_id, "IsPlayed": False, "Timestamp": timestamp, **fields}


def flatten_actions(actions: list[Any]) -> list[dict[str, Any]]:
    """The leaf actions, in order: V1 nests lists per yield, V2/V3 nest WhenAll/WhenAny compounds."""
    flat: list[dict[str, Any]] = []
    for item in actions:
        if isinstance(item, list):
            flat.extend(flatten_actions(item))
        elif item.get("actionType") in (ActionType.WhenAny, ActionType.WhenAll):
            flat.extend(flatten_actions(item.get("compoundActions") or []))
        else:
            flat.append(item)
    return flat


def describe_action(action: dict[str, Any]) -> tuple[str, str]:
    """(kind, name) of an action, for the non-determinism check and its message."""
    kind = ActionType(action["actionType"])
    if kind in (ActionType.CallActivity, ActionType.CallActivityWithRetry):
        return "activity", str(action.get("functionName"))
    if kind in (ActionType.CallSubOrchestrator, ActionType.CallSubOrchestratorWithRetry):
        return "sub-orchestration", str(action.get("functionName"))
    if kind is ActionType.CreateTimer:
        return "timer", ""
    if kind is ActionType.WaitForExternalEvent:
        return "external event wait", str(action.get("externalEventName"))
    if kind in (ActionType.CallEntity, ActionType.SignalEntity):
        return "entity operation", f"{action.get('instanceId')}.{action.get('operation')}"
    if kind is ActionType.CallHttp:
        return "http call", str((action.get("httpRequest") or {}).get("uri"))
    return "continue-as-new", ""
