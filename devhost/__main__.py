"""`python -m devhost`: run a Python v2-model Functions app locally, as `func start` would."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from devhost.app import DevHost, DevHostConfig
from devhost.settings import SettingsError

FORCED_EXIT = 130  # the exit status after a second signal cut the stop short


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__)
    parser.add_argument("--app", default="function_app", help="module that defines the FunctionApp")
    parser.add_argument("--app-dir", default=".", help="folder with host.json, local.settings.json")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="HTTP port (default: local.settings.json Host.LocalHttpPort, else 7071; 0: any)",
    )
    parser.add_argument(
        "--store",
        default=".devhost/taskhub.sqlite",
        help="SQLite task hub (relative to --app-dir); ':memory:' keeps nothing",
    )
    parser.add_argument("--keys", default=".devhost/keys.json", help="keys file (relative to --app-dir)")
    parser.add_argument("--no-timers", action="store_true", help="do not run timer triggers")
    parser.add_argument("--no-servicebus", action="store_true", help="do not run Service Bus triggers")
    parser.add_argument(
        "--stop-grace",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="on stop, how long running Service Bus functions may finish before their "
        "messages are abandoned (default 5)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> int:
    """Start the host, print the functions, and run until SIGINT or SIGTERM."""
    config = DevHostConfig(
        app_module=args.app,
        app_dir=args.app_dir,
        host=args.host,
        port=args.port,
        store_path=None if args.store == ":memory:" else args.store,
        keys_path=args.keys,
        timers=not args.no_timers,
        service_bus=not args.no_servicebus,
        service_bus_stop_grace=args.stop_grace,
    )
    host = DevHost(config)
    stop = asyncio.Event()

    def on_signal() -> None:
        if not stop.is_set():
            stop.set()
            return
        # A second Ctrl-C or SIGTERM: the user will not wait for functions to finish. The task hub loses
        # nothing (as after SIGKILL), and unsettled messages come back at their lock expiry.
        sys.stdout.flush()
        print("devhost: stopping at once", file=sys.stderr, flush=True)
        os._exit(FORCED_EXIT)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    try:
        await host.start()
    except (SettingsError, ValueError, ImportError) as exc:
        print(f"devhost: cannot start: {exc}", file=sys.stderr)
        await host.stop()
        return 2
    for name in host.skipped_settings:
        print(
            f"Skipping '{name}' from local settings as it's already defined in current environment variables."
        )
    print("\n".join(host.describe()))
    print(f"Keys: {Path(config.app_dir, config.keys_path).resolve()} (master key for /admin, function keys)")
    print(
        f"Task hub: {host.host_settings.hub_name} in "
        f"{Path(config.app_dir, config.store_path).resolve() if config.store_path else 'memory'}"
    )
    print(f"Host started: {host.base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        print("Stopping devhost...", flush=True)
        try:
            await host.stop()
        except Exception:
            # Still exit: what stop could not close the process exit closes, but say what went wrong.
            logging.getLogger("devhost").exception("devhost: stop failed")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m devhost`."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="[%(asctime)s] %(message)s",
        stream=sys.stdout,
    )
    # Client libraries log every request at INFO; the host keeps them at Warning (host.json logLevel).
    for noisy in ("azure", "aiohttp.access", "uamqp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
