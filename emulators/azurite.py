"""Start and stop Azurite (Table, Queue and Blob storage, from npm) on 127.0.0.1, by PID.

    with Azurite() as azurite:
        TableServiceClient.from_connection_string(azurite.connection_string)

Storage is in memory unless a `location` folder is given: then it survives `restart()` (stop and start on the
same ports), as a real account survives an outage. `pause()` and `resume()` stop and continue the process
(SIGSTOP/SIGCONT), so callers see a store that accepts connections but never answers.

Also a process: `python -m emulators.azurite [--table-port 10002 ...]` prints one ready line and runs
until SIGTERM or SIGINT. Azurite comes from `node_modules` (pinned in package.json, installed by `make deps`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO

# The storage emulator's well-known development account; public, documented, and accepted by every SDK.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("blob", "queue", "table")
_POLL_INTERVAL = 0.05


class AzuriteNotInstalled(RuntimeError):
    """Azurite or Node.js is missing from this checkout."""


class AzuriteStartError(RuntimeError):
    """Azurite exited or did not open its ports in time."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


class Azurite:
    """One Azurite process, in memory or in a `location` folder; ports are picked free unless given."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        blob_port: int = 0,
        queue_port: int = 0,
        table_port: int = 0,
        root: Path = REPO_ROOT,
        start_timeout: float = 20.0,
        location: Path | None = None,
        tls: tuple[Path, Path] | None = None,
        oauth: bool = False,
    ) -> None:
        self.host = host
        self.location = location
        # (certificate, key) PEM files: every service speaks HTTPS. `oauth` also accepts bearer tokens
        # (`--oauth basic`, which needs HTTPS): issuer, audience and lifetime are checked, not signatures.
        self.tls = tls
        self.oauth = oauth
        if oauth and tls is None:
            raise ValueError("Azurite accepts OAuth only over HTTPS: give tls=(cert, key)")
        self._requested = {"blob": blob_port, "queue": queue_port, "table": table_port}
        self.ports: dict[str, int] = {}
        self.root = Path(root)
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def executable(self) -> Path:
        """Where `npm ci` puts the Azurite launcher."""
        return self.root / "node_modules" / ".bin" / "azurite"

    @property
    def pid(self) -> int | None:
        """The Azurite process id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """True while the Azurite process is alive."""
        return self._process is not None and self._process.poll() is None

    def endpoint(self, service: str) -> str:
        """The account URL of one service, e.g. `http://127.0.0.1:PORT/devstoreaccount1`."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.ports[service]}/{ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        """The explicit connection string (works with the Tables, Queue and Blob SDKs)."""
        return (
            f"DefaultEndpointsProtocol={'https' if self.tls else 'http'};"
            f"AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.endpoint('blob')};QueueEndpoint={self.endpoint('queue')};"
            f"TableEndpoint={self.endpoint('table')};"
        )

    def start(self) -> Azurite:
        """Launch Azurite and return once all three services accept connections."""
        if self._process is not None:
            raise RuntimeError("Azurite is already running")
        command = self._command()
        # A file, not a pipe: nobody reads Azurite's output while it runs, and a full pipe would block it.
        self._log = tempfile.TemporaryFile(prefix="azurite-")  # noqa: SIM115  # closed by stop()
        self._process = subprocess.Popen(
            command,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _command(self) -> list[str]:
        if not self.executable.exists():
            missing = self.executable
            raise AzuriteNotInstalled(f"Azurite is not installed ({missing} is missing): run `make deps`")
        if shutil.which("node") is None:
            raise AzuriteNotInstalled("Node.js (`node`) is not on PATH; Azurite needs it.")
        # A restart keeps the ports it had: clients hold the connection string.
        self.ports = {
            service: self.ports.get(service) or self._requested[service] or free_port(self.host)
            for service in SERVICES
        }
        storage = ["--inMemoryPersistence"] if self.location is None else ["--location", str(self.location)]
        command = [str(self.executable), "--silent", *storage, "--skipApiVersionCheck"]
        command.append("--disableTelemetry")
        if self.tls:
            command += ["--cert", str(self.tls[0]), "--key", str(self.tls[1])]
        if self.oauth:
            command += ["--oauth", "basic"]
        for service in SERVICES:
            command += [f"--{service}Host", self.host, f"--{service}Port", str(self.ports[service])]
        return command

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        waiting = list(SERVICES)
        while waiting:
            if self._process.poll() is not None:
                code = self._process.returncode
                raise AzuriteStartError(f"Azurite exited with code {code}: {self._output()}")
            if time.monotonic() > deadline:
                raise AzuriteStartError(f"Azurite did not open {waiting} within {self.start_timeout} s")
            waiting = [service for service in waiting if not _port_open(self.host, self.ports[service])]
            if waiting:
                time.sleep(_POLL_INTERVAL)

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-2000:].decode(errors="replace").strip()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the process by its PID: terminate, wait, then kill if it lingers."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused process would not act on SIGTERM
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> Azurite:
        """Stop the process and start a new one on the same ports (and the same `location`, if any)."""
        self.stop()
        return self.start()

    def pause(self) -> None:
        """Stop the process (SIGSTOP): connections are still accepted by the kernel, nothing answers."""
        assert self._process is not None, "Azurite is not running"
        os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Continue a paused process (SIGCONT)."""
        assert self._process is not None, "Azurite is not running"
        os.kill(self._process.pid, signal.SIGCONT)

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Run Azurite until SIGTERM or SIGINT, after printing one ready line with the connection string."""
    parser = argparse.ArgumentParser(prog="python -m emulators.azurite", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    for service, default in zip(SERVICES, (10000, 10001, 10002), strict=True):
        help_text = f"default {default}; 0 picks a free port"
        parser.add_argument(f"--{service}-port", type=int, default=default, help=help_text)
    parser.add_argument("--location", type=Path, help="keep the data in this folder (default: in memory)")
    args = parser.parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        azurite = Azurite(
            host=args.host,
            blob_port=args.blob_port,
            queue_port=args.queue_port,
            table_port=args.table_port,
            location=args.location,
        ).start()
    except (AzuriteNotInstalled, AzuriteStartError) as error:
        print(f"azurite: {error}", file=sys.stderr)
        return 1
    try:
        print(f"azurite ready pid={azurite.pid} connection_string={azurite.connection_string}", flush=True)
        while not stop.wait(0.5):
            if not azurite.running:
                print("azurite exited unexpectedly", file=sys.stderr)
                return 1
    finally:
        azurite.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
