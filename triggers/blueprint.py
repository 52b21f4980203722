"""The one blueprint every entry point registers on (function_app.py registers it)."""

import azure.durable_functions as df

bp = df.Blueprint()
