"""Orchestrator episodes: build the context, replay through the SDK's handler, apply the decisions.

An episode delivers a batch of inbox messages after a fresh OrchestratorStarted, runs the orchestrator, and
writes in one transaction: the new history, the follow-up work (activities, timers, children, entity
operations, the parent's notification) and the deletion of the consumed messages.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import azure.functions as func

from devhost.clock import Clock
from devhost.discovery import FunctionIndex, missing_function
from devhost.durable import history as h
from devhost.durable.entities import ENTITY_EXECUTION, EntityRunner, operation_message
from devhost.durable.history import TERMINAL, ActionType, EventType
from devhost.durable.store import InboxMessage, Instance, TaskHubStore

_OOP_MARKER = "\n\n$OutOfProcData$:"
_MAX_BATCH = 1000
Recorder = Callable[[str, str, str, float, str, "str | None"], None]


def fresh_state() -> dict[str, Any]:
    """The engine's bookkeeping for a new execution.

    next_id mirrors the SDK's task sequence; actions are the known flattened actions [kind, name, id]; retry
    chains are keyed by their first task id, with maps from each attempt's task and timer ids.
    """
    return {"next_id": 0, "actions": [], "retry": {}, "retry_tasks": {}, "retry_timers": {}, "timers": {}}


class EpisodeRunner:
    """Runs orchestrator episodes (and entity batches, which share the inbox) against the task hub."""

    def __init__(self, store: TaskHubStore, index: FunctionIndex, clock: Clock, record: Recorder) -> None:
        self.store = store
        self.index = index
        self.clock = clock
        self.record = record
        self.entities = EntityRunner(store, index, record)
        self.timer_log: dict[str, list[datetime]] = {}

    def run_episode(self, instance_id: str) -> bool:
        """Deliver the instance's visible messages in one episode; False when there was nothing to do."""
        now = self.clock.now()
        ts = h.format_timestamp(now)
        if instance_id.startswith("@"):
            return self.entities.run_batch(instance_id, ts)
        inst = self.store.get_instance(instance_id)
        messages = self.store.visible_messages(instance_id, ts)
        if inst is None or inst.status in TERMINAL:
            with self.store.transaction():
                self.store.delete_messages([m.id for m in messages])
            return bool(messages)
        if inst.status == "Suspended":
            return False
        batch, stale = self._choose_batch(inst, messages)
        if not batch:
            with self.store.transaction():
                self.store.delete_messages([m.id for m in stale])
            return bool(stale)
        history = self.store.history(instance_id)
        delivered = [dict(m.event, Timestamp=ts) for m in batch]
        new_events = [h.event(EventType.OrchestratorStarted, ts), *delivered]
        started = time.perf_counter()
        result, error = self._invoke_orchestrator(inst, history + new_events)
        with self.store.transaction():
            self.store.record_episode(
                instance_id,
                inst.execution_id,
                len(history),
                copy.deepcopy(inst.state),
                [m.event for m in batch],
            )
            self.store.delete_messages([m.id for m in batch + stale])
            self._apply(inst, history, new_events, delivered, result, error, now)
        self.record(
            "orchestrator",
            inst.name,
            instance_id,
            started,
            inst.status,
            inst.output if inst.status == "Failed" else None,
        )
        return True

    def _choose_batch(
        self, inst: Instance, messages: list[InboxMessage]
    ) -> tuple[list[InboxMessage], list[InboxMessage]]:
        # While a retry is pending the SDK hands out retry ids as it processes each failure or retry timer,
        # before resumed user code yields anything; delivering such an event alone keeps the order
        # "retry ids, then new actions" that the engine can mirror (durable-protocol.md §7).
        batch: list[InboxMessage] = []
        stale: list[InboxMessage] = []
        for msg in messages:
            if msg.execution_id != inst.execution_id:
                stale.append(msg)
                continue
            if self._is_retry_event(inst.state, msg.event):
                if not batch:
                    batch.append(msg)
                break
            batch.append(msg)
            if len(batch) >= _MAX_BATCH:
                break
        return batch, stale

    @staticmethod
    def _is_retry_event(state: dict[str, Any], event: dict[str, Any]) -> bool:
        kind = event.get("EventType")
        if kind in (EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed):
            return str(event.get("TaskScheduledId")) in state["retry_tasks"]
        if kind == EventType.TimerFired:
            return str(event.get("TimerId")) in state["retry_timers"]
        return False

    def _invoke_orchestrator(
        self, inst: Instance, events: list[dict[str, Any]]
    ) -> tuple[dict[str, Any] | None, str | None]:
        info = self.index.orchestrators.get(inst.name)
        if info is None:
            return None, missing_function(inst.name, "orchestrator")
        context = {
            "history": events,
            "input": inst.input,
            "instanceId": inst.instance_id,
            "isReplaying": False,
            "parentInstanceId": (inst.parent or {}).get("instanceId"),
            "upperSchemaVersion": 1,
            "upperSchemaVersionNew": 2,
        }
        try:
            output = info.user_function(func.OrchestrationContext(json.dumps(context)))
            state = json.loads(output)
        except Exception as exc:  # the SDK reports user failures as an exception carrying the state
            text = str(exc)
            if _OOP_MARKER in text:
                message, data = text.split(_OOP_MARKER, 1)
                state = json.loads(data)
                return state, str(state.get("error") or message)
            return None, f"{type(exc).__name__}: {exc}"
        return state, (str(state["error"]) if state.get("error") else None)

    def _apply(
        self,
        inst: Instance,
        history: list[dict[str, Any]],
        new_events: list[dict[str, Any]],
        delivered: list[dict[str, Any]],
        result: dict[str, Any] | None,
        error: str | None,
        now: datetime,
    ) -> None:
        ts = h.format_timestamp(now)
        appended = list(new_events)
        if any(e["EventType"] == EventType.ExecutionStarted for e in delivered) and inst.status == "Pending":
            inst.status = "Running"
        for event in delivered:
            self._host_retry(inst, event, appended, now)
        flat = h.flatten_actions(result.get("actions") or []) if result else []
        mismatch = self._check_determinism(inst, flat)
        if mismatch:
            error = mismatch
        elif error is None:
            self._cancel_timers(inst, flat)
            for action in flat[len(inst.state["actions"]) :]:
                if result and result.get("isDone") and action["actionType"] != ActionType.ContinueAsNew:
                    continue  # nothing more is scheduled once the orchestrator is done
                problem = self._schedule(inst, action, appended, now)
                if problem:
                    error = problem
                    break
        if result is not None and not mismatch:
            status = result.get("customStatus")
            inst.custom_status = None if status is None else json.dumps(status)
        appended.append(h.event(EventType.OrchestratorCompleted, ts))
        inst.last_updated_time = ts
        self.store.append_history(inst.instance_id, len(history), appended)
        if error is not None:
            message = error if mismatch else f"Orchestrator function '{inst.name}' failed: {error}"
            self.finish(inst, "Failed", json.dumps(message), ts, history_len=len(history) + len(appended))
        elif result is not None and result.get("isDone"):
            if flat and flat[-1]["actionType"] == ActionType.ContinueAsNew:
                self._continue_as_new(inst, flat[-1].get("input"), ts)
            else:
                output = result.get("output")
                self.finish(
                    inst, "Completed", json.dumps(output), ts, history_len=len(history) + len(appended)
                )
        self.store.put_instance(inst)

    def _check_determinism(self, inst: Instance, flat: list[dict[str, Any]]) -> str | None:
        known = inst.state["actions"]
        for position, (recorded, action) in enumerate(zip(known, flat, strict=False)):
            kind, name = h.describe_action(action)
            if (kind, name) != (recorded[0], recorded[1]):
                return (
                    f"Non-deterministic workflow detected in orchestrator '{inst.name}': "
                    f"action #{position} was recorded as {recorded[0]} '{recorded[1]}' "
                    f"but the replay now gives {kind} '{name}'. "
                    "Orchestrator code must make the same calls in the same order on every replay."
                )
        if len(flat) < len(known):
            kind, name = known[len(flat)][0], known[len(flat)][1]
            return (
                f"Non-deterministic workflow detected in orchestrator '{inst.name}': history records "
                f"{len(known)} actions (the next was {kind} '{name}') "
                f"but the replay now gives only {len(flat)}."
            )
        return None

    def _cancel_timers(self, inst: Instance, flat: list[dict[str, Any]]) -> None:
        for position, action in enumerate(flat[: len(inst.state["actions"])]):
            timer_id = inst.state["timers"].get(str(position))
            if timer_id is not None and action.get("isCanceled"):
                self.store.delete_timer(inst.instance_id, timer_id)
                del inst.state["timers"][str(position)]

    def _take_id(self, inst: Instance) -> int:
        task_id: int = inst.state["next_id"]
        inst.state["next_id"] = task_id + 1
        return task_id

    def _schedule(
        self, inst: Instance, action: dict[str, Any], appended: list[dict[str, Any]], now: datetime
    ) -> str | None:
        ts = h.format_timestamp(now)
        kind = ActionType(action["actionType"])
        task_id = self._take_id(inst) if kind in h.ID_CONSUMING_ACTIONS else None
        label, name = h.describe_action(action)
        position = len(inst.state["actions"])
        inst.state["actions"].append([label, name, task_id])
        if task_id is None or kind is ActionType.ContinueAsNew:
            return None
        if kind in (ActionType.CallActivityWithRetry, ActionType.CallSubOrchestratorWithRetry):
            options = action.get("retryOptions") or {}
            inst.state["retry"][str(task_id)] = {
                "kind": "activity" if kind is ActionType.CallActivityWithRetry else "sub",
                "name": name,
                "input": action.get("input"),
                "instance_id": action.get("instanceId"),
                "max": int(options.get("maxNumberOfAttempts", 1)),
                "first_ms": int(options.get("firstRetryIntervalInMilliseconds", 0)),
                "backoff": float(options.get("backoffCoefficient", 1.0)),
                "max_ms": options.get("maxRetryIntervalInMilliseconds"),
                "attempt": 1,
            }
            inst.state["retry_tasks"][str(task_id)] = str(task_id)
        if kind in (ActionType.CallActivity, ActionType.CallActivityWithRetry):
            self._schedule_activity(inst, task_id, name, action.get("input"), appended, ts)
        elif kind in (ActionType.CallSubOrchestrator, ActionType.CallSubOrchestratorWithRetry):
            self._start_child(
                inst, task_id, name, action.get("input"), action.get("instanceId"), appended, ts
            )
        elif kind is ActionType.CreateTimer:
            fire_at = h.parse_timestamp(action["fireAt"])
            self._create_timer(inst, task_id, fire_at, appended, ts)
            inst.state["timers"][str(position)] = task_id
        elif kind in (ActionType.CallEntity, ActionType.SignalEntity):
            self._send_entity_operation(inst, task_id, action, appended, ts)
        else:
            return f"devhost does not support {label} actions yet ({name})."
        return None

    def _send_entity_operation(
        self, inst: Instance, task_id: int, action: dict[str, Any], appended: list[dict[str, Any]], ts: str
    ) -> None:
        signal = action["actionType"] == ActionType.SignalEntity
        # A stable request id: the SDK re-keys the call to it when it replays EventSent.
        request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{inst.instance_id}/{inst.execution_id}/{task_id}"))
        entity_id = action["instanceId"]
        message = operation_message(
            action["operation"],
            action.get("input"),
            signal=signal,
            request_id=request_id,
            parent=inst.instance_id,
            parent_execution=inst.execution_id,
        )
        appended.append(
            h.event(
                EventType.EventSent,
                ts,
                event_id=task_id,
                InstanceId=entity_id,
                Name="op",
                Input=json.dumps({"id": request_id, "op": action["operation"], "signal": signal}),
            )
        )
        self.store.send(entity_id, ENTITY_EXECUTION, ts, message)

    def _schedule_activity(
        self,
        inst: Instance,
        task_id: int,
        name: str,
        input_text: str | None,
        appended: list[dict[str, Any]],
        ts: str,
    ) -> None:
        appended.append(
            h.event(EventType.TaskScheduled, ts, event_id=task_id, Name=name, Version="", Input=input_text)
        )
        self.store.enqueue_activity(inst.instance_id, inst.execution_id, task_id, name, input_text)

    def _create_timer(
        self, inst: Instance, timer_id: int, fire_at: datetime, appended: list[dict[str, Any]], ts: str
    ) -> None:
        fire_text = h.format_timestamp(fire_at)
        appended.append(h.event(EventType.TimerCreated, ts, event_id=timer_id, FireAt=fire_text))
        self.store.send(
            inst.instance_id,
            inst.execution_id,
            fire_text,
            h.event(EventType.TimerFired, ts, TimerId=timer_id, FireAt=fire_text),
        )
        self.timer_log.setdefault(inst.instance_id, []).append(fire_at)

    def _start_child(
        self,
        parent: Instance,
        task_id: int,
        name: str,
        input_text: str | None,
        requested_id: str | None,
        appended: list[dict[str, Any]],
        ts: str,
    ) -> None:
        # DTFx names an unnamed child "<parent execution id>:<task id>".
        child_id = requested_id or f"{parent.execution_id}:{task_id}"
        appended.append(
            h.event(
                EventType.SubOrchestrationInstanceCreated,
                ts,
                event_id=task_id,
                Name=name,
                InstanceId=child_id,
                Input=input_text,
            )
        )
        existing = self.store.get_instance(child_id)
        if child_id == parent.instance_id or (existing is not None and existing.status not in TERMINAL):
            reason = f"An orchestration with instance ID '{child_id}' already exists and is still running."
            self.store.send(
                parent.instance_id,
                parent.execution_id,
                ts,
                h.event(
                    EventType.SubOrchestrationInstanceFailed,
                    ts,
                    TaskScheduledId=task_id,
                    Reason=reason,
                    Details=json.dumps({"Message": reason}),
                ),
            )
            return
        link = {
            "instanceId": parent.instance_id,
            "executionId": parent.execution_id,
            "taskId": task_id,
            "name": parent.name,
        }
        self.create_instance(child_id, name, input_text, ts, parent=link)

    def _host_retry(
        self, inst: Instance, event: dict[str, Any], appended: list[dict[str, Any]], now: datetime
    ) -> None:
        """DTFx's RetryInterceptor: a timer after each failure (the last one too), then the next attempt."""
        ts = h.format_timestamp(now)
        state = inst.state
        kind = event["EventType"]
        if kind in (EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed):
            chain_key = state["retry_tasks"].get(str(event.get("TaskScheduledId")))
            if chain_key is None:
                return
            chain = state["retry"][chain_key]
            delay_ms = chain["first_ms"] * chain["backoff"] ** (chain["attempt"] - 1)
            if chain["max_ms"]:
                delay_ms = min(delay_ms, float(chain["max_ms"]))
            timer_id = self._take_id(inst)
            state["retry_timers"][str(timer_id)] = chain_key
            self._create_timer(inst, timer_id, now + timedelta(milliseconds=delay_ms), appended, ts)
        elif kind == EventType.TimerFired:
            chain_key = state["retry_timers"].get(str(event.get("TimerId")))
            if chain_key is None:
                return
            chain = state["retry"][chain_key]
            if chain["attempt"] >= chain["max"]:
                return  # the SDK now fails the task with the last error
            chain["attempt"] += 1
            task_id = self._take_id(inst)
            state["retry_tasks"][str(task_id)] = chain_key
            if chain["kind"] == "activity":
                self._schedule_activity(inst, task_id, chain["name"], chain["input"], appended, ts)
            else:
                self._start_child(
                    inst, task_id, chain["name"], chain["input"], chain["instance_id"], appended, ts
                )

    def finish(
        self,
        inst: Instance,
        status: str,
        output: str | None,
        ts: str,
        *,
        history_len: int,
        details: dict[str, Any] | None = None,
    ) -> None:
        """End the execution with a final status; drop its pending work and tell the parent."""
        inst.status = status
        inst.output = output
        inst.last_updated_time = ts
        final = h.event(EventType.ExecutionCompleted, ts, OrchestrationStatus=status, Result=output)
        if status == "Terminated":
            final = h.event(EventType.ExecutionTerminated, ts, Input=output)
        self.store.append_history(inst.instance_id, history_len, [final])
        self.store.clear_work(inst.instance_id)
        self.notify_parent(inst, ts)

    def notify_parent(self, inst: Instance, ts: str) -> None:
        """Send a sub-orchestration's outcome to its parent, if the parent still waits for it."""
        link = inst.parent
        if not link:
            return
        parent = self.store.get_instance(link["instanceId"])
        if parent is None or parent.execution_id != link["executionId"] or parent.status in TERMINAL:
            return
        if inst.status == "Completed":
            event = h.event(
                EventType.SubOrchestrationInstanceCompleted,
                ts,
                TaskScheduledId=link["taskId"],
                Result=inst.output,
            )
        else:
            reason = json.loads(inst.output) if inst.output else f"Sub-orchestration {inst.status.lower()}"
            if inst.status == "Terminated":
                reason = f"Sub-orchestration '{inst.instance_id}' was terminated: {reason}"
            event = h.event(
                EventType.SubOrchestrationInstanceFailed,
                ts,
                TaskScheduledId=link["taskId"],
                Reason=str(reason),
                Details=json.dumps({"Message": str(reason)}),
            )
        self.store.send(parent.instance_id, parent.execution_id, ts, event)

    def _continue_as_new(self, inst: Instance, input_text: str | None, ts: str) -> None:
        # A fresh execution of the same id; pending timers, tasks and unprocessed events are dropped.
        self.store.clear_work(inst.instance_id, keep_history=False)
        inst.execution_id = uuid.uuid4().hex
        inst.input = input_text
        inst.output = None
        inst.status = "Running"
        inst.state = fresh_state()
        self.store.send(inst.instance_id, inst.execution_id, ts, self._execution_started(inst, ts))

    def _execution_started(self, inst: Instance, ts: str) -> dict[str, Any]:
        parent = None
        if inst.parent:
            parent = {
                "Name": inst.parent.get("name"),
                "TaskScheduleId": inst.parent["taskId"],
                "OrchestrationInstance": {
                    "InstanceId": inst.parent["instanceId"],
                    "ExecutionId": inst.parent["executionId"],
                },
            }
        return h.event(
            EventType.ExecutionStarted,
            ts,
            Name=inst.name,
            Version="",
            Input=inst.input,
            OrchestrationInstance={"InstanceId": inst.instance_id, "ExecutionId": inst.execution_id},
            ParentInstance=parent,
            Tags=None,
            ScheduledStartTime=None,
        )

    def create_instance(
        self,
        instance_id: str,
        name: str,
        input_text: str | None,
        ts: str,
        parent: dict[str, Any] | None = None,
    ) -> Instance:
        """Create (or replace an ended) instance as Pending, with its ExecutionStarted message queued."""
        self.store.delete_instance(instance_id)
        inst = Instance(
            instance_id=instance_id,
            name=name,
            execution_id=uuid.uuid4().hex,
            status="Pending",
            input=input_text,
            output=None,
            custom_status=None,
            created_time=ts,
            last_updated_time=ts,
            parent=parent,
            state=fresh_state(),
        )
        self.store.put_instance(inst)
        self.store.send(instance_id, inst.execution_id, ts, self._execution_started(inst, ts))
        return inst

    # activities
