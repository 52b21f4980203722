"""Composition root: builds the Durable Functions app and registers the blueprints. Nothing else."""

import azure.durable_functions as df
import azure.functions as func

from activities import bp as activities_bp
from orchestrators import bp as orchestrators_bp
from triggers import bp as triggers_bp

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (triggers_bp, orchestrators_bp, activities_bp):
    app.register_functions(blueprint)
