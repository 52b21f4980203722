"""The Durable engine: replays orchestrations through the SDK's own handler, runs activities and timers.

One asyncio loop owns the store. An episode (one orchestrator invocation) runs synchronously on the loop and
writes its new history events, follow-up work (activities, timers, child instances, parent notifications) and
the deletion of the messages it consumed in one transaction, so history is recorded exactly once. Activities
run in a thread pool (async ones on the loop); their results are written back as inbox messages; an activity
interrupted by a crash is still queued and runs again on restart (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import inspect
import json
import logging
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import azure.functions as func
from aiohttp import web
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from devhost.clock import Clock, RealClock
from devhost.discovery import FunctionIndex
from devhost.durable import history as h
from devhost.durable.entities import ENTITY_EXECUTION, EntityRunner, operation_message, scheduler_id
from devhost.durable.history import ActionType, EventType
from devhost.durable.rewind import plan_rewind
from devhost.durable.store import ActivityItem, InboxMessage, Instance, TaskHubStore

_log = logging.getLogger("devhost.durable")
TERMINAL = ("Completed", "Failed", "Terminated")
_OOP_MARKER = "\n\n$OutOfProcData$:"
_MAX_BATCH = 1000


class EngineError(Exception):
    """A refused Durable API call; `status` is the HTTP status the host answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class InvocationRecord:
    """One orchestrator episode or activity run, for the host's invocation log."""

    function: str
    kind: str  # "orchestrator" or "activity"
    instance_id: str
    duration_s: float
    outcome: str  # activities: "Succeeded"/"Failed"; orchestrators: the instance's status after the episode
    error: str | None = None


def _fresh_state() -> dict[str, Any]:
    # next_id mirrors the SDK's task sequence; actions are the known flattened actions [kind, name, id];
    # retry chains are keyed by their first task id, with maps from each attempt's task and timer ids.
    return {"next_id": 0, "actions": [], "retry": {}, "retry_tasks": {}, "retry_timers": {}, "timers": {}}


