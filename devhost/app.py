"""DevHost: settings, discovery, Durable engine, HTTP, timers and Service Bus, started and stopped as one."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from aiohttp import web

from devhost.clock import Clock, RealClock
from devhost.discovery import FunctionIndex, load_app
from devhost.durable.engine import DurableEngine, InvocationRecord
from devhost.http_host import DURABLE_SYSTEM_KEY, HttpHost
from devhost.invoker import Invoker, TriggerInvocation
from devhost.keys import KeyStore
from devhost.servicebus import ServiceBusListener
from devhost.settings import HostSettings, load_host_settings, load_local_settings, local_http_port
from devhost.timers import TimerScheduler

log = logging.getLogger("devhost")

DEFAULT_PORT = 7071


@dataclass
class DevHostConfig:
    """How to run an app: which module, where, on which port, with which store, keys and clock."""

    app_module: str = "function_app"
    app_dir: str = "."
    host: str = "127.0.0.1"
    port: int | None = None  # None: local.settings.json Host.LocalHttpPort, else 7071; 0: any free port
    store_path: str | None = ".devhost/taskhub.sqlite"  # relative to app_dir; None: in-memory
    keys_path: str = ".devhost/keys.json"  # relative to app_dir
    timer_status_path: str | None = ".devhost/timers.json"  # the schedule monitor; None: not persisted
    load_local_settings: bool = True
    timers: bool = True
    service_bus: bool = True
    service_bus_max_wait_time: float = 1.0
    service_bus_stop_grace: float = 5.0  # stop() lets running Service Bus functions finish this long


def _in_app_dir(app_dir: str, path: str | None) -> str | None:
    if path is None:
        return None
    return str(Path(app_dir) / path) if not Path(path).is_absolute() else path


def log_trigger_invocation(record: TriggerInvocation) -> None:
    """One log line per trigger invocation, in the host's words."""
    level = logging.INFO if record.outcome == "Succeeded" else logging.ERROR
    suffix = f": {record.error}" if record.error else ""
    if record.stack:
        suffix += "\n" + record.stack.rstrip()
    log.log(
        level,
        "Executed 'Functions.%s' (%s, Id=%s, Duration=%dms)%s",
        record.function,
        record.outcome,
        record.invocation_id,
        record.duration_ms,
        suffix,
    )


def log_engine_invocation(record: InvocationRecord) -> None:
    """One log line per orchestrator episode or activity run."""
    level = logging.INFO if record.outcome != "Failed" else logging.ERROR
    suffix = f": {record.error}" if record.error else ""
    log.log(
        level,
        "Executed 'Functions.%s' (%s %s, InstanceId=%s, Duration=%dms)%s",
        record.function,
        record.kind,
        record.outcome,
        record.instance_id,
        record.duration_s * 1000,
        suffix,
    )


