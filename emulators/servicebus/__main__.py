"""Run the Service Bus emulator as a process: `python -m emulators.servicebus --port 5672 --queue jobs`.

Prints one ready line (with the connection string) once it accepts connections; stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from emulators.servicebus.broker import ServiceBusEmulator
from emulators.servicebus.state import QueueConfig


def _queue_option(spec: str) -> QueueConfig:
    try:
        return QueueConfig.parse(spec)
    except ValueError as error:  # argparse shows an ArgumentTypeError's own words
        raise argparse.ArgumentTypeError(str(error)) from error


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.servicebus", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5672, help="AMQP port; 0 picks a free one (default 5672)")
    parser.add_argument(
        "--queue",
        action="append",
        default=[],
        type=_queue_option,
        metavar="NAME[:maxDeliveryCount=N][:lockDuration=SECONDS]",
        help="a queue to create; repeatable",
    )
    parser.add_argument("--log-level", default="WARNING", help="Python logging level (default WARNING)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the broker, announce it, and serve until told to stop."""
    args = _parse_args(argv)
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=args.log_level.upper(), format=log_format)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    emulator = ServiceBusEmulator(args.queue, host=args.host, port=args.port).start()
    queues = ",".join(emulator.state.queue_names()) or "-"
    print(
        f"servicebus emulator ready on {emulator.host}:{emulator.port} queues={queues} "
        f"connection_string={emulator.connection_string}",
        flush=True,
    )
    while not stop.wait(0.5):
        if not emulator.running:
            print("servicebus emulator: the reactor stopped unexpectedly", file=sys.stderr, flush=True)
            return 1
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
