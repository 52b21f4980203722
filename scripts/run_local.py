"""`make run`: the product on this machine, on the local stand-ins for Azure and Kubernetes.

Starts, each as its own process on 127.0.0.1: Azurite, the kube emulator, the ARM emulator (seeded with
emulators/seeds/demo.yaml and linked to the kube emulator), the Service Bus emulator (with the request and
event queues), then devhost serving function_app.py on port 7071 with settings pointing at all of them. Prints
how to create a connection, then waits. Ctrl-C (SIGINT) or SIGTERM, even while it is still starting, stops
everything it started, by PID, in reverse order.

Options: --port (devhost's port, default 7071; 0 picks one), --state-dir (logs, CA files, task hub and keys;
default .devhost/run), --fast (the demo seed with no registration or install delays and sub-second backoff:
what the smoke test uses), --keep-state (keep the registry and the task hub of the previous run; the
emulated Azure and clusters always start again from the seed; `aks-connector reconcile` re-applies the
connections).

Besides the key and the curl commands it prints the demo identity's client id (for workload identity), the
Service Bus connection string, a kubeconfig per demo cluster and `<state-dir>/kubeconfig` with a context per
cluster (named after it) written to the state dir, and the kubectl commands of the troubleshooting flow;
demo.json there holds the same facts for scripts.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DEMO_SEED = REPO / "emulators" / "seeds" / "demo.yaml"
SAMPLE_SETTINGS = REPO / "local.settings.sample.json"
DEMO_CLUSTER = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-demo"
    "/providers/Microsoft.ContainerService/managedClusters/aks-demo-1"
)
DEMO_TARGET = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-demo"
    "/providers/Microsoft.Storage/storageAccounts/stdemo0001/blobServices/default"
)
DEMO_IDENTITY = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-demo"
    "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-demo-workload"
)
DEMO_CLUSTERS = ("aks-demo-1", "aks-demo-2")
# The product's application in the Entra stand-in: the demo seed grants this object id the AKS RBAC Writer
# role on the Entra-integrated aks-demo-3 (emulators/seeds/README.md). Its secret is made afresh every run.
PRODUCT_CLIENT_ID = "5c0a0000-0000-4000-8000-00000000c11e"
PRODUCT_OBJECT_ID = "5c0a0000-0000-4000-8000-0000000000b1"
ARM_SCOPE = "https://management.azure.com/.default"
READY_TIMEOUT = 60.0
# What --keep-state keeps: the task hub (devhost's SQLite store) and Azurite's folder (the registry table).
TASK_HUB_FILES = ("taskhub.sqlite", "taskhub.sqlite-wal", "taskhub.sqlite-shm")
AZURITE_FOLDER = "azurite"
KUBECONFIG_FILE = "kubeconfig"  # every demo cluster, a context each (kubectl --context aks-demo-1)
DEMO_FILE = "demo.json"  # what this run printed (endpoint, key, identity, Service Bus, kubeconfigs) as JSON


class Interrupted(RuntimeError):
    """Ctrl-C or SIGTERM arrived while the stand-ins were still starting."""


def pause(seconds: float, stopping: threading.Event | None) -> None:
    """Wait between readiness checks; raise Interrupted when a stop was asked."""
    # Sleep and poll rather than stopping.wait(): the signal handler sets the event on this same thread, and
    # would block forever if it arrived while wait() held the event's lock.
    time.sleep(seconds)
    if stopping is not None and stopping.is_set():
        raise Interrupted("stopped while starting")


@dataclass
class Child:
    """One process this script started, with where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes] | None = field(default=None, repr=False)


