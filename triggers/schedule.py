"""The reconciliation timer, RECONCILE_SCHEDULE (six-field NCRONTAB, default hourly) with jitter, and the
one-reconciliation-at-a-time rule that it shares with `POST /api/reconcile`.

One reconciliation at a time: every `reconcile` runs under one fixed instance id, RECONCILE_INSTANCE_ID (a
GUID, so its status is also readable at the operation URL). Starting an instance id that is Pending, Running
or Suspended is refused by the Durable runtime (409; `overridableExistingInstanceStates` defaults to the
non-running states), so of two concurrent starts exactly one wins, whichever host or trigger they come from;
the loser is given the running one. A finished reconciliation is replaced by the next start. The timer skips
its slot while any reconciliation runs, a manual one included, and also when the last one was already this
slot's (another host fired first). The jitter is a delay before starting, the same for a given host and slot
(spreads instances of a scaled-out app), at most RECONCILE_JITTER_SECONDS.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from telemetry import log as log_record
from triggers import operations as ops
from triggers.blueprint import bp
from triggers.settings import TriggerSettings

_LOG = logging.getLogger(__name__)

# The one instance id of every reconciliation (a fixed GUID: operation status URLs take GUIDs only).
RECONCILE_INSTANCE_ID = str(uuid.uuid5(uuid.UUID("3b0f6c55-6f0e-4d83-9a0e-1c5b7e2f4a10"), "reconcile"))
_UNFINISHED = frozenset(
    {
        OrchestrationRuntimeStatus.Pending,
        OrchestrationRuntimeStatus.Running,
        OrchestrationRuntimeStatus.ContinuedAsNew,
        OrchestrationRuntimeStatus.Suspended,
    }
)


@dataclass(frozen=True)
class ReconcileStart:
    """The reconciliation a request got: the one it started, or the one already running."""

    instance_id: str
    already_running: bool


async def start_singleton(client: df.DurableOrchestrationClient, payload: dict[str, Any]) -> ReconcileStart:
    """Start the reconciliation under its fixed id, or return the running one (a 409 from the runtime)."""
    try:
        await client.start_new(ops.RECONCILE, RECONCILE_INSTANCE_ID, payload)
    except Exception:
        # The SDK raises a bare Exception for any refusal: only a reconciliation that is still unfinished
        # explains it; anything else (the task hub unreachable, say) is raised as it came.
        current = await client.get_status(RECONCILE_INSTANCE_ID)
        if current.runtime_status in _UNFINISHED:
            return ReconcileStart(RECONCILE_INSTANCE_ID, already_running=True)
        raise
    return ReconcileStart(RECONCILE_INSTANCE_ID, already_running=False)


def slot_of(moment: datetime) -> str:
    """The schedule slot a firing belongs to: its UTC minute."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def jitter_seconds(slot: str, host: str, maximum: float) -> float:
    """A delay in [0, maximum), fixed for a host and slot."""
    if maximum <= 0:
        return 0.0
    digest = hashlib.sha256(f"{host}|{slot}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * maximum


async def start_reconcile(
    client: df.DurableOrchestrationClient,
    settings: TriggerSettings,
    now: datetime,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> str | None:
    """Start this slot's reconciliation after its jitter; None when one runs already (this slot's or not)."""
    slot = slot_of(now)
    host = settings.instance_id or socket.gethostname()
    await sleep(jitter_seconds(slot, host, settings.reconcile_jitter_seconds))
    last = await client.get_status(RECONCILE_INSTANCE_ID)
    if last.runtime_status is not None and isinstance(last.input_, dict) and last.input_.get("slot") == slot:
        log_record(
            logging.INFO, "reconciliation skipped", reconcile_slot=slot, reason="another host started it"
        )
        return None
    started = await start_singleton(client, {"slot": slot, "policy": settings.policy()})
    if started.already_running:
        log_record(logging.INFO, "reconciliation skipped", reconcile_slot=slot, reason="one still runs")
        return None
    return started.instance_id


@bp.timer_trigger(schedule="%RECONCILE_SCHEDULE%", arg_name="timer", run_on_startup=False)
@bp.durable_client_input(client_name="client")
async def reconcile_timer(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """Start the scheduled drift reconciliation."""
    if timer.past_due:
        log_record(logging.INFO, "reconciliation timer past due; running now")
    await start_reconcile(client, TriggerSettings.from_env(), datetime.now(UTC))
