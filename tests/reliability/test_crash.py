# mypy: disable-error-code="union-attr"
"""Proof 4, crashes: devhost and Azurite SIGKILLed at seeded random moments while connections are created.

The product runs as under `make run`: Azurite (persistent, in a folder: it keeps its tables across a restart),
the kube, ARM (fast demo seed) and Service Bus emulators and `python -m devhost`, each a process, started
with scripts/run_local.py's own helpers. N connections are PUT one after another (a quarter with workload
identity); after some of them devhost is SIGKILLed and restarted on the same task hub and keys, or Azurite is
SIGKILLed and restarted on the same folder and ports. A client retries a PUT whose connection broke or that
was answered 503, as an ARM client does. Then the same N connections are created without any kill (the clean
run, in its own namespace, on the same emulators).

Asserted, once with devhost killed and once with Azurite killed: every operation reached a terminal state,
every one Succeeded, and the emulators' final state (Secrets, federated credentials, role assignments) of the
crashed run equals the clean run's, with nothing twice. `make test`: 20 operations, 2 devhost kills, 1 Azurite
kill; `make proof`: 50, 5 and 2.

Assumption (Azurite, not Azure): Azurite's persistent mode saves its tables every 5 s (LokiJS autosave), so
a SIGKILL loses the writes of the last seconds, acknowledged ones included; Azure Table Storage never loses an
acknowledged write. When the registry record of an accepted PUT vanished that way, the product cannot carry
out the request (the record held its desired state), so the proof asserts what it must do instead: the
operation ends Failed with ConnectionNotFound, nothing it wrote stays on the cluster, and the same PUT sent
again (as the user whose operation failed would) Succeeds; the final state is then compared as above. A
completed operation whose own last write was lost is settled from its output when read.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from azure.mgmt.msi import ManagedServiceIdentityClient

from connector import naming
from emulators.azurite import Azurite
from tests.fixtures.arm import StaticTokenCredential
from tests.reliability.figures import record, scaled
from tests.reliability.state_dump import StateDump, dump

REPO = Path(__file__).resolve().parents[2]
SUB = "00000000-0000-0000-0000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-demo"
CLUSTERS = (
    f"{RG}/providers/Microsoft.ContainerService/managedClusters/aks-demo-1",
    f"{RG}/providers/Microsoft.ContainerService/managedClusters/aks-demo-2",
)
BLOB = f"{RG}/providers/Microsoft.Storage/storageAccounts/stdemo0001/blobServices/default"
API = "2022-05-01"
OPERATIONS = scaled(20, 50)
DEVHOST_KILLS = scaled(2, 5)
AZURITE_KILLS = scaled(1, 2)
SEED = 20260109
SETTLE_SECONDS = scaled(60, 600)
TOKEN = "local-emulator-token"


def _run_local() -> ModuleType:
    """scripts/run_local.py as a module (scripts/ is not a package): how `make run` starts each process."""
    spec = importlib.util.spec_from_file_location("run_local_for_proofs", REPO / "scripts" / "run_local.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@dataclass
class Product:
    """The product and its stand-ins as processes; devhost and Azurite can be killed and started again."""

    run_local: Any
    stack: Any
    state: Path
    azurite: Azurite
    env: dict[str, str]
    url: str
    arm_url: str
    arm_ca: str
    devhost: Any = None
    devhost_starts: int = 0

    def start_devhost(self) -> None:
        """`python -m devhost` on the same port, task hub and keys as before."""
        self.devhost_starts += 1
        port = self.url.rsplit(":", 1)[1]
        self.devhost = self.stack.start(
            f"devhost-{self.devhost_starts}",
            [
                sys.executable,
                "-m",
                "devhost",
                "--app-dir",
                str(REPO),
                "--port",
                port,
                "--store",
                str(self.state / "taskhub.sqlite"),
                "--keys",
                str(self.state / "keys.json"),
            ],
            env=self.env,
        )
        self.run_local.wait_for_http(f"{self.url}/api/health", self.devhost)

    def kill_devhost(self) -> None:
        """SIGKILL devhost by its PID (no shutdown of any kind), then start it again."""
        os.kill(self.devhost.process.pid, signal.SIGKILL)
        self.devhost.process.wait(10)
        self.start_devhost()

    def kill_azurite(self) -> None:
        """SIGKILL Azurite by its PID, then start it again on the same folder and ports."""
        assert self.azurite.pid is not None
        os.kill(self.azurite.pid, signal.SIGKILL)
        time.sleep(0.2)
        self.azurite.restart()

    @property
    def key(self) -> str:
        """The host key devhost wrote."""
        return str(self.run_local.host_key(self.state / "keys.json"))

    def http(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One call to the product; (0, None) when the connection failed."""
        status, answer, _ = self.http_with_headers(method, path, body)
        return status, answer

    def http_with_headers(self, method: str, path: str, body: Any = None) -> tuple[int, Any, dict[str, str]]:
        """One call to the product with the answer's headers; (0, None, {}) when the connection failed."""
        data = None if body is None else json.dumps(body).encode()
        url = path if path.startswith("http") else self.url + path
        request = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "x-functions-key": self.key},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null"), dict(response.headers)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw or b"null"), dict(error.headers)
            except ValueError:
                return error.code, raw.decode(errors="replace"), dict(error.headers)
        except OSError:
            return 0, None, {}


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    """Azurite (persistent), kube, ARM, Service Bus and devhost as processes, as `make run` starts them."""
    run_local = _run_local()
    state = tmp_path_factory.mktemp("crash")
    stack = run_local.Stack(state)
    azurite = Azurite(location=state / "azurite")
    azurite.start()
    try:
        python = sys.executable
        kube_ca = state / "kube-ca.pem"
        kube = stack.start("kube", [python, "-m", "emulators.kube", "--port", "0", "--ca-file", str(kube_ca)])
        kube_url = run_local.wait_for_line(kube, r"kube emulator ready on (\S+)").group(1)
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
                str(run_local.seed_file(state, True)),
                "--ca-file",
                str(arm_ca),
                "--kube-admin-url",
                kube_url,
                "--kube-ca-file",
                str(kube_ca),
            ],
        )
        arm_url = run_local.wait_for_line(arm, r"arm emulator ready on (\S+)").group(1)
        servicebus = stack.start(
            "servicebus",
            [python, "-m", "emulators.servicebus", "--port", "0", "--queue", "requests", "--queue", "events"],
        )
        sb = run_local.wait_for_line(servicebus, r"connection_string=(\S+)").group(1)
        url = f"http://127.0.0.1:{run_local.free_port()}"
        settings = run_local.app_settings(
            arm_url=arm_url,
            arm_ca=arm_ca,
            storage=azurite.connection_string,
            servicebus=sb,
            fast=True,
            public_url=url,
        )
        settings.update({"SERVICEBUS_REQUESTS_QUEUE": "requests", "SERVICEBUS_EVENTS_QUEUE": "events"})
        running = Product(
            run_local, stack, state, azurite, {**os.environ, **settings}, url, arm_url, str(arm_ca)
        )
        running.start_devhost()
        yield running
    finally:
        stack.stop()
        azurite.stop()


