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
from datetime import datetime
from typing import Any

from aiohttp import web
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from devhost.clock import Clock, RealClock
from devhost.discovery import FunctionIndex, missing_function
from devhost.durable import history as h
from devhost.durable.entities import ENTITY_EXECUTION, operation_message, scheduler_id
from devhost.durable.episodes import EpisodeRunner
from devhost.durable.history import TERMINAL, EventType
from devhost.durable.public_history import public_history
from devhost.durable.rewind import plan_rewind
from devhost.durable.store import ActivityItem, Instance, TaskHubStore

_log = logging.getLogger("devhost.durable")


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
        self.base_url: str | None = None
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent_activities, thread_name_prefix="activity")
        self._running: dict[int, asyncio.Task[None]] = {}
        self._wake: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._closed = False
        self._episodes = EpisodeRunner(self.store, index, self.clock, self._record)
        self.timer_log = self._episodes.timer_log  # fire times each instance requested, for tests

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
            ran = [
                iid
                for iid in self.store.instances_with_visible_messages(now)
                if self._episodes.run_episode(iid)
            ]
            if not ran:
                break
            progressed = True
        self._dispatch_activities()
        return progressed

    # orchestrator episodes

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
                raise LookupError(missing_function(item.name, "activity"))
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
        if self.on_invocation is None:
            return
        record = InvocationRecord(
            function=function,
            kind=kind,
            instance_id=instance_id,
            duration_s=time.perf_counter() - started,
            outcome=outcome,
            error=error,
        )
        try:
            self.on_invocation(record)
        except Exception:
            # An activity's result is written after this call: an observer's failure must not lose it (the
            # activity would run again and again) nor stop a scheduling pass.
            _log.exception("Invocation observer failed on %s %s", kind, function)

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

    def add_routes(self, app: web.Application) -> None:
        """Serve the Durable HTTP API under /durabletask/ and /runtime/webhooks/durabletask/ (unguarded)."""
        from devhost.durable.client_api import add_durable_routes

        add_durable_routes(self, app)

    async def start_new(self, name: str, instance_id: str | None = None, input: Any = None) -> str:
        """Start an orchestration; EngineError(409) if the id is Pending, Running or Suspended."""
        return self.start_new_json(name, instance_id, None if input is None else json.dumps(input))

    def start_new_json(self, name: str, instance_id: str | None, input_text: str | None) -> str:
        """start_new with the input already as JSON text (as the HTTP API receives it)."""
        orchestrators = self.index.orchestrators
        if name not in orchestrators:
            message = missing_function(name, "orchestrator")
            if not orchestrators:
                message += " Additional info: No orchestrator functions are currently registered!"
            raise EngineError(400, message)
        instance_id = instance_id or uuid.uuid4().hex
        ts = h.format_timestamp(self.clock.now())
        with self.store.transaction():
            existing = self.store.get_instance(instance_id)
            if existing is not None and existing.status not in TERMINAL:
                raise EngineError(409, f"An instance with ID '{instance_id}' already exists.")
            self._episodes.create_instance(instance_id, name, input_text, ts)
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

    async def get_public_status(
        self, instance_id: str, *, show_history: bool, show_history_output: bool, show_input: bool
    ) -> dict[str, Any] | None:
        """The status as the HTTP API returns it: history in the extension's public shape (public_history)."""
        status = await self.get_status(instance_id, show_input=show_input)
        if status is not None and show_history and status["runtimeStatus"] != "Pending":
            status["historyEvents"] = public_history(
                self.store.history(instance_id), show_output=show_history_output, show_input=show_input
            )
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
            self._episodes.finish(
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
                self._episodes.notify_parent(child, ts)  # its result arrived while this instance was Failed

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
            raise EngineError(400, missing_function(name, "entity"))
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
