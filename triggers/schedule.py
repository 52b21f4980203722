"""The reconciliation timer: RECONCILE_SCHEDULE (six-field NCRONTAB, default hourly), with jitter.

One `reconcile` instance per schedule slot: its instance id is derived from the slot, so two hosts firing for
the same slot start it once; a slot is skipped while an earlier reconciliation still runs. The jitter is a
delay before starting, the same for a given host and slot (spreads instances of a scaled-out app), at most
RECONCILE_JITTER_SECONDS.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from triggers import operations as ops
from triggers.blueprint import bp
from triggers.settings import TriggerSettings

_LOG = logging.getLogger(__name__)


def slot_of(moment: datetime) -> str:
    """The schedule slot a firing belongs to: its UTC minute."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def reconcile_instance_id(slot: str) -> str:
    """The instance id of the reconciliation of one slot."""
    return f"reconcile-{slot}"


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
    """Start this slot's reconciliation after its jitter; None when an earlier one still runs."""
    slot = slot_of(now)
    host = os.environ.get("WEBSITE_INSTANCE_ID") or socket.gethostname()
    await sleep(jitter_seconds(slot, host, settings.reconcile_jitter_seconds))
    running = await client.get_status_by(
        runtime_status=[OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Pending]
    )
    busy = [s.instance_id for s in running if s.name == ops.RECONCILE]
    if busy:
        _LOG.info("reconciliation of slot %s skipped: %s still runs", slot, ", ".join(map(str, busy)))
        return None
    instance_id = reconcile_instance_id(slot)
    existing = await client.get_status(instance_id)
    if existing.runtime_status is not None:
        return instance_id
    await client.start_new(ops.RECONCILE, instance_id, {"slot": slot, "policy": settings.policy()})
    return instance_id


@bp.timer_trigger(schedule="%RECONCILE_SCHEDULE%", arg_name="timer", run_on_startup=False)
@bp.durable_client_input(client_name="client")
async def reconcile_timer(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """Start the scheduled drift reconciliation."""
    if timer.past_due:
        _LOG.info("the reconciliation timer is past due; running now")
    await start_reconcile(client, TriggerSettings.from_env(), datetime.now(UTC))