def linker_path(run: str, n: int) -> str:
    """The n-th connection of a run (`crash` or `clean`), alternating between the demo clusters."""
    return f"{CLUSTERS[n % 2]}/providers/Microsoft.ServiceLinker/linkers/{run}{n:03d}"


def body(run: str, n: int, client_id: str) -> dict[str, Any]:
    """Secret auth on Blob, or (every fourth) workload identity; each run in its own namespace."""
    auth: dict[str, Any] = {"authType": "secret"}
    if n % 4 == 3:
        auth = {"authType": "userAssignedIdentity", "clientId": client_id, "subscriptionId": SUB}
    return {
        "properties": {
            "targetService": {"type": "AzureResource", "id": BLOB},
            "authInfo": auth,
            "clientType": "python",
            "scope": run,
        }
    }


def put(product: Product, run: str, n: int, client_id: str, deadline: float) -> list[int]:
    """PUT one connection as a client would: retried on a broken connection or a 503; the statuses seen.
    The accepted operation's status URL is kept in OPERATION_URLS."""
    seen = []
    while True:
        path = f"{linker_path(run, n)}?api-version={API}"
        status, answer, headers = product.http_with_headers("PUT", path, body(run, n, client_id))
        seen.append(status)
        if status in (200, 201):
            OPERATION_URLS[(run, n)] = headers.get("Azure-AsyncOperation", "")
            return seen
        assert status in (0, 503), f"PUT {run}{n:03d} answered {status}: {answer}"
        assert time.monotonic() < deadline, f"PUT {run}{n:03d} never accepted: {seen}"
        time.sleep(0.5)