class Stack:
    """The processes started so far; `stop()` ends them by PID, newest first."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.children: list[Child] = []

    def start(
        self, name: str, argv: list[str], *, env: dict[str, str] | None = None, to_terminal: bool = False
    ) -> Child:
        """Start a process in its own session (so a terminal's Ctrl-C reaches only this script)."""
        log_path = self.state_dir / f"{name}.log"
        log = None if to_terminal else open(log_path, "wb")  # noqa: SIM115  # closed by stop()
        process = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        child = Child(name, process, log_path, log)
        self.children.append(child)
        print(f"started {name} (pid {process.pid})", flush=True)
        return child

    def stop(self) -> None:
        """SIGTERM each child (newest first), wait for it, SIGKILL what does not stop."""
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
                try:
                    child.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait(timeout=5)
            if child.log is not None:
                child.log.close()
            print(f"stopped {child.name} (pid {child.process.pid})", flush=True)
        self.children.clear()


def wait_for_line(
    child: Child, pattern: str, timeout: float = READY_TIMEOUT, stopping: threading.Event | None = None
) -> re.Match[str]:
    """Wait until the child's log holds a line matching `pattern`; fail if it exits or a stop is asked."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = child.log_path.read_text(encoding="utf-8", errors="replace") if child.log_path.exists() else ""
        match = regex.search(text)
        if match:
            return match
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited (code {child.process.returncode}); see {child.log_path}")
        pause(0.1, stopping)
    raise RuntimeError(f"{child.name} was not ready within {timeout:.0f} s; see {child.log_path}")


def wait_for_http(
    url: str, child: Child, timeout: float = READY_TIMEOUT, stopping: threading.Event | None = None
) -> None:
    """Wait until `url` answers 200; fail if the child exits or a stop is asked."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited (code {child.process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        pause(0.2, stopping)
    raise RuntimeError(f"{child.name} did not answer {url} within {timeout:.0f} s")


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed_file(state_dir: Path, fast: bool) -> Path:
    """The demo seed, or (fast) a copy without its registration, update and install delays."""
    if not fast:
        return DEMO_SEED
    data: dict[str, Any] = yaml.safe_load(DEMO_SEED.read_text(encoding="utf-8"))
    data["settings"] = {key: 0 for key in data.get("settings", {})}
    path = state_dir / "demo-fast.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@dataclass(frozen=True)
class EntraStandIn:
    """The running Entra stand-in and the product's application registered in it."""

    url: str
    tenant: str
    ca_file: Path
    client_secret: str = field(repr=False)

    @property
    def authority(self) -> str:
        """The tenant's authority URL (what the emulators verify tokens against)."""
        return f"{self.url}/{self.tenant}"

    def settings(self) -> dict[str, str]:
        """The app settings azure-identity's DefaultAzureCredential reads (client secret credential)."""
        return {
            "AZURE_CLIENT_ID": PRODUCT_CLIENT_ID,
            "AZURE_CLIENT_SECRET": self.client_secret,
            "AZURE_TENANT_ID": self.tenant,
            "AZURE_AUTHORITY_HOST": self.url,
            "REQUESTS_CA_BUNDLE": str(self.ca_file),  # MSAL's HTTPS client trusts the stand-in's CA
            "ARM_STATIC_TOKEN": "",  # the fallback is off: the emulators verify Entra tokens
        }

    def token(self, scope: str = ARM_SCOPE) -> str:
        """A token for the product's application, from the stand-in, through azure-identity."""
        from azure.identity import ClientSecretCredential

        credential = ClientSecretCredential(
            self.tenant,
            PRODUCT_CLIENT_ID,
            self.client_secret,
            authority=self.url,
            disable_instance_discovery=True,
            connection_verify=str(self.ca_file),
        )
        return str(credential.get_token(scope).token)


def app_settings(
    *,
    arm_url: str,
    arm_ca: Path,
    storage: str,
    servicebus: str,
    fast: bool,
    public_url: str,
    entra: EntraStandIn | None = None,
) -> dict[str, str]:
    """Every app setting from local.settings.sample.json, with the emulators' endpoints filled in.

    With the Entra stand-in (the default) the product signs in with azure-identity; without it
    (`--static-token`), with the sample's ARM_STATIC_TOKEN, which the emulators then accept unverified.
    """
    sample = json.loads(SAMPLE_SETTINGS.read_text(encoding="utf-8"))
    values: dict[str, str] = {k: str(v) for k, v in sample["Values"].items()}
    values.update(
        {
            "AzureWebJobsStorage": storage,
            "ARM_ENDPOINT": arm_url,
            "ARM_CA_BUNDLE": str(arm_ca),
            "SERVICEBUS_CONNECTION": servicebus,
            "PUBLIC_BASE_URL": public_url,  # operation URLs name devhost's bound address, not a caller's Host
        }
    )
    if entra is not None:
        values.update(entra.settings())
    if fast:
        values.update(
            {
                "BACKOFF_INITIAL_SECONDS": "0.5",
                "BACKOFF_MAX_SECONDS": "1",
                "ARM_POLLING_INTERVAL_SECONDS": "0",
            }
        )
    return values


@dataclass(frozen=True)
class DemoFacts:
    """What trying every flow needs: the identity's client id, Service Bus, each cluster's kubeconfig."""

    identity_client_id: str
    servicebus_connection: str
    kubeconfigs: dict[str, Path]
    kubeconfig: Path  # every demo cluster, one context each, named after the cluster


def arm_call(
    arm_url: str, arm_ca: Path, method: str, path: str, api_version: str, token: str | None = None
) -> Any:
    """One call to the ARM emulator with the app's token (default: the static one); the parsed JSON answer."""
    request = urllib.request.Request(f"{arm_url}{path}?api-version={api_version}", method=method, data=None)
    request.add_header("Authorization", "Bearer " + (token or str(sample_values()["ARM_STATIC_TOKEN"])))
    context = ssl.create_default_context(cafile=str(arm_ca))
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return json.loads(response.read())


def demo_facts(
    arm_url: str, arm_ca: Path, servicebus: str, state_dir: Path, token: str | None = None
) -> DemoFacts:
    """Read the demo identity's client id and write each demo cluster's kubeconfig into the state dir."""
    identity = arm_call(arm_url, arm_ca, "GET", DEMO_IDENTITY, "2024-11-30", token)
    cluster_group = DEMO_CLUSTER.rsplit("/", 1)[0]
    kubeconfigs: dict[str, Path] = {}
    parsed: dict[str, dict[str, Any]] = {}
    for name in DEMO_CLUSTERS:
        path = f"{cluster_group}/{name}/listClusterUserCredential"
        credentials = arm_call(arm_url, arm_ca, "POST", path, "2024-01-01", token)
        text = base64.b64decode(credentials["kubeconfigs"][0]["value"])
        target = state_dir / f"kubeconfig-{name}.yaml"
        target.write_bytes(text)
        target.chmod(0o600)  # it holds the cluster's credentials
        kubeconfigs[name] = target
        parsed[name] = yaml.safe_load(text)
    merged = state_dir / KUBECONFIG_FILE
    merged.write_text(yaml.safe_dump(merge_kubeconfigs(parsed), sort_keys=False), encoding="utf-8")
    merged.chmod(0o600)
    return DemoFacts(str(identity["properties"]["clientId"]), servicebus, kubeconfigs, merged)


def merge_kubeconfigs(per_cluster: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One kubeconfig with a context per cluster, named after it (`--context aks-demo-1`), as
    `az aks get-credentials` merges them."""
    merged: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
    }
    for name, config in per_cluster.items():
        cluster = dict(config["clusters"][0], name=name)
        user = dict(config["users"][0], name=f"clusterUser_{name}")
        merged["clusters"].append(cluster)
        merged["users"].append(user)
        merged["contexts"].append({"name": name, "context": {"cluster": name, "user": user["name"]}})
    merged["current-context"] = next(iter(per_cluster), "")
    return merged


def troubleshooting_commands(kubeconfig: Path, cluster: str = "aks-demo-1") -> list[str]:
    """The kubectl steps of the troubleshooting flow, against a demo cluster."""
    kubectl = f"kubectl --kubeconfig {kubeconfig} --context {cluster}"
    return [
        f"{kubectl} get ns",
        f"{kubectl} get secret sc-blobdemo-secret -o yaml",
        f"{kubectl} get job -n sc-system",
        f"{kubectl} describe job/sc-job -n sc-system",
        f"{kubectl} logs job/sc-job -n sc-system",
    ]


def sample_values() -> dict[str, Any]:
    """The `Values` of local.settings.sample.json."""
    return dict(json.loads(SAMPLE_SETTINGS.read_text(encoding="utf-8"))["Values"])


def reset_state(state_dir: Path, keep: bool) -> str:
    """Remove the previous run's task hub and registry unless `keep`; the sentence that says which."""
    if keep:
        return (
            f"State kept (--keep-state): the registry and the task hub in {state_dir} are the last run's; "
            "the emulated Azure and clusters start again from the seed: run `aks-connector reconcile` to "
            "re-apply the connections."
        )
    for stale in TASK_HUB_FILES:
        (state_dir / stale).unlink(missing_ok=True)
    shutil.rmtree(state_dir / AZURITE_FOLDER, ignore_errors=True)
    return (
        "State reset: the emulators, the registry and the task hub start empty "
        "(make run RUN_ARGS=--keep-state keeps the registry and the task hub)."
    )


def write_demo_file(path: Path, url: str, key: str, facts: DemoFacts) -> None:
    """What make run printed, as JSON for scripts (the README's blocks read it); only its owner reads it."""
    demo = {
        "endpoint": url,
        "functionKey": key,
        "identityClientId": facts.identity_client_id,
        "serviceBusConnection": facts.servicebus_connection,
        "kubeconfigs": {name: str(file) for name, file in facts.kubeconfigs.items()},
        "kubeconfig": str(facts.kubeconfig),
    }
    path.write_text(json.dumps(demo, indent=2), encoding="utf-8")
    path.chmod(0o600)  # it holds the function key


def host_key(keys_file: Path) -> str:
    """The devhost's default host key (valid for every function-level route)."""
    data = json.loads(keys_file.read_text(encoding="utf-8"))
    return str(data["hostKeys"]["default"])


def instructions(url: str, key: str, keys_file: Path, facts: DemoFacts | None = None, state: str = "") -> str:
    """How to create a connection with the CLI and with curl (the README's examples), and the demo's facts."""
    linker = f"{url}{DEMO_CLUSTER}/providers/Microsoft.ServiceLinker/linkers/blobdemo?api-version=2022-05-01"
    body = json.dumps(
        {
            "properties": {
                "targetService": {"type": "AzureResource", "id": DEMO_TARGET},
                "authInfo": {"authType": "secret"},
                "clientType": "python",
                "scope": "default",
            }
        }
    )
    facts_lines = []
    if facts is not None:
        facts_lines = [
            f"Demo identity client id (for --workload-identity): {facts.identity_client_id}",
            f"Service Bus connection string: {facts.servicebus_connection}",
            *(f"Kubeconfig of {name}: {path}" for name, path in facts.kubeconfigs.items()),
            f"Kubeconfig of every demo cluster (one context each): {facts.kubeconfig}",
            "",
            "Troubleshooting a connection with kubectl (what Service Connector's docs ask for):",
            *(f"  {command}" for command in troubleshooting_commands(facts.kubeconfig)),
            "",
        ]
    return "\n".join(
        [
            "",
            f"Service Connector is running on {url}",
            f"Function key (from {keys_file}): {key}",
            *([state] if state else []),
            "",
            *facts_lines,
            "With the CLI (aks-connector, installed by make deps in .venv/bin):",
            f"  export AKS_CONNECTOR_ENDPOINT={url} AKS_CONNECTOR_KEY={key}",
            f"  aks-connector create storage-blob --connection blobdemo --source-id {DEMO_CLUSTER} \\",
            f"    --target-id {DEMO_TARGET} --secret --client-type python",
            "",
            "With curl:",
            "Create a connection (storage blob, secret auth) on the demo cluster aks-demo-1:",
            f"  KEY={key}",
            f"  curl -sS -i -X PUT '{linker}' \\",
            "    -H \"x-functions-key: $KEY\" -H 'Content-Type: application/json' \\",
            f"    -d '{body}'",
            'Then poll the Azure-AsyncOperation URL it returns until "status" is "Succeeded":',
            '  curl -sS "<Azure-AsyncOperation URL>" -H "x-functions-key: $KEY"',
            f"  curl -sS '{linker}' -H \"x-functions-key: $KEY\"",
            f"API description: {url}/api/openapi.json",
            "Press Ctrl-C to stop everything.",
            "Ready.",
        ]
    )


def start_everything(
    stack: Stack, args: argparse.Namespace, stopping: threading.Event
) -> tuple[str, str, DemoFacts]:
    """Start the stand-ins and devhost: (URL, host key, demo facts). Interrupted when a stop is asked."""
    state = stack.state_dir
    python = sys.executable
    azurite_args = [
        python,
        "-m",
        "emulators.azurite",
        "--blob-port",
        "0",
        "--queue-port",
        "0",
        "--table-port",
        "0",
    ]
    if args.keep_state:
        azurite_args += ["--location", str(state / AZURITE_FOLDER)]
    azurite = stack.start("azurite", azurite_args)
    storage = wait_for_line(azurite, r"connection_string=(\S+)", stopping=stopping).group(1)
    entra = None if args.static_token else start_entra(stack, stopping)
    # The ARM and kube emulators verify the stand-in's tokens (without it: any bearer token, the fallback).
    trust = ["--entra-authority", entra.authority, "--entra-ca-file", str(entra.ca_file)] if entra else []
    kube_ca = state / "kube-ca.pem"
    kube = stack.start(
        "kube", [python, "-m", "emulators.kube", "--port", "0", "--ca-file", str(kube_ca), *trust]
    )
    kube_url = wait_for_line(kube, r"kube emulator ready on (\S+)", stopping=stopping).group(1)
    arm_ca = state / "arm-ca.pem"
    arm = stack.start(
        "arm",
        [
            python,
            "-m",
            "emulators.arm",
            "--port",
            "0",
            "--state",
            str(seed_file(state, args.fast)),
            "--ca-file",
            str(arm_ca),
            "--kube-admin-url",
            kube_url,
            "--kube-ca-file",
            str(kube_ca),
            *trust,
        ],
    )
    arm_url = wait_for_line(arm, r"arm emulator ready on (\S+)", stopping=stopping).group(1)
    sample = json.loads(SAMPLE_SETTINGS.read_text(encoding="utf-8"))["Values"]
    servicebus = stack.start(
        "servicebus",
        [
            python,
            "-m",
            "emulators.servicebus",
            "--port",
            "0",
            "--queue",
            sample["SERVICEBUS_REQUESTS_QUEUE"],
            "--queue",
            sample["SERVICEBUS_EVENTS_QUEUE"],
        ],
    )
    sb_connection = wait_for_line(servicebus, r"connection_string=(\S+)", stopping=stopping).group(1)
    port = args.port if args.port != 0 else free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **app_settings(
            arm_url=arm_url,
            arm_ca=arm_ca,
            storage=storage,
            servicebus=sb_connection,
            fast=args.fast,
            public_url=url,
            entra=entra,
        ),
    }
    keys_file = state / "keys.json"
    devhost = stack.start(
        "devhost",
        [
            python,
            "-m",
            "devhost",
            "--app-dir",
            str(REPO),
            "--port",
            str(port),
            "--store",
            str(state / "taskhub.sqlite"),
            "--keys",
            str(keys_file),
        ],
        env=env,
        to_terminal=args.devhost_logs,
    )
    wait_for_http(f"{url}/api/health", devhost, stopping=stopping)
    token = entra.token() if entra else None
    return url, host_key(keys_file), demo_facts(arm_url, arm_ca, sb_connection, state, token)


def start_entra(stack: Stack, stopping: threading.Event) -> EntraStandIn:
    """Start the Entra stand-in over HTTPS with the product's application (a fresh secret each run)."""
    ca_file = stack.state_dir / "entra-ca.pem"
    secret = secrets.token_urlsafe(24)
    argv = [sys.executable, "-m", "emulators.entra", "--port", "0", "--tls", "--ca-file", str(ca_file)]
    argv += ["--application", f"{PRODUCT_CLIENT_ID}:{PRODUCT_OBJECT_ID}"]
    entra = stack.start("entra", argv, env={**os.environ, "ENTRA_APPLICATION_SECRET": secret})
    ready = wait_for_line(entra, r"entra ready url=(\S+) tenant=(\S+)", stopping=stopping)
    return EntraStandIn(ready.group(1), ready.group(2), ca_file, secret)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(prog="scripts/run_local.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=7071, help="devhost's HTTP port (0: any free port)")
    parser.add_argument(
        "--state-dir", default=str(REPO / ".devhost" / "run"), help="logs, CA files, task hub and keys"
    )
    parser.add_argument(
        "--fast", action="store_true", help="no emulated registration/install delays, sub-second backoff"
    )
    parser.add_argument(
        "--keep-state",
        action="store_true",
        help="keep the previous run's registry and task hub (the emulators still start from the seed)",
    )
    parser.add_argument(
        "--quiet-devhost",
        dest="devhost_logs",
        action="store_false",
        help="send devhost's log to the state dir instead of this terminal",
    )
    parser.add_argument(
        "--static-token",
        action="store_true",
        help="no Entra stand-in: the app uses ARM_STATIC_TOKEN and the emulators accept any bearer token",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start everything, print instructions, and wait for Ctrl-C or SIGTERM."""
    args = parse_args(argv)
    state_dir = Path(args.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    state = reset_state(state_dir, args.keep_state)
    stack = Stack(state_dir)
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        url, key, facts = start_everything(stack, args, stopping)
        write_demo_file(state_dir / DEMO_FILE, url, key, facts)
        print(instructions(url, key, state_dir / "keys.json", facts, state), flush=True)
        while not stopping.is_set():
            time.sleep(0.5)
            dead = [c.name for c in stack.children if c.process.poll() is not None]
            if dead:
                print(f"{', '.join(dead)} exited unexpectedly; stopping", file=sys.stderr, flush=True)
                return 1
        return 0
    except Interrupted:
        return 0  # asked to stop before it was ready: as after Ready, everything started is stopped below
    except RuntimeError as error:
        print(f"run_local: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("Stopping...", flush=True)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
