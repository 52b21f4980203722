"""The product benchmark (issue 10): create throughput against its floor, reconcile cost at scale, repair of
drift, and calls per connection. Each part starts its own in-process stack (bench/product_stack.py), so one
part's state never slows another's; every pass has a timeout, so the benchmark always ends by itself.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from bench import product_calls, product_create, product_reconcile
from bench.product_stack import product_stack

DEFAULT_SIZES = "1000,5000,10000"


def add_options(parser: argparse.ArgumentParser) -> None:
    """The product benchmark's options on `python -m bench`."""
    group = parser.add_argument_group("product benchmark")
    group.add_argument(
        "--create", type=int, default=500, help="connections created through the API (0: skip)"
    )
    group.add_argument(
        "--create-concurrency", type=int, default=20, help="client threads (product and floor)"
    )
    group.add_argument(
        "--product-sizes",
        default=DEFAULT_SIZES,
        help="connections per no-drift reconcile pass, comma-separated ('' or 0: skip)",
    )
    group.add_argument("--clusters", type=int, default=100, help="clusters the reconcile fleet spreads over")
    group.add_argument("--namespaces", type=int, default=4, help="namespaces per cluster in the fleet")
    group.add_argument(
        "--drift",
        type=float,
        default=0.01,
        help="share of Secrets drifted before the pass at the largest size (0: skip)",
    )
    group.add_argument("--reconcile-timeout", type=float, default=240.0, help="seconds per reconcile pass")
    group.add_argument(
        "--reconcile-budget",
        type=float,
        default=600.0,
        help="seconds for all no-drift passes together; larger sizes are skipped past it",
    )
    group.add_argument("--no-calls", action="store_true", help="skip the calls-per-connection table")


def _sizes(text: str) -> list[int]:
    return sorted({int(part) for part in text.replace(" ", "").split(",") if part and int(part) > 0})


def _section(title: str, build: Callable[[], str]) -> None:
    started = time.perf_counter()
    print(title, flush=True)
    print(build(), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)", flush=True)
    print(flush=True)


def _create(args: argparse.Namespace) -> str:
    with product_stack() as stack:
        return product_create.table(product_create.run(stack, args.create, args.create_concurrency))


def _reconcile(args: argparse.Namespace, sizes: list[int]) -> None:
    with product_stack() as stack:
        fleet = product_reconcile.Fleet(stack, clusters=args.clusters, namespaces=args.namespaces)
        budget_end = time.monotonic() + args.reconcile_budget
        _section(
            f"Reconcile without drift ({args.clusters} clusters x {args.namespaces} namespaces, secret auth "
            "on the demo blob service; seeded directly: ARM seed, kube emulator in-process seed of each "
            "Secret as build_secret renders it, registry.put_record from 16 threads)",
            lambda: _no_drift(fleet, sizes, args, budget_end),
        )
        if args.drift <= 0:
            return
        complete = fleet.size == sizes[-1] and not fleet.over_budget
        _section(
            f"Reconcile with {args.drift:.0%} drift at {fleet.size:,} (half the drifted Secrets deleted, "
            "half with one value changed)",
            lambda: product_reconcile.drift_table(
                product_reconcile.run_drift(fleet, args.reconcile_timeout, args.drift) if complete else None,
                f"the {sizes[-1]:,} no-drift pass did not complete",
            ),
        )


def _no_drift(
    fleet: product_reconcile.Fleet, sizes: list[int], args: argparse.Namespace, budget_end: float
) -> str:
    results = product_reconcile.run_sizes(fleet, sizes, args.reconcile_timeout, budget_end)
    done = {r.connections for r in results}
    return product_reconcile.no_drift_table(results, [s for s in sizes if s not in done])


def run(args: argparse.Namespace) -> None:
    """Print the four product tables that the options ask for."""
    if args.create > 0:
        _section(
            f"Create {args.create} connections through the HTTP API on devhost (fast emulators), against the "
            "floor: the same ARM and Kubernetes calls issued directly with the product's clients",
            lambda: _create(args),
        )
    sizes = _sizes(args.product_sizes)
    if sizes:
        _reconcile(args, sizes)
    if not args.no_calls:
        _section(
            "Calls per connection (one connect; fresh = first on aks-demo-2, ready = the next one)",
            lambda: product_calls.table(product_calls.run()),
        )