OPERATION_URLS: dict[tuple[str, int], str] = {}


def operation_outcome(product: Product, run: str, n: int, deadline: float) -> dict[str, Any]:
    """The accepted operation's final status body (polled until terminal, or as it is at the deadline)."""
    while True:
        status, answer = product.http("GET", OPERATION_URLS[(run, n)])
        if status == 200 and answer.get("status") in ("Succeeded", "Failed", "Canceled"):
            return dict(answer)
        if time.monotonic() > deadline:
            return {"status": f"HTTP {status}", "body": answer}
        time.sleep(0.5)


def settle(product: Product, run: str, deadline: float) -> dict[int, str]:
    """Each connection's provisioningState once every one is terminal (or as it is at the deadline)."""
    states: dict[int, str] = {}
    while True:
        for n in range(OPERATIONS):
            if states.get(n) in ("Succeeded", "Failed"):
                continue
            status, answer = product.http("GET", f"{linker_path(run, n)}?api-version={API}")
            states[n] = answer["properties"]["provisioningState"] if status == 200 else f"HTTP {status}"
            if status == 404 and not operation_ended(product, run, n):
                states[n] = "HTTP 404 (its operation still runs)"
        if (
            all(s in ("Succeeded", "Failed", "HTTP 404") for s in states.values())
            or time.monotonic() > deadline
        ):
            return states
        time.sleep(0.5)


def operation_ended(product: Product, run: str, n: int) -> bool:
    """True when the operation the PUT of connection n started has ended (its record may be gone)."""
    status, answer = product.http("GET", OPERATION_URLS[(run, n)])
    return status == 200 and answer.get("status") in ("Succeeded", "Failed", "Canceled")


def reconcile_orphans(product: Product, deadline: float) -> set[str]:
    """Run a reconcile (POST /api/reconcile) and return the names of the Secrets it reported as orphans."""
    status, answer, headers = product.http_with_headers("POST", "/api/reconcile")
    assert status == 202, (status, answer)
    url = headers.get("Azure-AsyncOperation") or answer["statusQueryGetUri"]
    while True:
        status, answer = product.http("GET", url)
        if status == 200 and answer.get("status") in ("Succeeded", "Failed"):
            break
        assert time.monotonic() < deadline, answer
        time.sleep(0.5)
    details = ((answer.get("properties") or {}).get("details")) or []
    return {o["name"] for d in details for o in d.get("orphans") or [] if o.get("kind") == "Secret"}


def owned_secrets(product: Product, run: str, numbers: list[int]) -> list[int]:
    """Which of the run's connections `numbers` have a Secret on the cluster now."""
    if not numbers:
        return []
    state = dump(product.arm_url, product.arm_ca, StaticTokenCredential(TOKEN))
    owned = {h for _, _, h, _ in state.secrets}
    return [n for n in numbers if naming.linker_hash(linker_path(run, n)) in owned]


def normalized(state: StateDump, run: str) -> dict[str, Any]:
    """The part of the emulators' state a run owns, with the run's name taken out (so two runs compare)."""
    owners = {naming.linker_hash(linker_path(run, n)): n for n in range(OPERATIONS)}
    return {
        "secrets": sorted((cluster, owners[h], data) for cluster, _, h, data in state.secrets if h in owners),
        "federatedCredentials": sorted(
            (identity, issuer, subject.replace(f":{run}:", ":<ns>:"))
            for identity, _, issuer, subject in state.federated_credentials
            if f":{run}:" in subject
        ),
        "roleAssignments": sorted(state.role_assignments),
    }


