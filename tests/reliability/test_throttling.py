"""Proof 5, the throttling storm: N connections created at once under ARM's documented throttling.

The ARM emulator runs ARM's token buckets (per principal: reads 250 burst / 25 per s, writes 200 burst /
10 per s, deletes 200 / 10) on its own clock, which the Durable harness moves with its timers: a 429's
Retry-After is waited out in virtual time, so the storm takes seconds, not minutes. N connect orchestrations
(the real function_app) start together on both demo clusters; every one must succeed: 0 operations failed by
429, however many requests ARM throttled on the way.

`make test`: 100 connections; `make proof`: 500.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

from connector import naming
from tests.fixtures import arm as arm_fixtures
from tests.fixtures import kube as kube_fixtures
from tests.orchestrations import conftest as orchestrations
from tests.orchestrations.conftest import POLICY, REF_1, REF_2, Env, secret_connection
from tests.reliability.durable_runs import EmulatorsClock, run_orchestrations
from tests.reliability.figures import record, scaled
from tests.reliability.state_dump import dump

# The orchestration tests' fixtures (session emulators and Azurite: tests/reliability/conftest.py).
env, app_index = orchestrations.env, orchestrations.app_index
arm, kube = arm_fixtures.arm, kube_fixtures.kube

CONNECTIONS = scaled(100, 500)


def test_a_storm_of_connections_under_arm_throttling_loses_none_to_429(env: Env, kube_emulator: Any) -> None:
    env.arm.instant()  # registration and extension installs settle at once: the storm is about throttling
    throttle = env.arm.admin.call("POST", "/arm/throttle", {"preset": "arm", "clock": "emulator"})
    figures = ("reads", "readsPerSecond", "writes", "writesPerSecond")
    assert [throttle[k] for k in figures] == [250, 25, 200, 10]
    starts: list[tuple[str, str, dict[str, Any]]] = []
    for n in range(CONNECTIONS):
        connection = secret_connection(f"storm{n:04d}", cluster=(REF_1, REF_2)[n % 2], namespace=f"ns{n % 7}")
        linker_id = env.put_connection(connection)
        payload = {"linkerId": linker_id, "operationId": uuid.uuid4().hex, "policy": POLICY}
        starts.append(("connect", f"storm-{n:04d}", payload))
    env.clear_journals()

    clock = EmulatorsClock(env.arm.clock, kube_emulator.clock)
    virtual_start, wall_start = clock.now(), time.monotonic()
    runs = run_orchestrations(env.index, clock, starts)
    wall = time.monotonic() - wall_start
    virtual = (clock.now() - virtual_start).total_seconds()
    env.arm.admin.call("DELETE", "/arm/throttle")

    outcomes = Counter(
        (r.output or {}).get("provisioningState", r.status["runtimeStatus"]) for r in runs.values()
    )
    failed_by_429 = [
        r.output["error"]
        for r in runs.values()
        if (r.output or {}).get("error") and r.output["error"].get("category") == "throttled"
    ]
    arm_calls = env.arm_calls()
    throttled = [e for e in arm_calls if e["status"] == 429]
    state = dump(env.arm.url, env.arm.ca_file, env.arm.credential)
    record(
        "throttling storm",
        f"{CONNECTIONS} connections under ARM's token buckets (reads 250/25 per s, writes 200/10 per s): "
        f"{outcomes.get('Succeeded', 0)} Succeeded, {len(failed_by_429)} failed by 429; ARM answered "
        f"{len(throttled)} of {len(arm_calls)} requests 429; {virtual:.0f} s virtual, {wall:.0f} s wall",
    )

    assert not failed_by_429, failed_by_429[:3]
    assert outcomes == {"Succeeded": CONNECTIONS}, outcomes
    # The storm really was throttled (500 connections: ~1,000 writes against a bucket of 200), and no 429
    # left a duplicate or a missing Secret behind.
    if CONNECTIONS * 2 > 200:
        assert throttled, "the storm never reached ARM's limits; it proves nothing"
    assert not state.duplicates(), state.duplicates()
    owners = {s[2] for s in state.secrets}
    assert owners == {naming.linker_hash(p["linkerId"]) for _, _, p in starts}
