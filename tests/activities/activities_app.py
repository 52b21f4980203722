"""A Functions app holding only the activities blueprint, so tests can index it without touching function_app.

(`get_functions()` may run once per app instance; the product's app belongs to the host-level tests.)
"""

import azure.durable_functions as df

from activities import bp

app = df.DFApp()
app.register_functions(bp)
