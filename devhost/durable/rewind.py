"""Rewind planning: go back to the episode that delivered the failure, and find the work to run again.

The history is cut where that episode started and the engine's bookkeeping is restored from before it. The
events it (and later episodes) delivered are sent again, except the failures (their tasks run again) and the
extra retry timers that only surfaced those failures. Work scheduled before the cut that never completed there
(activities, timers, children) is re-queued, since a Failed instance dropped its pending work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devhost.durable.history import EventType

_FAILURES = (EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed)


@dataclass
class RewindPlan:
    """What to cut, restore and send again."""

    episode_seq: int
    history_len: int
    state: dict[str, Any]
    redeliver: list[dict[str, Any]] = field(default_factory=list)
    rerun_activities: list[tuple[int, str, str | None]] = field(default_factory=list)
    resend_timers: list[tuple[int, str]] = field(default_factory=list)
    children: list[tuple[int, str]] = field(default_factory=list)  # (task id, child instance id) outstanding


def _is_retry_timer(event: dict[str, Any], state: dict[str, Any]) -> bool:
    return (
        event.get("EventType") == EventType.TimerFired and str(event.get("TimerId")) in state["retry_timers"]
    )


def plan_rewind(episodes: list[dict[str, Any]], history: list[dict[str, Any]]) -> RewindPlan | None:
    """The plan for rewinding a failed execution, or None when it has no episode to go back to."""
    if not episodes:
        return None
    start = len(episodes) - 1
    # Episodes that only fired the extra retry timer surfaced an earlier failure: go back past them.
    while start > 0 and all(
        _is_retry_timer(e, episodes[start]["state_before"]) for e in episodes[start]["batch"]
    ):
        start -= 1
    first = episodes[start]
    plan = RewindPlan(episode_seq=first["seq"], history_len=first["history_len"], state=first["state_before"])
    for episode in episodes[start:]:
        for event in episode["batch"]:
            if event.get("EventType") in _FAILURES or _is_retry_timer(event, episode["state_before"]):
                continue
            plan.redeliver.append(event)
    _outstanding(plan, history[: plan.history_len])
    return plan


def _outstanding(plan: RewindPlan, kept: list[dict[str, Any]]) -> None:
    activities: dict[int, tuple[str, str | None]] = {}
    timers: dict[int, str] = {}
    children: dict[int, str] = {}
    done: set[int] = set()
    for event in [*kept, *plan.redeliver]:
        kind = event.get("EventType")
        if kind == EventType.TaskScheduled:
            activities[event["EventId"]] = (event.get("Name", ""), event.get("Input"))
        elif kind == EventType.TimerCreated:
            timers[event["EventId"]] = event["FireAt"]
        elif kind == EventType.SubOrchestrationInstanceCreated:
            children[event["EventId"]] = event["InstanceId"]
        elif kind in (
            EventType.TaskCompleted,
            EventType.TaskFailed,
            EventType.SubOrchestrationInstanceCompleted,
            EventType.SubOrchestrationInstanceFailed,
        ):
            done.add(event["TaskScheduledId"])
        elif kind == EventType.TimerFired:
            done.add(event["TimerId"])
    plan.rerun_activities = [(tid, name, data) for tid, (name, data) in activities.items() if tid not in done]
    plan.resend_timers = [(tid, fire_at) for tid, fire_at in timers.items() if tid not in done]
    plan.children = [(tid, child) for tid, child in children.items() if tid not in done]
