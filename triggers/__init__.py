"""Entry points: the ServiceLinker-compatible HTTP API, Service Bus messages and the reconciliation timer."""

from triggers import http_api, schedule, servicebus  # noqa: F401  (each registers its functions on `bp`)
from triggers.blueprint import bp

__all__ = ["bp"]
