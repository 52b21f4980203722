"""`aks-connector`: the operator's command line for this Service Connector, shaped like `az aks connection`.

It talks to the product only over its HTTP API (ServiceLinker routes plus the product's own), so it works
the same against `make run` and a deployed app. It imports `connector` (pure, no I/O) for the target
catalog only.
"""
