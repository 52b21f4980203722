"""A local Durable Functions engine: replays orchestrations through the SDK's own handler."""

from devhost.durable.engine import DurableEngine, EngineError, InvocationRecord

__all__ = ["DurableEngine", "EngineError", "InvocationRecord"]
