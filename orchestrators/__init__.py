"""Durable workflows: connect, disconnect, reconcile, reset_extension, validate (deterministic generators)."""

import azure.durable_functions as df

bp = df.Blueprint()

# Each module registers its orchestrators on `bp` (imported after `bp` exists: they decorate with it).
from orchestrators import connect as _connect  # noqa: E402,F401
from orchestrators import disconnect as _disconnect  # noqa: E402,F401
from orchestrators import reconcile as _reconcile  # noqa: E402,F401
from orchestrators import reset_extension as _reset_extension  # noqa: E402,F401
from orchestrators import validate as _validate  # noqa: E402,F401
