"""The only code that talks to Azure, Kubernetes or storage, as Durable activities."""

import azure.durable_functions as df

bp = df.Blueprint()
