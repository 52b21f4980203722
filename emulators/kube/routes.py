"""The route table: every served path under `/clusters/{cluster}`, per kind and verb."""

from __future__ import annotations

from functools import partial

from emulators.common import Router

from .handlers import KubeHandlers
from .kinds import KINDS, POD

CLUSTER_PREFIX = "/clusters/{cluster:[a-z0-9-]+}"


def register_routes(router: Router, handlers: KubeHandlers) -> None:
    """Add the Kubernetes API routes of every served kind."""
    guard = handlers.guarded
    for kind in KINDS:
        base = CLUSTER_PREFIX + kind.prefix
        if kind.namespaced:
            collection = f"{base}/namespaces/{{namespace}}/{kind.plural}"
            router.add("GET", f"{base}/{kind.plural}", guard(partial(handlers.list, kind)))
        else:
            collection = f"{base}/{kind.plural}"
        item = collection + "/{name}"
        router.add("GET", collection, guard(partial(handlers.list, kind)))
        router.add("POST", collection, guard(partial(handlers.create, kind)))
        router.add("GET", item, guard(partial(handlers.get, kind)))
        router.add("PUT", item, guard(partial(handlers.replace, kind)))
        router.add("PATCH", item, guard(partial(handlers.patch, kind)))
        router.add("DELETE", item, guard(partial(handlers.delete, kind)))
        if kind.status_subresource:
            router.add("GET", item + "/status", guard(partial(handlers.get, kind)))
        if kind is POD:
            router.add("GET", item + "/log", guard(handlers.pod_log))
    router.add("GET", CLUSTER_PREFIX + "/version", guard(handlers.version))
    router.add("GET", CLUSTER_PREFIX + "/api", guard(handlers.core_versions))
    router.add("GET", CLUSTER_PREFIX + "/api/{version}", guard(handlers.resource_list))
    router.add("GET", CLUSTER_PREFIX + "/apis", guard(handlers.api_groups))
    router.add("GET", CLUSTER_PREFIX + "/apis/{group}", guard(handlers.api_group))
    router.add("GET", CLUSTER_PREFIX + "/apis/{group}/{version}", guard(handlers.resource_list))
    router.add("GET", CLUSTER_PREFIX + "/version/", guard(handlers.version))
