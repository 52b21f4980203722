"""Composition root: builds the Durable Functions app and registers the blueprints. Nothing else."""

import azure.durable_functions as df
import azure.functions as func

from activities import bp as activities_bp
from activities.connection_settings import check_app_connections
from orchestrators import bp as orchestrators_bp
from telemetry import configure as configure_telemetry
from triggers import bp as triggers_bp

# Settings that are present but not understood stop the app here, not at the first registry call.
check_app_connections()
# OpenTelemetry to Application Insights, only when APPLICATIONINSIGHTS_CONNECTION_STRING is set.
configure_telemetry()

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (triggers_bp, orchestrators_bp, activities_bp):
    app.register_functions(blueprint)
