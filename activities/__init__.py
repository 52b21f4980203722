"""The only code that talks to Azure, Kubernetes or storage, as Durable activities."""

import azure.durable_functions as df

bp = df.Blueprint()

# Registers every activity on `bp` (imported after `bp` exists: durable.py decorates with it).
from activities import durable as _durable  # noqa: E402,F401
