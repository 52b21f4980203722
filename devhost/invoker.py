"""Calls an app's functions the way the Python worker does, and reports one record per invocation."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devhost.discovery import FunctionInfo

log = logging.getLogger("devhost")


@dataclass(frozen=True)
class TriggerInvocation:
    """One finished trigger invocation (HTTP, timer, Service Bus or admin)."""

    function: str
    invocation_id: str
    trigger: str
    duration_ms: float
    outcome: str  # "Succeeded" or "Failed"
    error: str | None = None
    stack: str | None = None  # the traceback of a failure, for the log


class Invoker:
    """Invokes trigger functions with keyword arguments named by their bindings, plus the Durable client."""

    def __init__(
        self,
        client_binding: Callable[[], str] | None = None,
        on_invocation: Callable[[TriggerInvocation], None] | None = None,
    ) -> None:
        self._client_binding = client_binding
        self._on_invocation = on_invocation

    def arguments(self, info: FunctionInfo, trigger_value: Any) -> dict[str, Any]:
        """The keyword arguments for one call: the trigger value and, if bound, the durableClient JSON."""
        kwargs = {info.input_binding_name: trigger_value}
        if info.client_binding_name:
            if self._client_binding is None:
                raise RuntimeError(f"function '{info.name}' needs a Durable client but no engine is running")
            kwargs[info.client_binding_name] = self._client_binding()
        return kwargs

    async def invoke(self, info: FunctionInfo, trigger_value: Any) -> Any:
        """Call the function (async awaited, sync in a thread), report the outcome, re-raise errors."""
        invocation_id = str(uuid.uuid4())
        started = time.perf_counter()
        try:
            kwargs = self.arguments(info, trigger_value)
            function = info.user_function
            # Durable client functions are wrapped in an async middleware that reads keyword arguments only.
            if inspect.iscoroutinefunction(function):
                result = await function(**kwargs)
            else:
                result = await asyncio.to_thread(function, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
        except Exception as exc:
            self._report(
                info, invocation_id, started, "Failed", f"{type(exc).__name__}: {exc}", traceback.format_exc()
            )
            raise
        self._report(info, invocation_id, started, "Succeeded", None)
        return result

    def _report(
        self,
        info: FunctionInfo,
        invocation_id: str,
        started: float,
        outcome: str,
        error: str | None,
        stack: str | None = None,
    ) -> None:
        if self._on_invocation is None:
            return
        record = TriggerInvocation(
            info.name,
            invocation_id,
            info.trigger_type,
            (time.perf_counter() - started) * 1000,
            outcome,
            error,
            stack,
        )
        try:
            self._on_invocation(record)
        except Exception:
            # The observer's failure is not the function's: it must not turn a success into a 500 or an
            # abandoned message, nor replace the function's own exception.
            log.exception("Invocation observer failed on %s", info.name)