class DurableEngine:
    """Runs orchestrations, activities and timers of a FunctionIndex, persisted in a SQLite task hub."""

    def __init__(
        self,
        index: FunctionIndex,
        *,
        store_path: str | None = None,
        clock: Clock | None = None,
        task_hub: str = "TestHubName",
        max_concurrent_activities: int = 10,
        on_invocation: Callable[[InvocationRecord], None] | None = None,
    ) -> None:
        self.index = index
        self.store_path = store_path
        self.clock: Clock = clock or RealClock()
        self.task_hub = task_hub
        self.max_concurrent_activities = max_concurrent_activities
        self.on_invocation = on_invocation
        self.store = TaskHubStore(store_path)
        self.timer_log: dict[str, list[datetime]] = {}
        self.base_url: str | None = None
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent_activities, thread_name_prefix="activity")
        self._running: dict[int, asyncio.Task[None]] = {}
        self._wake: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._closed = False
        self._entities = EntityRunner(self.store, index, self._record)

    # lifecycle

    async def start(self) -> None:
        """Start the scheduler; resumes persisted in-flight work (timers, queued activities, inboxes)."""
        self._wake = asyncio.Event()
        self._loop_task = asyncio.get_running_loop().create_task(self._scheduler())

    async def stop(self) -> None:
        """Stop the scheduler and close the store; unfinished work stays persisted for the next start."""
        self._closed = True
        tasks = [t for t in (self._loop_task, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.store.close()

    async def _scheduler(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                self.pump()
            except Exception:  # a broken pass must not stop the engine; the work stays queued
                _log.exception("Durable engine scheduling pass failed")
                await asyncio.sleep(1)
            due = self.store.next_visible_at(h.format_timestamp(self.clock.now()), ("Suspended", *TERMINAL))
            waiters: list[asyncio.Task[Any]] = [asyncio.create_task(self._wake.wait())]
            if due is not None:
                waiters.append(asyncio.create_task(self.clock.sleep_until(h.parse_timestamp(due))))
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            await asyncio.sleep(0)  # let results that are ready land first, so they share one episode

    def _notify(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def run_until_idle(self) -> None:
        """Process everything runnable now (work due in the future is left waiting)."""
        while True:
            progressed = self.pump()
            # Let every running and queued activity finish before the next episodes, so a fan-out's results
            # reach the orchestrator in a few batches instead of one replay per result.
            while self._running:
                await asyncio.wait(set(self._running.values()), return_when=asyncio.FIRST_COMPLETED)
                self._dispatch_activities()
                progressed = True
            if not progressed:
                return

    def next_due(self) -> datetime | None:
        """When the next timer (or other delayed message) of a running instance becomes due."""
        due = self.store.next_visible_at(h.format_timestamp(self.clock.now()), ("Suspended", *TERMINAL))
        return None if due is None else h.parse_timestamp(due)

    def pump(self) -> bool:
        """One scheduling pass: run every episode with visible messages, then start queued activities.

        Activities are started, not awaited; returns whether any episode ran."""
        progressed = False
        while True:
            now = h.format_timestamp(self.clock.now())
            ran = [iid for iid in self.store.instances_with_visible_messages(now) if self._run_episode(iid)]
            if not ran:
                break
            progressed = True
        self._dispatch_activities()
        return progressed

    # orchestrator episodes

    def _run_episode(self, instance_id: str) -> bool:
        now = self.clock.now()
        ts = h.format_timestamp(now)
        if instance_id.startswith("@"):
            return self._entities.run_batch(instance_id, ts)
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
        self._record(
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
            return (
                None,
                f"The function '{inst.name}' doesn't exist, is disabled, or is not an orchestrator function.",
            )
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
            self._finish(inst, "Failed", json.dumps(message), ts, history_len=len(history) + len(appended))
        elif result is not None and result.get("isDone"):
            if flat and flat[-1]["actionType"] == ActionType.ContinueAsNew:
                self._continue_as_new(inst, flat[-1].get("input"), ts)
            else:
                output = result.get("output")
                self._finish(
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
        child_id = requested_id or f"{parent.instance_id}:{task_id:04X}"
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
        self._create_instance(child_id, name, input_text, ts, parent=link)

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

    def _finish(
        self,
        inst: Instance,
        status: str,
        output: str | None,
        ts: str,
        *,
        history_len: int,
        details: dict[str, Any] | None = None,
    ) -> None:
        inst.status = status
        inst.output = output
        inst.last_updated_time = ts
        final = h.event(EventType.ExecutionCompleted, ts, OrchestrationStatus=status, Result=output)
        if status == "Terminated":
            final = h.event(EventType.ExecutionTerminated, ts, Input=output)
        self.store.append_history(inst.instance_id, history_len, [final])
        self.store.clear_work(inst.instance_id)
        self._notify_parent(inst, ts)

    def _notify_parent(self, inst: Instance, ts: str) -> None:
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
        inst.state = _fresh_state()
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

    def _create_instance(
        self,
        instance_id: str,
        name: str,
        input_text: str | None,
        ts: str,
        parent: dict[str, Any] | None = None,
    ) -> Instance:
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
            state=_fresh_state(),
        )
        self.store.put_instance(inst)
        self.store.send(instance_id, inst.execution_id, ts, self._execution_started(inst, ts))
        return inst

    # activities

    def _dispatch_activities(self) -> None:
        free = self.max_concurrent_activities - len(self._running)
        if free <= 0 or self._closed:
            return
        for item in self.store.queued_activities(free, set(self._running)):
            task = asyncio.get_running_loop().create_task(self._run_activity(item))
            self._running[item.id] = task
            task.add_done_callback(functools.partial(self._activity_done, item.id))

    def _activity_done(self, item_id: int, _task: asyncio.Task[None]) -> None:
        self._running.pop(item_id, None)
        self._notify()

    async def _run_activity(self, item: ActivityItem) -> None:
        started = time.perf_counter()
        ts_now = h.format_timestamp(self.clock.now())
        info = self.index.activities.get(item.name)
        error: str | None = None
        try:
            if info is None:
                raise LookupError(
                    f"The function '{item.name}' doesn't exist, is disabled, or is not an activity function."
                )
            arg = ActivityTriggerConverter.decode(meta.Datum(item.input, "json"), trigger_metadata=None)
            kwargs: dict[str, Any] = {info.input_binding_name: arg}
            if info.client_binding_name and self.base_url:
                kwargs[info.client_binding_name] = self.client_binding(self.base_url)
            if inspect.iscoroutinefunction(info.user_function):
                value = await info.user_function(**kwargs)
            else:
                call = functools.partial(info.user_function, **kwargs)
                value = await asyncio.get_running_loop().run_in_executor(self._pool, call)
            result = ActivityTriggerConverter.encode(value, expected_type=None).value
            event = h.event(EventType.TaskCompleted, ts_now, TaskScheduledId=item.task_id, Result=result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            details = {
                "ClassName": type(exc).__name__,
                "Message": str(exc),
                "StackTrace": "".join(traceback.format_exception(exc)).strip(),
            }
            event = h.event(
                EventType.TaskFailed,
                ts_now,
                TaskScheduledId=item.task_id,
                Reason=f"Activity function '{item.name}' failed: {error}",
                Details=json.dumps(details),
            )
        self._record(
            "activity", item.name, item.instance_id, started, "Failed" if error else "Succeeded", error
        )
        if self._closed:
            return
        event["Timestamp"] = h.format_timestamp(self.clock.now())
        with self.store.transaction():
            if not self.store.activity_exists(item.id):
                return  # dropped meanwhile (terminate, purge, continue-as-new)
            self.store.delete_activity(item.id)
            inst = self.store.get_instance(item.instance_id)
            if inst is not None and inst.execution_id == item.execution_id and inst.status not in TERMINAL:
                self.store.send(item.instance_id, item.execution_id, event["Timestamp"], event)

    def _record(
        self, kind: str, function: str, instance_id: str, started: float, outcome: str, error: str | None
    ) -> None:
        if self.on_invocation is not None:
            self.on_invocation(
                InvocationRecord(
                    function=function,
                    kind=kind,
                    instance_id=instance_id,
                    duration_s=time.perf_counter() - started,
                    outcome=outcome,
                    error=error,
                )
            )

    # public API (the HTTP API in client_api.py maps onto these)

    def client_binding(self, base_url: str, *, code: str | None = None) -> str:
        """The durableClient binding JSON for functions served at base_url."""
        origin = base_url.rstrip("/")
        base = origin + "/runtime/webhooks/durabletask"
        query = f"taskHub={self.task_hub}&connection=Storage" + (f"&code={code}" if code else "")
        code_query = f"?code={code}" if code else ""
        instance = f"{base}/instances/INSTANCEID"
        return json.dumps(
            {
                "taskHubName": self.task_hub,
                "creationUrls": {
                    "createNewInstancePostUri": (
                        f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]{code_query}"
                    ),
                    "createAndWaitOnNewInstancePostUri": (
                        f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?timeout={{timeoutInSeconds}}"
                        f"&pollingInterval={{intervalInSeconds}}" + (f"&code={code}" if code else "")
                    ),
                },
                "managementUrls": {
                    "id": "INSTANCEID",
                    "statusQueryGetUri": f"{instance}?{query}",
                    "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
                    "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
                    "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
                    "purgeHistoryDeleteUri": f"{instance}?{query}",
                    "restartPostUri": f"{instance}/restart?{query}",
                    "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
                    "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
                },
                "baseUrl": base,
                "requiredQueryStringParameters": f"code={code}" if code else "",
                "rpcBaseUrl": origin + "/durabletask/",
            }
        )

    def check_status_payload(
        self, base_url: str, instance_id: str, *, code: str | None = None
    ) -> dict[str, str]:
        """The managementUrls of an instance (the body of a 202 check-status response)."""
        urls: dict[str, str] = json.loads(self.client_binding(base_url, code=code))["managementUrls"]
        return {key: value.replace("INSTANCEID", instance_id) for key, value in urls.items()}

    def add_routes(
        self, app: web.Application, *, authorize: Callable[[web.Request], bool] | None = None
    ) -> None:
        """Serve the Durable HTTP API under /durabletask/ and /runtime/webhooks/durabletask/.

        `authorize`, when given, guards the /runtime/webhooks/ copy (the host's system-key check).
        """
        from devhost.durable.client_api import add_durable_routes

        add_durable_routes(self, app, authorize=authorize)

    async def start_new(self, name: str, instance_id: str | None = None, input: Any = None) -> str:
        """Start an orchestration; EngineError(409) if the id is Pending, Running or Suspended."""
        return self.start_new_json(name, instance_id, None if input is None else json.dumps(input))

    def start_new_json(self, name: str, instance_id: str | None, input_text: str | None) -> str:
        """start_new with the input already as JSON text (as the HTTP API receives it)."""
        if name not in self.index.orchestrators:
            raise EngineError(
                400,
                f"The function '{name}' doesn't exist, is disabled, or is not an "
                "orchestrator function. Additional info: No orchestrator functions are "
                "currently registered!"
                if not self.index.orchestrators
                else f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function.",
            )
        instance_id = instance_id or uuid.uuid4().hex
        ts = h.format_timestamp(self.clock.now())
        with self.store.transaction():
            existing = self.store.get_instance(instance_id)
            if existing is not None and existing.status not in TERMINAL:
                raise EngineError(409, f"An instance with ID '{instance_id}' already exists.")
            self._create_instance(instance_id, name, input_text, ts)
        self._notify()
        return instance_id

    def _require(self, instance_id: str) -> Instance:
        inst = self.store.get_instance(instance_id)
        if inst is None:
            raise EngineError(404, f"No instance with ID '{instance_id}' found.")
        return inst

    async def get_status(
        self,
        instance_id: str,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = True,
    ) -> dict[str, Any] | None:
        """The status JSON of an instance (as the HTTP API returns it), or None if unknown."""
        inst = self.store.get_instance(instance_id)
        if inst is None:
            return None
        status = self._status_json(inst, show_input)
        if show_history:
            status["historyEvents"] = [
                _public_event(e, show_history_output) for e in self.store.history(instance_id)
            ]
        return status

    @staticmethod
    def _status_json(inst: Instance, show_input: bool = True) -> dict[str, Any]:
        def parse(text: str | None) -> Any:
            return None if text is None else json.loads(text)

        return {
            "name": inst.name,
            "instanceId": inst.instance_id,
            "runtimeStatus": inst.status,
            "input": parse(inst.input) if show_input else None,
            "customStatus": parse(inst.custom_status),
            "output": parse(inst.output),
            "createdTime": h.format_status_time(inst.created_time),
            "lastUpdatedTime": h.format_status_time(inst.last_updated_time),
        }

    async def list_instances(
        self,
        *,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        statuses: list[str] | None = None,
        prefix: str | None = None,
    ) -> list[dict[str, Any]]:
        """Status JSON of every instance matching the filters."""
        return [self._status_json(i) for i in self._matching(created_from, created_to, statuses, prefix)]

    def _matching(
        self,
        created_from: datetime | None,
        created_to: datetime | None,
        statuses: list[str] | None,
        prefix: str | None,
    ) -> list[Instance]:
        low = h.format_timestamp(created_from) if created_from else None
        high = h.format_timestamp(created_to) if created_to else None
        wanted = {s.lower() for s in statuses} if statuses else None
        return [
            inst
            for inst in self.store.list_instances()
            if (low is None or inst.created_time >= low)
            and (high is None or inst.created_time <= high)
            and (wanted is None or inst.status.lower() in wanted)
            and (not prefix or inst.instance_id.startswith(prefix))
        ]

    async def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        """Deliver an external event (404 unknown, 410 completed); buffered while suspended."""
        self.raise_event_json(instance_id, name, json.dumps(data))

    def raise_event_json(self, instance_id: str, name: str, input_text: str) -> None:
        """raise_event with the data already as JSON text."""
        inst = self._require(instance_id)
        if inst.status in TERMINAL:
            raise EngineError(410, f"The instance '{instance_id}' is {inst.status.lower()}.")
        ts = h.format_timestamp(self.clock.now())
        with self.store.transaction():
            self.store.send(
                instance_id,
                inst.execution_id,
                ts,
                h.event(EventType.EventRaised, ts, Name=name, Input=input_text),
            )
        self._notify()

    async def terminate(self, instance_id: str, reason: str | None = None) -> None:
        """Terminate a running instance (410 if it already ended)."""
        inst = self._require(instance_id)
        if inst.status in TERMINAL:
            raise EngineError(410, f"The instance '{instance_id}' has already ended ({inst.status}).")
        ts = h.format_timestamp(self.clock.now())
        with self.store.transaction():
            self._finish(
                inst, "Terminated", json.dumps(reason), ts, history_len=len(self.store.history(instance_id))
            )
            self.store.put_instance(inst)
        self._notify()

    async def suspend(self, instance_id: str, reason: str | None = None) -> None:
        """Suspend a running instance: new events are buffered until resume."""
        self._set_suspended(instance_id, True, reason)

    async def resume(self, instance_id: str, reason: str | None = None) -> None:
        """Resume a suspended instance and deliver what was buffered."""
        self._set_suspended(instance_id, False, reason)

    def _set_suspended(self, instance_id: str, suspended: bool, reason: str | None) -> None:
        inst = self._require(instance_id)
        if inst.status in TERMINAL:
            raise EngineError(410, f"The instance '{instance_id}' has already ended ({inst.status}).")
        if (inst.status == "Suspended") == suspended:
            return
        ts = h.format_timestamp(self.clock.now())
        kind = EventType.ExecutionSuspended if suspended else EventType.ExecutionResumed
        with self.store.transaction():
            self.store.append_history(
                instance_id, len(self.store.history(instance_id)), [h.event(kind, ts, Reason=reason)]
            )
            inst.status = "Suspended" if suspended else "Running"
            inst.last_updated_time = ts
            self.store.put_instance(inst)
        self._notify()

    async def rewind(self, instance_id: str, reason: str | None = None) -> None:
        """Rewind a Failed instance: go back before the failure that ended it and re-run the failed work."""
        inst = self._require(instance_id)
        if inst.status != "Failed":
            raise EngineError(412, f"The instance '{instance_id}' is {inst.status}; only Failed ones rewind.")
        ts = h.format_timestamp(self.clock.now())
        with self.store.transaction():
            self._rewind(inst, ts)
        self._notify()

    def _rewind(self, inst: Instance, ts: str) -> None:
        plan = plan_rewind(self.store.episodes(inst.instance_id), self.store.history(inst.instance_id))
        if plan is None:
            raise EngineError(412, f"The instance '{inst.instance_id}' has no failure that can be rewound.")
        self.store.truncate_history(inst.instance_id, plan.history_len)
        self.store.delete_episodes_from(inst.instance_id, plan.episode_seq)
        self.store.clear_work(inst.instance_id)
        inst.state = plan.state
        inst.status = "Running"
        inst.output = None
        inst.last_updated_time = ts
        self.store.put_instance(inst)
        for event in plan.redeliver:
            self.store.send(inst.instance_id, inst.execution_id, ts, event)
        for task_id, name, input_text in plan.rerun_activities:
            self.store.enqueue_activity(inst.instance_id, inst.execution_id, task_id, name, input_text)
        for timer_id, fire_at in plan.resend_timers:
            self.store.send(
                inst.instance_id,
                inst.execution_id,
                h.format_timestamp(h.parse_timestamp(fire_at)),
                h.event(EventType.TimerFired, ts, TimerId=timer_id, FireAt=fire_at),
            )
        for _task_id, child_id in plan.children:
            child = self.store.get_instance(child_id)
            if child is None:
                continue
            if child.status == "Failed":
                self._rewind(child, ts)
            elif child.status in TERMINAL:
                self._notify_parent(child, ts)  # its result arrived while this instance was Failed

    async def restart(self, instance_id: str, restart_with_new_instance_id: bool = True) -> str:
        """Start the instance's orchestration again with its original input; returns the (new) id."""
        inst = self._require(instance_id)
        new_id = uuid.uuid4().hex if restart_with_new_instance_id else instance_id
        return self.start_new_json(inst.name, new_id, inst.input)

    async def purge(self, instance_id: str) -> int:
        """Delete an ended instance and its history; returns how many (404 unknown, 412 running)."""
        inst = self._require(instance_id)
        if inst.status not in TERMINAL:
            raise EngineError(
                412, f"The instance '{instance_id}' is {inst.status}; only ended ones are purged."
            )
        with self.store.transaction():
            self.store.delete_instance(instance_id)
        return 1

    async def signal_entity(self, name: str, key: str, operation: str, input: Any = None) -> None:
        """Queue a one-way operation for an entity."""
        self.signal_entity_json(name, key, operation, json.dumps(input))

    def signal_entity_json(self, name: str, key: str, operation: str, input_text: str | None) -> None:
        """signal_entity with the input already as JSON text (400 for an unknown entity)."""
        if not any(n.lower() == name.lower() for n in self.index.entities):
            raise EngineError(400, f"The function '{name}' doesn't exist, is disabled, or is not an entity.")
        ts = h.format_timestamp(self.clock.now())
        with self.store.transaction():
            self.store.send(
                scheduler_id(name, key),
                ENTITY_EXECUTION,
                ts,
                operation_message(operation, input_text, signal=True),
            )
        self._notify()

    async def read_entity_state(self, name: str, key: str) -> tuple[bool, Any]:
        """(exists, state) of an entity."""
        exists, state = self.store.entity_state(scheduler_id(name, key))
        return exists, (None if state is None else json.loads(state))

    async def purge_by(
        self,
        *,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        statuses: list[str] | None = None,
    ) -> int:
        """Purge every terminal instance matching the filters; returns how many."""
        victims = [
            i for i in self._matching(created_from, created_to, statuses, None) if i.status in TERMINAL
        ]
        with self.store.transaction():
            for inst in victims:
                self.store.delete_instance(inst.instance_id)
        return len(victims)


def _public_event(event: dict[str, Any], with_output: bool) -> dict[str, Any]:
    """A history event as the status API shows it: EventType by name, payloads only when asked."""
    shown = {k: v for k, v in event.items() if k not in ("IsPlayed",)}
    shown["EventType"] = EventType(event["EventType"]).name
    if not with_output:
        for key in ("Result", "Input", "Details"):
            shown.pop(key, None)
    return shown
