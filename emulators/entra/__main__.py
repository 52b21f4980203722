"""Run the Entra stand-in as a process: `python -m emulators.entra --port 0`.

Prints one ready line (the managed identity environment to export) and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import os
import shutil
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
    parser.add_argument("--tls", action="store_true", help="serve HTTPS (MSAL's client credentials need it)")
    parser.add_argument("--ca-file", help="with --tls: write the CA certificate PEM here")
    parser.add_argument(
        "--application",
        action="append",
        default=[],
        metavar="CLIENT_ID:OBJECT_ID",
        help="register an application; its client secret is read from ENTRA_APPLICATION_SECRET",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with EntraEmulator(args.tenant, host=args.host, port=args.port, tls=args.tls) as entra:
        if args.ca_file and entra.ca_file:
            shutil.copyfile(entra.ca_file, args.ca_file)
        for application in args.application:
            client_id, _, object_id = application.partition(":")
            # The secret comes through the environment: a command line is visible to every local user.
            entra.add_application(
                client_id,
                object_id=object_id or None,
                secret=os.environ.get("ENTRA_APPLICATION_SECRET") or None,
            )
        variables = " ".join(f"{k}={v}" for k, v in entra.managed_identity_environment().items())
        print(f"entra ready url={entra.url} tenant={entra.tenant_id} {variables}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
