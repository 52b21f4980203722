"""`python -m emulators.kube --port P [--state seed.yaml] [--ca-file out.pem] [--entra-authority URL
--entra-ca-file F]`."""

import argparse
import sys

from emulators.common.entra_trust import EntraTrust
from emulators.common.process import argument_parser, run

from .emulator import KubeEmulator


def build(args: argparse.Namespace) -> KubeEmulator:
    """Build the emulator; Entra-integrated clusters verify tokens when an Entra authority is given."""
    emulator = KubeEmulator()
    if args.entra_authority:
        emulator.trust_entra(EntraTrust.discover(args.entra_authority, args.entra_ca_file))
    return emulator


if __name__ == "__main__":
    parser = argument_parser("kube")
    parser.add_argument("--entra-authority", help="https://host:port/<tenant> of the Entra stand-in")
    parser.add_argument("--entra-ca-file", help="CA PEM the Entra stand-in serves with")
    sys.exit(run(build, "kube", parser=parser))