class DevHost:
    """Runs one Functions app in-process: `await start()`, `base_url`, `await stop()` (or `async with`)."""

    def __init__(
        self,
        config: DevHostConfig | None = None,
        *,
        clock: Clock | None = None,
        environ: MutableMapping[str, str] | None = None,
        on_trigger: Callable[[TriggerInvocation], None] | None = log_trigger_invocation,
        on_engine: Callable[[InvocationRecord], None] | None = log_engine_invocation,
    ) -> None:
        self.config = config or DevHostConfig()
        self.clock: Clock = clock or RealClock()
        self.environ: MutableMapping[str, str] = os.environ if environ is None else environ
        self._on_trigger = on_trigger
        self._on_engine = on_engine
        self.skipped_settings: list[str] = []
        self.host_settings = HostSettings()
        self.index: FunctionIndex | None = None
        self._engine: DurableEngine | None = None
        self._http: HttpHost | None = None
        self._keys: KeyStore | None = None
        self._runner: web.AppRunner | None = None
        self._timers: TimerScheduler | None = None
        self._service_bus: ServiceBusListener | None = None
        self.base_url = ""

    @property
    def engine(self) -> DurableEngine:
        """The Durable engine (after start)."""
        assert self._engine is not None, "DevHost not started"
        return self._engine

    @property
    def http(self) -> HttpHost:
        """The HTTP front (after start)."""
        assert self._http is not None, "DevHost not started"
        return self._http

    @property
    def keys(self) -> KeyStore:
        """The key store (after start)."""
        assert self._keys is not None, "DevHost not started"
        return self._keys

    @property
    def timers(self) -> TimerScheduler | None:
        """The timer scheduler, if timers are enabled (after start)."""
        return self._timers

    async def start(self) -> None:
        """Load settings, index the app, start the engine, serve HTTP, then timers and Service Bus."""
        config = self.config
        app_dir = str(Path(config.app_dir).resolve())
        if config.load_local_settings:
            self.skipped_settings = load_local_settings(app_dir, self.environ)
        self.host_settings = load_host_settings(app_dir, self.environ)
        # Settings first: app modules often read them at import time.
        self.index = index = load_app(config.app_module, app_dir)
        store_path = _in_app_dir(app_dir, config.store_path)
        if store_path is not None:
            Path(store_path).parent.mkdir(parents=True, exist_ok=True)
        self._engine = DurableEngine(
            index,
            store_path=store_path,
            clock=self.clock,
            task_hub=self.host_settings.hub_name,
            max_concurrent_activities=self.host_settings.max_concurrent_activities,
            on_invocation=self._on_engine,
        )
        keys_path = _in_app_dir(app_dir, config.keys_path)
        assert keys_path is not None
        self._keys = keys = KeyStore(keys_path)
        keys.system_key(DURABLE_SYSTEM_KEY)  # written now, so the keys file is complete once the host runs
        invoker = Invoker(client_binding=self._client_binding, on_invocation=self._on_trigger)
        self._http = HttpHost(
            index,
            keys=keys,
            invoker=invoker,
            route_prefix=self.host_settings.route_prefix,
            add_durable_routes=self._engine.add_routes,
        )
        # Validate timer and Service Bus settings before anything starts, so errors leave nothing running.
        if config.timers and index.by_trigger("timerTrigger"):
            self._timers = TimerScheduler(
                index.by_trigger("timerTrigger"),
                invoker=invoker,
                clock=self.clock,
                environ=self.environ,
                status_path=_in_app_dir(app_dir, config.timer_status_path),
            )
        if config.service_bus and index.by_trigger("serviceBusTrigger"):
            self._service_bus = ServiceBusListener(
                index.by_trigger("serviceBusTrigger"),
                invoker=invoker,
                environ=self.environ,
                max_concurrent_calls=self.host_settings.service_bus_max_concurrent_calls,
                max_wait_time=config.service_bus_max_wait_time,
                stop_grace=config.service_bus_stop_grace,
            )
        await self._engine.start()
        self._runner = web.AppRunner(self._http.build_app(), access_log=None)
        await self._runner.setup()
        port = config.port if config.port is not None else (local_http_port(app_dir) or DEFAULT_PORT)
        site = web.TCPSite(self._runner, config.host, port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{config.host}:{port}"
        if self._timers is not None:
            await self._timers.start()
        if self._service_bus is not None:
            await self._service_bus.start()

    def _client_binding(self) -> str:
        return self.engine.client_binding(self.base_url, code=self.keys.system_key(DURABLE_SYSTEM_KEY))

    async def stop(self) -> None:
        """Stop triggers first, then HTTP, then the engine (its in-flight work stays in the store)."""
        if self._service_bus is not None:
            await self._service_bus.stop()
            self._service_bus = None
        if self._timers is not None:
            await self._timers.stop()
            self._timers = None
        if self._http is not None:
            await self._http.drain()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._engine is not None:
            await self._engine.stop()

    async def __aenter__(self) -> DevHost:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def describe(self) -> list[str]:
        """The listing `func start` prints: HTTP functions with URLs, the others with their trigger."""
        assert self.index is not None and self._http is not None
        lines = ["Functions:", ""]
        for name, methods, url in self.http.function_urls(self.base_url):
            lines.append(f"        {name}: [{methods}] {url}")
        lines.append("")
        for info in sorted(self.index.functions.values(), key=lambda f: f.name):
            if info.trigger_type != "httpTrigger":
                lines.append(f"        {info.name}: {info.trigger_type}")
        return lines
