"""Durable workflows: connect, disconnect, reconcile, reset_extension (deterministic generators only)."""

import azure.durable_functions as df

bp = df.Blueprint()