@pytest.mark.parametrize("victim", ["devhost", "azurite"])
def test_a_killed_process_loses_no_operation_and_leaves_the_state_of_a_clean_run(
    product: Product, victim: str
) -> None:
    msi = ManagedServiceIdentityClient(
        StaticTokenCredential(TOKEN), SUB, base_url=product.arm_url, connection_verify=product.arm_ca
    )
    client_id = str(msi.user_assigned_identities.get("rg-demo", "id-demo-workload").client_id)
    rng = random.Random(SEED)
    kills = [victim] * (DEVHOST_KILLS if victim == "devhost" else AZURITE_KILLS)
    crash_run, clean_run = f"{victim}crash", f"{victim}clean"
    after = sorted(rng.sample(range(1, OPERATIONS - 1), len(kills)))  # kill after these PUTs
    started = time.monotonic()
    deadline = started + SETTLE_SECONDS
    put_statuses: list[int] = []
    killed_after: list[str] = []
    for n in range(OPERATIONS):
        put_statuses += put(product, crash_run, n, client_id, deadline)
        while after and after[0] == n:
            after.pop(0)
            time.sleep(rng.uniform(0.0, 1.0))  # a seeded moment while the operations run
            killed_after.append(f"{kills[0]} after PUT {n}")
            getattr(product, f"kill_{kills.pop(0)}")()
    crashed = settle(product, crash_run, deadline)
    crash_seconds = time.monotonic() - started
    # Azurite loses its last seconds of writes on a SIGKILL (see the module docstring): a connection whose
    # accepted PUT's record vanished must end in a terminal, explained state with nothing left on the
    # cluster; the client then sends it again, as a user whose operation failed would.
    vanished = sorted(n for n, s in crashed.items() if s == "HTTP 404")
    later = time.monotonic() + SETTLE_SECONDS
    outcomes = {n: operation_outcome(product, crash_run, n, later) for n in vanished}
    failed_vanished = [n for n in vanished if outcomes[n].get("status") != "Succeeded"]
    secrets_of_failed = owned_secrets(product, crash_run, failed_vanished)
    # An operation that had Succeeded before its record was lost left its Secret with nobody owning it: the
    # next reconcile must report it as an orphan.
    orphans = reconcile_orphans(product, later) if len(failed_vanished) < len(vanished) else set()
    unreported = [
        n
        for n in vanished
        if n not in failed_vanished and naming.secret_name(f"{crash_run}{n:03d}") not in orphans
    ]
    for n in vanished:
        put_statuses += put(product, crash_run, n, client_id, time.monotonic() + SETTLE_SECONDS)
    if vanished:
        crashed.update(settle(product, crash_run, time.monotonic() + SETTLE_SECONDS))

    for n in range(OPERATIONS):
        put(product, clean_run, n, client_id, time.monotonic() + SETTLE_SECONDS)
    clean = settle(product, clean_run, time.monotonic() + SETTLE_SECONDS)
    state = dump(product.arm_url, product.arm_ca, StaticTokenCredential(TOKEN))
    same = normalized(state, crash_run) == normalized(state, clean_run)
    record(
        f"crash ({victim})",
        f"{OPERATIONS} operations, {victim} SIGKILLed {len(killed_after)}x: "
        f"{sum(s == 'Succeeded' for s in crashed.values())} Succeeded, "
        f"{sum(s == 'Failed' for s in crashed.values())} Failed, "
        f"{sum(s not in ('Succeeded', 'Failed') for s in crashed.values())} not terminal; "
        f"{len(vanished)} records lost by the store ({len(failed_vanished)} operations Failed "
        f"ConnectionNotFound leaving nothing, {len(vanished) - len(failed_vanished)} Succeeded before the "
        f"loss and their Secrets reported as orphans; all Succeeded when sent again); "
        f"{put_statuses.count(0) + put_statuses.count(503)} PUTs retried; final state "
        f"{'equals' if same else 'differs from'} a clean "
        f"run's ({state.summary()}); {crash_seconds:.0f} s",
    )
    lost = {n: s for n, s in crashed.items() if s != "Succeeded"}
    if victim == "devhost":
        assert not vanished, f"devhost's crash lost records {vanished}"
    for n in failed_vanished:
        assert outcomes[n].get("status") == "Failed", (n, outcomes[n])
        assert (outcomes[n].get("error") or {}).get("code") == "ConnectionNotFound", (n, outcomes[n])
    assert not secrets_of_failed, f"Secrets left by failed operations of lost records: {secrets_of_failed}"
    assert not unreported, f"Secrets of lost records not reported as orphans: {unreported}"
    owned = {h for _, _, h, _ in state.secrets}
    with_secret = sorted(n for n in lost if naming.linker_hash(linker_path(crash_run, n)) in owned)

    assert clean == dict.fromkeys(range(OPERATIONS), "Succeeded"), clean
    assert not lost, f"kills: {killed_after}; not Succeeded: {lost}; of those, with a Secret: {with_secret}"
    assert not state.duplicates(), state.duplicates()
    assert same, (normalized(state, crash_run), normalized(state, clean_run))
