"""Run the Entra stand-in as a process: `python -m emulators.entra --port 0`.

Prints one ready line (the managed identity environment to export) and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from emulators.entra.server import DEFAULT_TENANT, EntraEmulator


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m emulators.entra", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--tenant", default=DEFAULT_TENANT)
    args = parser.parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with EntraEmulator(args.tenant, host=args.host, port=args.port) as entra:
        variables = " ".join(f"{k}={v}" for k, v in entra.managed_identity_environment().items())
        print(f"entra ready url={entra.url} tenant={entra.tenant_id} {variables}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
