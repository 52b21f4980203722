"""`python -m emulators.arm --port P [--state seed.yaml] [--ca-file out.pem] [--kube-admin-url U
--kube-ca-file F]`: the ARM emulator as a process."""

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
    return ArmEmulator(kube=kube)


def main() -> int:
    """Parse arguments and serve until SIGTERM/SIGINT."""
    parser = argument_parser("arm")
    parser.add_argument("--kube-admin-url", help="admin URL of the kube emulator (https://127.0.0.1:P)")
    parser.add_argument("--kube-ca-file", help="CA PEM the kube emulator serves with")
    return run(build, "arm", parser=parser)


if __name__ == "__main__":
    sys.exit(main())
