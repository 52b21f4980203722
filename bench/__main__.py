"""`python -m bench`: print the devhost engine's overhead table, the event-publishing latency table, then the
product benchmark's four tables (bench/product.py)."""

from __future__ import annotations

import argparse
import logging
import platform
import sys

from bench import event_publishing, product
from bench.devhost_overhead import run, table


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the benchmark, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("-n", "--orchestrations", type=int, default=50)
    parser.add_argument("-m", "--activities", type=int, default=10, help="activities per orchestration")
    parser.add_argument("--store", choices=["sqlite", "memory", "both"], default="both")
    parser.add_argument("--events", type=int, default=200, help="outcome events published in a row")
    parser.add_argument("--product-only", action="store_true", help="print only the product benchmark")
    parser.add_argument("--no-product", action="store_true", help="skip the product benchmark")
    product.add_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not args.product_only:
        engine_tables(args)
    if not args.no_product:
        product.run(args)
    return 0


def engine_tables(args: argparse.Namespace) -> None:
    """The devhost overhead and event-publishing tables."""
    stores = ("sqlite", "memory") if args.store == "both" else (args.store,)
    results = run(args.orchestrations, args.activities, stores)
    print(f"devhost Durable engine overhead (Python {platform.python_version()}, {platform.machine()})")
    print(table(results))
    print()
    print("publish_outcome on the Service Bus emulator (one long-lived sender)")
    print(event_publishing.table(event_publishing.run(args.events)))
    print()


if __name__ == "__main__":
    sys.exit(main())
