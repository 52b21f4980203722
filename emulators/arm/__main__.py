"""`python -m emulators.arm --port P [--state seed.yaml] [--ca-file out.pem] [--kube-admin-url U
--kube-ca-file F] [--entra-authority URL --entra-ca-file F]`: the ARM emulator as a process.

Without `--entra-authority` any bearer token is accepted (the documented fallback); with it, tokens are
verified against the Entra stand-in's published keys (emulators/arm/auth.py)."""

from __future__ import annotations

import argparse
import sys

from emulators.arm.emulator import ArmEmulator
from emulators.common.process import argument_parser, run


def build(args: argparse.Namespace) -> ArmEmulator:
    """Build the emulator, linked to a running kube emulator when its admin URL is given."""
    kube = None
    if args.kube_admin_url:
        from emulators.kube.link import KubeLink

        kube = KubeLink(args.kube_admin_url, args.kube_ca_file)
    emulator = ArmEmulator(kube=kube)
    if args.entra_authority:
        from emulators.common.entra_trust import EntraTrust

        emulator.trust_entra(EntraTrust.discover(args.entra_authority, args.entra_ca_file))
    return emulator


def main() -> int:
    """Parse arguments and serve until SIGTERM/SIGINT."""
    parser = argument_parser("arm")
    parser.add_argument("--kube-admin-url", help="admin URL of the kube emulator (https://127.0.0.1:P)")
    parser.add_argument("--kube-ca-file", help="CA PEM the kube emulator serves with")
    parser.add_argument("--entra-authority", help="https://host:port/<tenant> of the Entra stand-in")
    parser.add_argument("--entra-ca-file", help="CA PEM the Entra stand-in serves with")
    return run(build, "arm", parser=parser)


if __name__ == "__main__":
    sys.exit(main())
