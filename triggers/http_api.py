"""The ServiceLinker-compatible HTTP API for managedCluster sources."""

import json

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint()


@bp.route(route="api/health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """Liveness probe: answers 200 when the app is loaded."""
    return func.HttpResponse(json.dumps({"status": "Healthy"}), mimetype="application/json")
