"""Entry points: the ServiceLinker-compatible HTTP API, Service Bus messages and the reconciliation timer."""

from triggers.http_api import bp

__all__ = ["bp"]
