"""`python -m emulators.kube --port P [--state seed.yaml] [--ca-file out.pem]`."""

from emulators.common.process import main

from .emulator import KubeEmulator

if __name__ == "__main__":
    main(lambda args: KubeEmulator(), "kube")
