"""Run an emulator as a process: `python -m emulators.<name> --port P [--state seed.yaml] [--ca-file PEM]`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from .server import Emulator


def argument_parser(name: str) -> argparse.ArgumentParser:
    """The arguments every emulator process accepts."""
    parser = argparse.ArgumentParser(prog=f"python -m emulators.{name}", description=f"{name} emulator")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only by default)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 picks a free one)")
    parser.add_argument("--state", help="YAML or JSON seed file loaded at start")
    parser.add_argument("--ca-file", help="write the CA certificate PEM here")
    return parser


def load_seed_file(path: str) -> Any:
    """Read a YAML (or JSON, which is YAML) seed file."""
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def run(
    build: Callable[[argparse.Namespace], Emulator],
    name: str,
    argv: Sequence[str] | None = None,
    parser: argparse.ArgumentParser | None = None,
) -> int:
    """Parse arguments, start the emulator, print one ready line, and serve until SIGTERM or SIGINT."""
    args = (parser or argument_parser(name)).parse_args(argv)
    emulator = build(args)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    emulator.start(args.host, args.port)
    try:
        if args.state:
            emulator.seed(load_seed_file(args.state))
        if args.ca_file:
            emulator.write_ca_file(args.ca_file)
        print(f"{name} emulator ready on {emulator.url}", flush=True)
        stopping.wait()
    finally:
        emulator.stop()
    return 0


def main(build: Callable[[argparse.Namespace], Emulator], name: str) -> None:
    """Entry point for `__main__` modules."""
    sys.exit(run(build, name))
